package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
)

// classify returns the domain error code of a database error, judged by its
// SQLSTATE (or, for a failure to talk to the server at all, by its Go type)
// and never by its message; "" when the error has no domain meaning.
func classify(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return parley.EConflict
		case "23503": // foreign_key_violation: what the row refers to is missing
			return parley.ENotFound
		case "23502", // not_null_violation
			"23514", // check_violation
			"22001", // string_data_right_truncation
			"22003", // numeric_value_out_of_range
			"22021", // character_not_in_repertoire: a NUL byte or invalid UTF-8 in text
			"22P02", // invalid_text_representation
			"54000": // program_limit_exceeded: a value too large to index
			return parley.EInvalid
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"25006": // read_only_sql_transaction: a standby, e.g. during a failover
			return parley.EUnavailable
		}
		switch pe.Code[:2] {
		case "08", // connection_exception
			"53": // insufficient_resources: too many connections, disk full, out of memory
			return parley.EUnavailable
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return parley.EUnavailable
	}
	return ""
}

// retryable reports whether a transaction failed only because PostgreSQL
// chose it as the victim of a deadlock or a serialization conflict, or
// because it waited too long for a lock (a unit's lock_timeout), so that
// running it again may succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03")
}

// wrap annotates an unexpected error with what was being done. An error that
// says the database cannot be reached also carries EUnavailable, so that the
// caller can answer 503 and retry instead of reporting a bug; its message,
// which may name hosts, stays in the chain for the logs.
func wrap(err error, what string) error {
	if classify(err) == parley.EUnavailable {
		return parley.Wrap(fmt.Errorf("%s: %w", what, err), parley.EUnavailable, "the database is unavailable")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// domainError returns a parley error with the code of err and the message
// when err has a domain meaning (see classify), and wrap(err, what) otherwise.
func domainError(err error, what string, format string, args ...any) error {
	if code := classify(err); code != "" && code != parley.EUnavailable {
		return parley.Wrap(fmt.Errorf("%s: %w", what, err), code, format, args...)
	}
	return wrap(err, what)
}
