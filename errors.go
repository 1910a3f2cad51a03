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
// that is safe to show to the caller.
type Error struct {
	Code    string
	Message string
	// Reason, when set, is a finer machine-readable cause within Code,
	// e.g. "token_expired" for an EUnauthorized SSO token.
	Reason string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("parley error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
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
