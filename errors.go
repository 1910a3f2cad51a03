package parley

import (
	"errors"
	"fmt"
)

// Error codes. Each layer classifies its failures once with one of these; the
// HTTP layer maps each code to one status in a single table.
const (
	EInvalid      = "invalid"      // the input is malformed or breaks a rule
	ENotFound     = "not_found"    // the thing asked for does not exist
	EConflict     = "conflict"     // the thing already exists or changed meanwhile
	EForbidden    = "forbidden"    // the caller may not do this (closed page, banned reader, wrong site)
	EUnauthorized = "unauthorized" // the caller is not signed in or the credentials are wrong
	ETooLarge     = "too_large"    // the input is over a size limit
	ERateLimited  = "rate_limited" // the caller must slow down
	EUnavailable  = "unavailable"  // a dependency (the database) is unreachable for now
	EInternal     = "internal"     // a bug or an unexpected failure
)

// Error is an application error with a machine-readable code and a message
// that is safe to show to the caller. Err, when set, is the failure that
// caused it (a driver's error, say): kept for the logs, which print Error(),
// and for errors.Is and errors.As through Unwrap, but never shown to the
// caller, who sees Message alone (ErrorMessage).
type Error struct {
	Code    string
	Message string
	// Reason, when set, is a finer machine-readable cause within Code,
	// e.g. "token_expired" for an EUnauthorized SSO token.
	Reason string
	// Err is the underlying cause, for logs only: never shown to a reader.
	Err error
}

// Error implements the error interface; it includes the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("parley error: code=%s message=%s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("parley error: code=%s message=%s", e.Code, e.Message)
}

// Unwrap returns the cause, nil for none.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and a formatted message, safe
// for the caller, caused by err, which is kept for the logs. The message
// must not quote err: a driver's text names tables, columns and hosts.
func Wrap(err error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, and a
// generic message for any other error so that internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorReason returns the Reason of the first *Error in err's chain, "" when
// there is none.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
