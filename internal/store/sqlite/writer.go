package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// op is one queued write: fn runs inside the batch transaction, and its
// result is sent on done once the transaction has committed (or failed).
type op struct {
	ctx  context.Context
	fn   func(*wtx) error
	done chan error
}

// wtx is the view of the batch transaction an operation gets; it is the
// store.Tx of a unit of work (see Update).
type wtx struct {
	db   *DB
	tx   *sql.Tx
	ctx  context.Context // the writer's, never a caller's: see commit
	last int64           // the newest event id the running operation recorded
	// recorded holds the events of the batch's operations that have not
	// rolled back, for the tail once the batch commits.
	recorded []parley.Event
}

var _ store.Tx = (*wtx)(nil)

// Update runs fn as one unit of work: an operation of the writer's next
// batch, in its own savepoint, so that the unit's rows, audit entries and
// events commit with the batch or, when fn fails, are rolled back alone.
// fn runs on the writer goroutine, exactly once.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	var last int64
	err := db.write(ctx, func(w *wtx) error {
		if err := fn(w); err != nil {
			return err
		}
		last = w.last
		return nil
	})
	if err != nil {
		return 0, err
	}
	return last, nil
}

// Record adds a use case's own events to the log.
func (w *wtx) Record(evs ...parley.Event) error {
	for _, e := range evs {
		if e.Type == "" {
			return parley.Errorf(parley.EInvalid, "an event needs a type")
		}
	}
	return w.events(evs)
}

// write queues fn for the writer and waits until the transaction that ran it
// has committed. fn runs on the writer goroutine inside a savepoint: if it
// returns an error, its changes are rolled back and write returns that error;
// the other operations of the batch are unaffected. fn must not keep
// references to the wtx, and should hand results back through variables that
// the caller reads only when write returns nil.
func (db *DB) write(ctx context.Context, fn func(*wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.inflight.Add(1)
	defer db.inflight.Add(-1)
	db.mu.RLock()
	if db.closed || db.ops == nil {
		db.mu.RUnlock()
		return parley.Errorf(parley.EUnavailable, "the database is closed")
	}
	select {
	case db.ops <- o:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the operation may commit at any moment, so the caller
	// waits for the outcome even when its context ends meanwhile: giving up
	// here could report a failure for a write that is durable.
	return <-o.done
}

// WriterStats counts the writer's work since Open, for metrics.
type WriterStats struct {
	Batches int64 // transactions committed or failed
	Ops     int64 // operations run in them; Ops/Batches is the mean batch size
	Queued  int   // operations waiting for the writer now
}

// Stats returns the writer's counters.
func (db *DB) Stats() WriterStats {
	return WriterStats{Batches: db.batches.Load(), Ops: db.opsDone.Load(), Queued: len(db.ops)}
}

// run is the writer goroutine, owned by the DB: it commits queued operations
// in batches and prunes the event log every PruneEvery. It exits when Close
// has closed db.ops and every operation queued before has been committed.
func (db *DB) run() {
	defer close(db.done)
	prune := time.NewTicker(db.PruneEvery)
	defer prune.Stop()
	db.prune()
	batch := make([]*op, 0, db.MaxBatch)
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	for {
		select {
		case o, ok := <-db.ops:
			if !ok {
				return
			}
			batch = append(batch[:0], o)
			if !db.fill(&batch, gather) {
				db.commit(batch)
				return
			}
			db.commit(batch)
			clear(batch)
		case <-prune.C:
			db.prune()
		}
	}
}

// fill adds the queued operations to the batch. When fewer operations are
// queued than callers are writing, the others are about to queue theirs:
// typically the callers of the last batch, who have their answer and come
// back with the next write. fill then waits up to CommitDelay for them, so
// that one fsync serves them all instead of half of them. A lone writer
// never waits. fill returns false when db.ops is closed.
func (db *DB) fill(batch *[]*op, gather *time.Timer) bool {
	for len(*batch) < db.MaxBatch {
		select {
		case o, ok := <-db.ops:
			if !ok {
				return false
			}
			*batch = append(*batch, o)
			continue
		default:
		}
		break
	}
	if db.CommitDelay <= 0 || int64(len(*batch)) >= db.inflight.Load() {
		return true
	}
	gather.Reset(db.CommitDelay)
	defer gather.Stop()
	for len(*batch) < db.MaxBatch && int64(len(*batch)) < db.inflight.Load() {
		select {
		case o, ok := <-db.ops:
			if !ok {
				return false
			}
			*batch = append(*batch, o)
		case <-gather.C:
			return true
		}
	}
	return true
}

// commit runs a batch of operations in one transaction, each in a savepoint,
// and reports each operation's outcome once the transaction has committed.
//
// The statements run with a context of the writer's own: SQLite aborts the
// whole transaction, not just the statement, when a statement is interrupted,
// so one caller's cancelled context must never reach the shared transaction.
// A caller whose context has ended before its turn is skipped instead.
func (db *DB) commit(batch []*op) {
	ctx := context.Background()
	db.batches.Add(1)
	db.opsDone.Add(int64(len(batch)))
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, o := range batch {
			o.done <- err
		}
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		fail(db.unavailable("begin", err))
		return
	}
	w := &wtx{db: db, tx: tx, ctx: ctx}
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := w.exec("SAVEPOINT op"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		w.last = 0
		kept := len(w.recorded)
		errs[i] = w.run(o.fn)
		if errs[i] != nil {
			w.recorded = w.recorded[:kept]
			if _, err := w.exec("ROLLBACK TO op"); err != nil {
				tx.Rollback()
				fail(fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
		}
		if _, err := w.exec("RELEASE op"); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		// SQLite may keep the transaction open after a failed COMMIT,
		// while database/sql considers it finished and would hand the
		// connection to the next batch still inside it.
		db.wdb.ExecContext(ctx, "ROLLBACK")
		fail(db.unavailable("commit", err))
		return
	}
	// Committed: the broker's next read of the log finds these in memory
	// (see store.EventTail), before any caller hears that its write is done.
	db.tail.Add(w.recorded)
	for i, o := range batch {
		o.done <- errs[i]
	}
	db.prepare()
}

// run calls fn, turning a panic into an error so that one faulty operation
// cannot take the writer, and with it every other caller, down.
func (w *wtx) run(fn func(*wtx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite write panicked: %v", p)
		}
	}()
	return fn(w)
}

// unavailable classifies a failure to begin or commit a transaction.
func (db *DB) unavailable(what string, err error) error {
	if code := classify(err); code != "" {
		return parley.Wrap(fmt.Errorf("sqlite %s: %w", what, err), code, "the database could not store the change")
	}
	return fmt.Errorf("sqlite %s: %w", what, err)
}

// prune deletes the events that are older than EventMaxAge or beyond the
// newest EventMaxCount, in a transaction of its own, except those a durable
// consumer has yet to consume: the events after the lowest position of the
// consumers that stored one within ConsumerMaxAge, unless they are older
// than that themselves.
func (db *DB) prune() {
	_ = db.commitOne(db.pruneOp) // retried at the next tick; a failure here harms nothing yet
	db.tail.Reset()              // it may hold events pruned now
}

// pruneOp is the work of prune.
func (db *DB) pruneOp(w *wtx) error {
	now := db.now()
	cutoff, held := millis(now.Add(-db.EventMaxAge)), millis(now.Add(-store.ConsumerMaxAge))
	_, err := w.exec(`DELETE FROM events WHERE (created < ?
			OR id <= (SELECT coalesce(max(id), 0) FROM events) - ?)
		AND (created < ? OR id <= coalesce((SELECT min(position) FROM consumers WHERE updated >= ?), id))`,
		cutoff, db.EventMaxCount, held, held)
	return err
}

// commitOne runs fn alone in a transaction on the writer goroutine.
func (db *DB) commitOne(fn func(*wtx) error) error {
	o := &op{ctx: context.Background(), fn: fn, done: make(chan error, 1)}
	db.commit([]*op{o})
	return <-o.done
}

// stmt returns q prepared on the writer connection and bound to the batch
// transaction, or nil when q has not been prepared yet. A statement cannot be
// prepared on the writer's only connection while the transaction holds it,
// so a new statement runs unprepared once and is prepared after the commit
// (see prepare).
func (w *wtx) stmt(q string) *sql.Stmt {
	s, ok := w.db.wstmts[q]
	if !ok {
		w.db.wpending[q] = true
		return nil
	}
	return w.tx.StmtContext(w.ctx, s)
}

// prepare prepares the statements the last batch ran unprepared. It runs on
// the writer goroutine between transactions, when the connection is free.
func (db *DB) prepare() {
	for q := range db.wpending {
		delete(db.wpending, q)
		if s, err := db.wdb.PrepareContext(context.Background(), q); err == nil {
			db.wstmts[q] = s
		}
	}
}

// exec runs a statement in the batch transaction.
func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	if s := w.stmt(q); s != nil {
		return s.ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, q, args...)
}

// queryRow runs a query returning at most one row in the batch transaction.
func (w *wtx) queryRow(q string, args ...any) *sql.Row {
	if s := w.stmt(q); s != nil {
		return s.QueryRowContext(w.ctx, args...)
	}
	return w.tx.QueryRowContext(w.ctx, q, args...)
}

// events records events in the log, stamped with the current time, and
// remembers the newest id for Update.
func (w *wtx) events(evs []parley.Event) error {
	now := millis(w.db.now())
	for _, e := range evs {
		res, err := w.exec(`INSERT INTO events (type, site_id, page_id, comment_id, user_id, created)
			VALUES (?, ?, ?, ?, ?, ?)`, e.Type, e.SiteID, e.PageID, e.CommentID, e.UserID, now)
		if err != nil {
			return fmt.Errorf("record event %s: %w", e.Type, err)
		}
		if w.last, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("record event %s: %w", e.Type, err)
		}
		e.ID = w.last
		w.recorded = append(w.recorded, e)
	}
	return nil
}
