// Package postgres implements store.Store on PostgreSQL with pgx v5 and its
// connection pool, for deployments of several stateless Parley instances on
// one database.
//
// # Invariants under concurrent instances
//
// Each write runs in one READ COMMITTED transaction. Per-page comment numbers
// come from pages.last_number, incremented by an UPDATE … RETURNING in the
// comment's transaction: the row lock makes concurrent writers on any number
// of instances take turns on a page, so numbers are unique and increasing, and
// a number is never handed out twice because comment rows are never deleted.
// Approved counts and vote totals are kept the same way, by updates of the
// locked row in the transaction of the change. One report per reader is a
// unique constraint with ON CONFLICT DO NOTHING.
//
// # Event log
//
// Every change records its events in its transaction, and event ids are
// allocated in commit order (see event.go), so a reader that tails the log
// with "id > last" never misses an event that commits late. Each batch of
// units also sends NOTIFY parley_events; Listen relays those notifications so that
// the live-update broker of every instance wakes up at once. The log is
// pruned like SQLite's: events older than EventMaxAge or beyond the newest
// EventMaxCount go, by one instance at a time.
//
// # Group commit
//
// Units of work (Store.Update, and the one-operation writes) go to one
// committer per instance, which runs the units queued meanwhile in one
// transaction, a savepoint each, and records their events with one insert
// and one NOTIFY under the event lock just before the commit (unit.go).
//
// # Connections
//
// The DSN is a PostgreSQL URL or keyword/value string as libpq reads it
// (postgres://user@host:5432/db?sslmode=disable&pool_max_conns=20). Statements
// are prepared and cached per connection, so a transaction-pooling proxy in
// front of PostgreSQL needs default_query_exec_mode=exec in the DSN.
package postgres

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var _ store.Store = (*DB)(nil)

// Defaults of the optional DB fields.
const (
	DefaultMaxConns      = 16
	DefaultEventMaxAge   = 7 * 24 * time.Hour
	DefaultEventMaxCount = 100_000
	DefaultPruneEvery    = 10 * time.Minute
)

// DB is a store.Store on a PostgreSQL database. Create it with New, set the
// optional fields, then call Open; or call the package's Open for the
// defaults.
type DB struct {
	// DSN locates the database.
	DSN string

	// Schema, when set, is created if missing and becomes the search_path
	// of every connection, so that several Parley deployments (or tests)
	// can share one database. Empty means the DSN's search_path.
	Schema string
	// Now returns the current time; defaults to time.Now.
	Now func() time.Time
	// MaxConns bounds the pool; 0 means the DSN's pool_max_conns, or
	// DefaultMaxConns when the DSN does not say. Requests wait on the
	// database rather than on the CPU, so the pool is larger than the
	// number of cores; mind max_connections (100 by default) across
	// instances.
	MaxConns int32
	// EventMaxAge and EventMaxCount bound the event log; PruneEvery is how
	// often an instance prunes it. Defaults: DefaultEventMaxAge,
	// DefaultEventMaxCount, DefaultPruneEvery.
	EventMaxAge   time.Duration
	EventMaxCount int64
	PruneEvery    time.Duration
	// Tracer, when set, traces every connection's statements (pgx's
	// QueryTracer, and BatchTracer when it implements it): counting
	// round trips and statements per use case in benchmarks.
	Tracer pgx.QueryTracer
	// Logger receives the warnings of the background work (Listen's
	// reconnections, failed prunes); defaults to slog.Default().
	Logger *slog.Logger

	pool      *pgxpool.Pool
	eventLock int64 // the advisory lock that orders event ids (see event.go)
	// hashedSince is when migration 0006 was applied: comments stored
	// before have no text hash (see Activity).
	hashedSince time.Time

	stop      context.CancelFunc // stops the pruner
	done      chan struct{}      // closed when the pruner has exited
	closeOnce sync.Once

	// MaxBatch bounds the units of work of one group commit (see
	// unit.go); defaults to DefaultMaxBatch.
	MaxBatch int

	// tail keeps the events the committer has just committed, for
	// EventsSince (see store.EventTail): the broker's read after every
	// local write costs no round trip.
	tail store.EventTail

	wpool    *pgxpool.Pool // the committer's one connection (see unit.go)
	units    chan *unit    // units of work waiting for the committer
	umu      sync.RWMutex  // guards uclosed against sends on units
	uclosed  bool          // Close was called; units is closed
	udone    chan struct{} // closed when the committer has exited
	inflight atomic.Int64  // callers inside unit
	batches  atomic.Int64  // see Stats
	unitsRun atomic.Int64
	batchNs  atomic.Int64
	piped    atomic.Int64

	// holdEvents, when set (by tests), says how long a transaction waits
	// after writing its events, before it commits.
	holdEvents func() time.Duration
}

// New returns a DB for the database at dsn. Call Open before using it.
func New(dsn string) *DB {
	return &DB{DSN: dsn}
}

// Open connects to the database at dsn with the default settings and applies
// the migrations it lacks.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db := New(dsn)
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Open creates the connection pool, checks that the database answers,
// applies the migrations it lacks, and starts pruning the event log. Close
// stops it. An unreachable database is an EUnavailable error.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.EventMaxAge <= 0 {
		db.EventMaxAge = DefaultEventMaxAge
	}
	if db.EventMaxCount <= 0 {
		db.EventMaxCount = DefaultEventMaxCount
	}
	if db.PruneEvery <= 0 {
		db.PruneEvery = DefaultPruneEvery
	}
	if db.Logger == nil {
		db.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		// The message of a parse error may quote the password: leave it out.
		return parley.Errorf(parley.EInvalid, "postgres: the database URL cannot be parsed")
	}
	switch {
	case db.MaxConns > 0:
		cfg.MaxConns = db.MaxConns
	case !strings.Contains(db.DSN, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	if db.Schema != "" {
		if err := db.createSchema(ctx, cfg.ConnConfig); err != nil {
			return err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = db.Schema
	}
	cfg.ConnConfig.Tracer = db.Tracer
	// Parley's times are UTC; so is the session, for anything the server
	// formats itself.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "parley"
	}

	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return wrap(err, "postgres: connect")
	}
	defer func() {
		if err != nil {
			db.pool.Close()
		}
	}()
	if err := db.pool.Ping(ctx); err != nil {
		return wrap(err, "postgres: connect")
	}
	if err := migrate(ctx, db.pool); err != nil {
		return err
	}
	if err := db.pool.QueryRow(ctx, `SELECT 'events'::regclass::oid::bigint`).Scan(&db.eventLock); err != nil {
		return wrap(err, "postgres: find the event log")
	}
	// The lock key names the events table itself, so that deployments in
	// several schemas of one database never wait for each other.
	db.eventLock |= eventLockClass << 32
	if err := db.readHashedSince(ctx); err != nil {
		return err
	}

	if db.MaxBatch <= 0 {
		db.MaxBatch = DefaultMaxBatch
	}
	// The committer's connection has a pool of its own, of one, which
	// reconnects when it breaks; a unit waits for a row lock at most
	// lockTimeout (see unit.go).
	wcfg := db.pool.Config().Copy()
	wcfg.MinConns, wcfg.MaxConns = 0, 1
	wcfg.ConnConfig.RuntimeParams["lock_timeout"] = lockTimeout
	if db.wpool, err = pgxpool.NewWithConfig(ctx, wcfg); err != nil {
		return wrap(err, "postgres: connect")
	}
	db.units, db.udone = make(chan *unit, db.MaxBatch), make(chan struct{})
	go db.commitLoop()

	pctx, stop := context.WithCancel(context.Background())
	db.stop, db.done = stop, make(chan struct{})
	go db.pruneLoop(pctx)
	return nil
}

// createSchema creates db.Schema when it is missing, on a connection of its
// own since the pool's connections are to start in it.
func (db *DB) createSchema(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return wrap(err, "postgres: connect")
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.Schema}.Sanitize()); err != nil {
		// Two instances creating it at once: one wins, the other finds it.
		if classify(err) != parley.EConflict {
			return wrap(err, "postgres: create schema "+db.Schema)
		}
	}
	return nil
}

// Close stops the pruner and closes the pool, after the connections in use
// have been given back: in-flight writes finish first.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.stop != nil {
			db.stop()
			<-db.done
		}
		db.umu.Lock()
		if db.units != nil && !db.uclosed {
			db.uclosed = true
			close(db.units)
			db.umu.Unlock()
			<-db.udone
		} else {
			db.umu.Unlock()
		}
		if db.wpool != nil {
			db.wpool.Close()
		}
		if db.pool != nil {
			db.pool.Close()
		}
	})
	return nil
}

// Ping reports whether the database answers, EUnavailable when it does not.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return parley.Wrap(err, parley.EUnavailable, "the database does not answer")
	}
	return nil
}

// write runs fn in a transaction and commits it. A deadlock or a
// serialization failure, which PostgreSQL resolves by aborting one of the
// transactions, is retried twice with a fresh transaction; fn must therefore
// set nothing outside itself that a second run would not set again.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.tryWrite(ctx, fn)
		if err != nil && attempt < 2 && retryable(err) {
			continue
		}
		return err
	}
}

func (db *DB) tryWrite(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap(err, "begin")
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(err, "commit")
	}
	return nil
}

// snapshot runs fn in a read-only REPEATABLE READ transaction, so that its
// queries read one snapshot of the database.
func (db *DB) snapshot(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrap(err, "begin")
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil { // ends a read-only transaction; nothing to lose
		return wrap(err, "end snapshot")
	}
	return nil
}

// now returns the current time truncated to the microsecond PostgreSQL
// keeps, in UTC.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Microsecond)
}

// roundTrip returns t as it reads back from a timestamptz column.
func roundTrip(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime returns t for a nullable timestamptz column: NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull is the inverse of nullTime: the zero time for NULL, else t in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// readHashedSince sets hashedSince. Comments stored since migration 0006
// have their text's hash. A database made with 0006 (in the transaction of
// 0001, see migrate) never held a comment without one: its duplicate
// search is one index seek, never a second one for the unhashed.
func (db *DB) readHashedSince(ctx context.Context) error {
	var fresh bool
	if err := db.pool.QueryRow(ctx, `SELECT m6.applied, m6.applied = m1.applied FROM schema_migrations m6, schema_migrations m1
		WHERE m6.version = 6 AND m1.version = 1`).Scan(&db.hashedSince, &fresh); err != nil {
		return wrap(err, "postgres: read the schema's history")
	}
	if fresh {
		db.hashedSince = time.Time{}
	}
	return nil
}
