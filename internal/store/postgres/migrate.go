package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations holds the schema changes, one numbered file each
// (0001_init.sql, 0002_….sql). A file, once released, is never edited: a
// change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock classes: the high 32 bits of Parley's advisory lock keys, so
// that they stay clear of other applications' locks in the same database.
const (
	migrateLockClass = 0x70726c6d // "prlm": schema migrations
	eventLockClass   = 0x70726c65 // "prle": event id allocation
	pruneLockClass   = 0x70726c70 // "prlp": pruning the event log
)

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive number and '_'", name)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, all in one transaction
// together with their rows in schema_migrations, so that a failed migration
// leaves the schema as it was. The transaction first takes an advisory lock
// on the schema, so that instances starting at once apply each migration
// exactly once: the others wait, then find it applied. It refuses a database
// migrated by a newer version of Parley.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return wrap(err, "migrate")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, int32(migrateLockClass)); err != nil {
		return wrap(err, "migrate: lock")
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return wrap(err, "migrate: create schema_migrations")
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return wrap(err, "migrate: read the schema version")
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("the database schema is at version %d, newer than this binary's %d: run a newer parley", current, latest)
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		// Every migration not yet applied, a lower number than the
		// newest applied one included: migrations made side by side
		// land in any order, and each is independent of the others.
		if applied[m.version] {
			continue
		}
		// The simple protocol runs a file of several statements at once.
		if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			return wrap(err, "migration "+m.name)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return wrap(err, "migration "+m.name)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(err, "migrate: commit")
	}
	return nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, tx pgx.Tx) (map[int]bool, error) {
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, wrap(err, "migrate: read the applied versions")
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, wrap(err, "migrate: read the applied versions")
		}
		out[v] = true
	}
	return out, wrap0(rows.Err(), "migrate: read the applied versions")
}
