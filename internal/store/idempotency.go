package store

import "time"

// Idempotency is the stored outcome of a write a client made with an
// idempotency key (the Idempotency-Key header). The write's unit of work
// stores it with the write, so a retried request finds the outcome of the
// first, even when the first's response was lost to a crash after the
// commit, and the write is never made twice.
type Idempotency struct {
	// Key identifies the key in its scope: the service hashes the site,
	// the caller and the client's key together, so one client's key
	// never answers another's request.
	Key []byte
	// SiteID is the site the write was made on; "" for a write of no
	// one site (a bulk decision, a reader's erasure, the global ban).
	SiteID string
	// Request is a hash of the operation and its input: the same key
	// with another request is refused, not answered with this outcome.
	Request []byte
	// Result is the write's outcome as the service encoded it.
	Result []byte
	// Created is when the write was made (set when zero); a key is
	// pruned IdempotencyTTL after it.
	Created time.Time
}

// IdempotencyTTL is how long an idempotency key is kept: a client retries
// a failed request within minutes, the key then only takes space.
const IdempotencyTTL = 24 * time.Hour
