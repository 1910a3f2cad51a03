package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Idempotency returns the stored outcome of the write made with the key. ENotFound.
func (db *DB) Idempotency(ctx context.Context, key []byte) (*store.Idempotency, error) {
	r := &store.Idempotency{Key: key}
	var created int64
	err := db.queryRow(ctx, `SELECT COALESCE(site_id, ''), request, result, created FROM idempotency_keys WHERE key_hash = ?`, key).
		Scan(&r.SiteID, &r.Request, &r.Result, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "idempotency key not found")
	} else if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	r.Created = fromMillis(created)
	return r, nil
}

// SaveIdempotency stores the outcome of the unit's write under its key.
// EConflict when the key is stored already; ENotFound for an unknown site.
// A write of no one site (SiteID "") is stored with none (NULL).
func (w *wtx) SaveIdempotency(r *store.Idempotency) error {
	created := r.Created
	if created.IsZero() {
		created = w.db.now()
	}
	res, err := w.exec(`INSERT INTO idempotency_keys (key_hash, site_id, request, result, created) VALUES (?, NULLIF(?, ''), ?, ?, ?)
		ON CONFLICT (key_hash) DO NOTHING`, r.Key, r.SiteID, r.Request, r.Result, millis(created))
	if err != nil {
		return domainError(fmt.Errorf("store idempotency key: %w", err), "site %q not found", r.SiteID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return parley.Errorf(parley.EConflict, "the idempotency key was used before")
	}
	r.Created = roundTrip(created)
	return nil
}

// PruneIdempotency deletes the idempotency keys created before the time.
func (db *DB) PruneIdempotency(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM idempotency_keys WHERE created < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune idempotency keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
