package sqlite

import (
	"errors"
	"time"

	"github.com/parleyhq/parley"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// classify returns the domain error code of a driver error, judged by its
// SQLite extended result code and never by its message, or "" when the
// error has no domain meaning and is internal.
func classify(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return parley.EConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return parley.ENotFound
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_TOOBIG:
		return parley.EInvalid
	}
	switch e.Code() & 0xff { // the primary code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return parley.EUnavailable
	}
	return ""
}

// domainError returns a parley error with the code of err when it has one
// (see classify) and the message, caused by err, and err itself otherwise.
// The message is for the caller: it never quotes the driver.
func domainError(err error, format string, args ...any) error {
	if code := classify(err); code != "" {
		return parley.Wrap(err, code, format, args...)
	}
	return err
}

// millis returns t as Unix milliseconds, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis: UTC, and the zero time for 0.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// roundTrip returns t as it reads back from the database.
func roundTrip(t time.Time) time.Time { return fromMillis(millis(t)) }
