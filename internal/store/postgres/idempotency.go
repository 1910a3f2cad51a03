package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Idempotency returns the stored outcome of the write made with the key. ENotFound.
func (db *DB) Idempotency(ctx context.Context, key []byte) (*store.Idempotency, error) {
	r := &store.Idempotency{Key: key}
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(site_id, ''), request, result, created FROM idempotency_keys WHERE key_hash = $1`, key).
		Scan(&r.SiteID, &r.Request, &r.Result, &r.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "idempotency key not found")
	} else if err != nil {
		return nil, wrap(err, "read idempotency key")
	}
	r.Created = r.Created.UTC()
	return r, nil
}

// SaveIdempotency stores the outcome of the unit's write under its key.
// EConflict when the key is stored already; ENotFound for an unknown site.
// A write of no one site (SiteID "") is stored with none (NULL).
// Two instances saving one key at once race for its primary key: the
// second waits for the first's batch and then inserts nothing.
func (t *ptx) SaveIdempotency(r *store.Idempotency) error {
	defer t.interleavable()() // one statement (see pipeline.go)
	created := r.Created
	if created.IsZero() {
		created = t.db.now()
	}
	tag, err := t.Exec(t.ctx, `INSERT INTO idempotency_keys (key_hash, site_id, request, result, created) VALUES ($1, NULLIF($2, ''), $3, $4, $5)
		ON CONFLICT (key_hash) DO NOTHING`, r.Key, r.SiteID, r.Request, r.Result, created)
	if err != nil {
		return domainError(err, "store idempotency key", "site %q not found", r.SiteID)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.EConflict, "the idempotency key was used before")
	}
	r.Created = roundTrip(created)
	return nil
}

// PruneIdempotency deletes the idempotency keys created before the time.
func (db *DB) PruneIdempotency(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune idempotency keys")
	}
	return int(tag.RowsAffected()), nil
}
