// Package sqlite implements store.Store on an embedded SQLite database, with
// the pure-Go driver modernc.org/sqlite so that the parley binary needs no cgo.
//
// # Connections
//
// A DB holds two connection pools on one file: a single writer connection and
// a pool of reader connections. The database runs in WAL mode, so readers
// never wait for the writer and the writer never waits for readers.
//
// # Group commit
//
// Every write goes through one goroutine, the writer, which owns the writer
// connection. Callers queue their operation and wait; the writer takes every
// operation queued so far (up to MaxBatch), runs them in ONE transaction, each
// inside its own SAVEPOINT so that a failing operation rolls back alone and
// returns its own error while the others commit, and then commits once. With
// synchronous=FULL a commit is one fsync of the write-ahead log, so concurrent
// writers share fsyncs instead of queueing for one each. A caller returns only
// after the transaction holding its operation is durable.
//
// # Reads
//
// PageComments serves a page read before at the same revision from memory
// (see threadCache); History reads per-author counters that the writes keep;
// Activity finds duplicates through an index on a hash of the text.
// Snapshot holds one read transaction on a reader connection for the reads
// of a long, consistent view (an export).
//
// # Event log
//
// Every change records its events (parley.Event) in the same transaction. The
// writer prunes the log periodically: events older than EventMaxAge (7 days)
// and all but the newest EventMaxCount (100,000) go. A live stream that
// resumes from an event older than that misses the pruned events.
//
// The broker tails the log with EventsSince after every local write (the
// writer waits for its events to be delivered). The writer keeps the
// events it has just committed in memory, in id order (see store.EventTail), and
// EventsSince answers from there when it can, so that this read costs no
// query; events another process wrote to the file are read from it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ store.Store = (*DB)(nil)

// Defaults of the optional DB fields.
const (
	DefaultMaxBatch      = 256
	DefaultCommitDelay   = 500 * time.Microsecond
	DefaultEventMaxAge   = 7 * 24 * time.Hour
	DefaultEventMaxCount = 100_000
	DefaultPruneEvery    = 10 * time.Minute
)

// pragmas are the settings of every connection, writer and readers alike; they
// are the only place the database is tuned.
var pragmas = []string{
	// Wait up to 10 s for a lock held by another process (the command line
	// editing sites while the server runs) instead of failing at once.
	"busy_timeout(10000)",
	// Write-ahead log: readers see the last commit and never block the writer.
	"journal_mode(WAL)",
	// fsync the log on every commit: an acknowledged comment survives a
	// crash of the process and a power loss alike. Group commit pays for it.
	"synchronous(FULL)",
	"foreign_keys(ON)",
	"temp_store(MEMORY)",
	// 8 MiB of page cache per connection (five or more of them): the hot
	// index pages stay; threads are served from Parley's own row and
	// response caches, and other pages come from the OS page cache, which
	// is shared and not the process's memory. 32 MiB each let a server's
	// memory grow with its database (a cache per connection).
	"cache_size(-8192)",
	// Truncate the log back to 64 MiB after a checkpoint so a burst does not keep the disk.
	"journal_size_limit(67108864)",
}

// readerPragmas add a guard to reader connections: a write through one is a bug.
var readerPragmas = append(append([]string(nil), pragmas...), "query_only(ON)")

// DB is a store.Store on one SQLite file. Create it with New, set the optional
// fields, then call Open; or call the package's Open for the defaults.
type DB struct {
	// Path is the database file; it is created when missing, but its
	// directory must exist.
	Path string

	// Now returns the current time; defaults to time.Now.
	Now func() time.Time
	// Readers is the number of reader connections; defaults to
	// max(4, GOMAXPROCS).
	Readers int
	// MaxBatch bounds the operations committed in one transaction;
	// defaults to DefaultMaxBatch.
	MaxBatch int
	// CommitDelay is how long the writer waits for more operations when
	// other callers are about to queue theirs (see fill); defaults to
	// DefaultCommitDelay, and a negative value never waits.
	CommitDelay time.Duration
	// EventMaxAge and EventMaxCount bound the event log; PruneEvery is how
	// often the writer prunes it. Defaults: DefaultEventMaxAge,
	// DefaultEventMaxCount, DefaultPruneEvery.
	EventMaxAge   time.Duration
	EventMaxCount int64
	PruneEvery    time.Duration
	// CacheComments bounds the comments PageComments keeps in memory
	// between calls (see threadCache); defaults to DefaultCacheComments,
	// and a negative value turns the cache off.
	CacheComments int

	rdb *sql.DB // the reader pool, query_only
	wdb *sql.DB // exactly one connection, used by the writer goroutine only

	ops    chan *op      // operations waiting for the writer
	mu     sync.RWMutex  // guards closed against sends on ops
	closed bool          // Close was called; ops is closed
	done   chan struct{} // closed when the writer goroutine has exited

	cache *threadCache    // nil when off
	tail  store.EventTail // the newest committed events, for EventsSince

	batches, opsDone atomic.Int64 // see Stats
	inflight         atomic.Int64 // callers inside write

	wstmts   map[string]*sql.Stmt // prepared on the writer connection; writer goroutine only
	wpending map[string]bool      // statements to prepare after the running batch; writer goroutine only

	rmu    sync.Mutex
	rstmts map[string]*sql.Stmt // prepared on the reader pool
}

// New returns a DB for the file at path. Call Open before using it.
func New(path string) *DB {
	return &DB{Path: path}
}

// Open opens the database file at path with the default settings, creating
// and migrating it as needed.
func Open(ctx context.Context, path string) (*DB, error) {
	db := New(path)
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Open opens the database, applies the migrations it lacks, and starts the
// writer goroutine. Close stops it.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Path == "" {
		return parley.Errorf(parley.EInvalid, "sqlite: no database path")
	}
	if strings.ContainsAny(db.Path, "?#") {
		return parley.Errorf(parley.EInvalid, "sqlite: database path %q may not contain '?' or '#'", db.Path)
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Readers <= 0 {
		db.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if db.MaxBatch <= 0 {
		db.MaxBatch = DefaultMaxBatch
	}
	if db.CommitDelay == 0 {
		db.CommitDelay = DefaultCommitDelay
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
	defer func() {
		if err != nil {
			db.closeHandles()
		}
	}()

	// The writer: one connection for the life of the DB, so its prepared
	// statements and page cache stay warm. BEGIN IMMEDIATE takes the write
	// lock at the start of a transaction, so a busy database is waited for
	// (busy_timeout) before any work, never half-way through.
	db.wdb, err = sql.Open("sqlite", dsn(db.Path, pragmas, "immediate"))
	if err != nil {
		return fmt.Errorf("open sqlite writer: %w", err)
	}
	db.wdb.SetMaxOpenConns(1)
	db.wdb.SetMaxIdleConns(1)
	db.wdb.SetConnMaxLifetime(0)
	db.wdb.SetConnMaxIdleTime(0)
	if err := db.wdb.PingContext(ctx); err != nil {
		return fmt.Errorf("open sqlite %s: %w", db.Path, err)
	}
	if err := migrate(ctx, db.wdb, db.Now()); err != nil {
		return err
	}

	db.rdb, err = sql.Open("sqlite", dsn(db.Path, readerPragmas, "deferred"))
	if err != nil {
		return fmt.Errorf("open sqlite readers: %w", err)
	}
	db.rdb.SetMaxOpenConns(db.Readers)
	db.rdb.SetMaxIdleConns(db.Readers)
	db.rdb.SetConnMaxLifetime(0)
	db.rdb.SetConnMaxIdleTime(0)
	if err := db.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("open sqlite reader: %w", err)
	}

	if db.CacheComments == 0 {
		db.CacheComments = DefaultCacheComments
	}
	if db.CacheComments > 0 {
		db.cache = newThreadCache(db.CacheComments)
	}
	db.wstmts = make(map[string]*sql.Stmt)
	db.wpending = make(map[string]bool)
	db.rstmts = make(map[string]*sql.Stmt)
	db.ops = make(chan *op, db.MaxBatch)
	db.done = make(chan struct{})
	go db.run()
	return nil
}

// dsn returns the driver's data source name for path with the pragmas and the
// BEGIN mode. The path is passed as a plain file name, not a file: URI, so it
// needs no escaping; Open refuses the two characters that would confuse it.
func dsn(path string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", txlock)
	return path + "?" + q.Encode()
}

// Close waits for the queued writes to commit, stops the writer goroutine and
// closes both connection pools. Writes after Close fail with EUnavailable.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed || db.ops == nil {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.ops)
	db.mu.Unlock()
	<-db.done
	return db.closeHandles()
}

func (db *DB) closeHandles() error {
	var errs []error
	for _, s := range db.rstmts {
		errs = append(errs, s.Close())
	}
	for _, s := range db.wstmts {
		errs = append(errs, s.Close())
	}
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
	}
	if db.wdb != nil {
		// Leave a checkpointed, truncated log behind so that the file is
		// self-contained for a backup taken after shutdown.
		_, err := db.wdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, err, db.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return parley.Wrap(err, parley.EUnavailable, "the database does not answer")
	}
	return nil
}

// stmt returns the statement q prepared on the reader pool, preparing it on
// first use. database/sql re-prepares it on each pool connection as needed.
func (db *DB) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	db.rmu.Lock()
	defer db.rmu.Unlock()
	if s, ok := db.rstmts[q]; ok {
		return s, nil
	}
	s, err := db.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	db.rstmts[q] = s
	return s, nil
}

// query runs a read query through the statement cache.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryRow runs a read query returning at most one row through the statement cache.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := db.stmt(ctx, q)
	if err != nil {
		// A *sql.Row cannot carry an error from outside; run the query
		// unprepared so that Scan reports the same failure.
		return db.rdb.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// now returns the current time, truncated to the millisecond the database
// keeps, in UTC.
func (db *DB) now() time.Time {
	return db.Now().UTC().Truncate(time.Millisecond)
}
