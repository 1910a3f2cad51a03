package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store"
)

// querier runs statements: the pool, each statement in a transaction of
// its own, or one transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// reader runs the reads of store.Reader on a querier: the DB's methods on
// the pool, a Snapshot's on its transaction. They are written once.
type reader struct{ q querier }

var _ store.Reader = reader{}

// Snapshot runs fn in a read-only REPEATABLE READ transaction (see
// snapshot), which holds one connection of the pool until fn returns. Its
// first statement, which takes the transaction's snapshot, runs here, so
// the snapshot is the one of the call. While it lasts, VACUUM keeps the
// row versions it may read.
func (db *DB) Snapshot(ctx context.Context, fn func(store.Reader) error) error {
	return db.snapshot(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
			return wrap(err, "begin snapshot")
		}
		return fn(reader{tx})
	})
}
