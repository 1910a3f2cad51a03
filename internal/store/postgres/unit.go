package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Group commit.
//
// Units of work (Update, and every one-operation write that Tx repeats) are
// queued for the instance's committer, one goroutine with one connection,
// which runs every unit queued so far (up to MaxBatch) in ONE transaction.
// It runs them first without savepoints (see optimistic); when one fails,
// the whole transaction is rolled back and the batch runs again, each unit
// in its own SAVEPOINT: the unit that fails is rolled back to its
// savepoint alone and returns its own error, while the others commit. The
// units' events are kept aside and recorded at the end of the batch, under
// the advisory lock that orders event ids (see event.go), which the batch
// therefore takes once, in the one statement that inserts its events and
// notifies, just before its COMMIT. Concurrent posters share the commit's WAL flush, and the lock is
// held for one round trip per batch instead of one commit per unit.
//
// Statements a unit needs but whose answer nobody waits for (BEGIN,
// SAVEPOINT, RELEASE, ROLLBACK TO) are not sent on their own: they are
// queued and go out in front of the unit's next statement, in one pipelined
// round trip, and the batch's last ones go with the events and the COMMIT.
//
// A unit that loses a deadlock (40P01), a serialization conflict (40001)
// or waits longer than lockTimeout for a row lock (55P03: another
// instance's batch holds it, and may be waiting for one of this batch's) is
// rolled back to its savepoint and run again in the next batch, once this
// one has committed and released its locks, at most maxAttempts times in
// all; the last attempt waits for locks as long as it takes. So fn may run
// more than once.

// DefaultMaxBatch bounds the units of one group commit.
const DefaultMaxBatch = 128

// lockTimeout bounds a unit's wait for a row lock (see above): a batch of
// another instance holds its locks for a few milliseconds.
const lockTimeout = "200ms"

// maxAttempts bounds the runs of a unit that keeps losing lock conflicts.
const maxAttempts = 4

// batchTimeout bounds one batch: a database that stops answering fails the
// batch's units instead of holding the committer for ever.
const batchTimeout = 30 * time.Second

// unit is one queued unit of work.
type unit struct {
	ctx  context.Context
	fn   func(*ptx) error
	done chan error
	last int64 // the newest event id the unit recorded, set before done
	runs int   // attempts so far
}

// ptx is the view of the batch transaction a unit gets: its store.Tx.
type ptx struct {
	db   *DB
	conn *pgxpool.Conn
	ctx  context.Context // the committer's, never a caller's
	pre  []string        // statements to send before the next one
	evs  []parley.Event  // the running unit's events

	pipe   *pipeline // the pipelined batch the unit runs in, if any (see pipeline.go)
	inter  bool      // in a method whose statements may interleave
	serial bool      // the unit sent a statement that may not
}

var _ store.Tx = (*ptx)(nil)

// Update runs fn as one unit of work in the committer's next batch.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	return db.unit(ctx, func(t *ptx) error { return fn(t) })
}

// unit queues fn for the committer and waits until the transaction that ran
// it has committed, returning the newest event id it recorded.
func (db *DB) unit(ctx context.Context, fn func(*ptx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	u := &unit{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.inflight.Add(1)
	defer db.inflight.Add(-1)
	db.umu.RLock()
	if db.units == nil || db.uclosed {
		db.umu.RUnlock()
		return 0, parley.Errorf(parley.EUnavailable, "the database is closed")
	}
	select {
	case db.units <- u:
		db.umu.RUnlock()
	case <-ctx.Done():
		db.umu.RUnlock()
		return 0, ctx.Err()
	}
	// Once queued, the unit may commit at any moment: wait for the
	// outcome even when ctx ends, or a durable write could be reported
	// as failed.
	if err := <-u.done; err != nil {
		return 0, err
	}
	return u.last, nil
}

// commitLoop is the committer goroutine: it runs the queued units in
// batches until db.units is closed and drained.
func (db *DB) commitLoop() {
	defer close(db.udone)
	batch := make([]*unit, 0, db.MaxBatch)
	var again []*unit
	for {
		batch = append(batch[:0], again...)
		if len(batch) == 0 {
			u, ok := <-db.units
			if !ok {
				return
			}
			batch = append(batch, u)
		}
	fill:
		for len(batch) < db.MaxBatch {
			select {
			case u, ok := <-db.units:
				if !ok {
					break fill
				}
				batch = append(batch, u)
			default:
				break fill
			}
		}
		again = db.commitBatch(batch)
		clear(batch)
	}
}

// CommitStats counts the committer's work since Open, for metrics.
type CommitStats struct {
	Batches int64         // transactions committed or failed
	Units   int64         // unit runs in them; Units/Batches is the mean batch size
	Busy    time.Duration // time spent running batches
	// Pipelined counts the batches committed with their units side by
	// side (see pipeline.go).
	Pipelined int64
}

// Stats returns the committer's counters.
func (db *DB) Stats() CommitStats {
	return CommitStats{Batches: db.batches.Load(), Units: db.unitsRun.Load(), Busy: time.Duration(db.batchNs.Load()),
		Pipelined: db.piped.Load()}
}

// commitBatch runs a batch of units in one transaction and reports each
// unit's outcome once the transaction has committed, but for the units it
// returns, to run again in the next batch.
func (db *DB) commitBatch(batch []*unit) (again []*unit) {
	db.batches.Add(1)
	db.unitsRun.Add(int64(len(batch)))
	defer func(start time.Time) { db.batchNs.Add(int64(time.Since(start))) }(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, u := range batch {
			u.done <- err
		}
	}
	conn, err := db.wpool.Acquire(ctx)
	if err != nil {
		fail(wrap(err, "begin"))
		return nil
	}
	// Release destroys a connection left inside a transaction.
	defer conn.Release()
	if len(batch) > 1 && (db.pipelined(ctx, conn, batch) || db.optimistic(ctx, conn, batch)) {
		return nil
	}
	t := &ptx{db: db, conn: conn, ctx: ctx, pre: []string{"BEGIN"}}
	retry := make([]bool, len(batch))
	solo := len(batch) == 1
	var evs []parley.Event
	owner := make([]int, 0, len(batch)) // the unit of each event in evs
	for i, u := range batch {
		if err := u.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		u.runs++
		if u.runs == maxAttempts {
			t.pre = append(t.pre, "SET LOCAL lock_timeout = 0")
		}
		if !solo {
			t.pre = append(t.pre, "SAVEPOINT unit")
		}
		t.evs = t.evs[:0]
		errs[i] = t.run(u.fn)
		if errs[i] != nil && solo {
			// A batch of one needs no savepoint: the transaction goes.
			if err := t.abort(); err != nil {
				fail(err)
				return nil
			}
			if retryable(errs[i]) && u.runs < maxAttempts {
				return []*unit{u} // not batch, which the caller clears
			}
			u.done <- errs[i]
			return nil
		}
		if errs[i] != nil {
			if err := t.rollback(); err != nil {
				fail(err)
				return nil
			}
			retry[i] = retryable(errs[i]) && u.runs < maxAttempts
		} else {
			evs = append(evs, t.evs...)
			for range t.evs {
				owner = append(owner, i)
			}
		}
		if !solo {
			t.pre = append(t.pre, "RELEASE SAVEPOINT unit")
		}
		if conn.Conn().PgConn().IsClosed() {
			fail(parley.Errorf(parley.EUnavailable, "the database connection was lost"))
			return nil
		}
	}
	ids, err := t.finish(evs)
	if err != nil {
		fail(err)
		return nil
	}
	for k, id := range ids {
		batch[owner[k]].last = id // ids ascend, so the last one a unit sees is its newest
	}
	for i, u := range batch {
		if retry[i] {
			again = append(again, u)
			continue
		}
		u.done <- errs[i]
	}
	return again
}

// optimistic runs a batch of units without savepoints, and when every one
// succeeds commits them and reports their outcomes, returning true. When a
// unit fails it rolls the whole transaction back, so that nothing of any
// unit remains, and returns false, having reported nothing, for the batch
// to be run again with a savepoint per unit: then only the failing unit is
// undone. Units rarely fail, and a savepoint and its release cost the
// database two statements per unit.
func (db *DB) optimistic(ctx context.Context, conn *pgxpool.Conn, batch []*unit) bool {
	t := &ptx{db: db, conn: conn, ctx: ctx, pre: []string{"BEGIN"}}
	errs := make([]error, len(batch))
	var evs []parley.Event
	owner := make([]int, 0, len(batch)) // the unit of each event in evs
	ran := 0
	undo := func() bool {
		for j, u := range batch[:ran] {
			if errs[j] == nil {
				u.runs-- // this run does not count: the batch runs again
			}
		}
		if err := t.abort(); err != nil {
			db.Logger.Warn("postgres: cannot roll back a batch", "error", err.Error())
		}
		return false
	}
	for i, u := range batch {
		if err := u.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if u.runs+1 >= maxAttempts {
			return undo() // its last attempt: with a savepoint of its own
		}
		u.runs++
		ran = i + 1
		t.evs = t.evs[:0]
		if err := t.run(u.fn); err != nil {
			return undo()
		}
		evs = append(evs, t.evs...)
		for range t.evs {
			owner = append(owner, i)
		}
		if conn.Conn().PgConn().IsClosed() {
			return undo()
		}
	}
	ids, err := t.finish(evs)
	if err != nil {
		for _, u := range batch {
			u.done <- err
		}
		return true
	}
	for k, id := range ids {
		batch[owner[k]].last = id
	}
	for i, u := range batch {
		u.done <- errs[i]
	}
	return true
}

// rollback undoes the running unit's writes. A transaction that a failed
// statement aborted is rolled back to the unit's savepoint at once, in the
// simple protocol, which needs no statement description (pgx describes the
// statements of a pipeline first, and could not in an aborted transaction);
// a healthy one sends it with the next statement.
func (t *ptx) rollback() error {
	pc := t.conn.Conn().PgConn()
	if pc.TxStatus() != 'E' {
		t.pre = append(t.pre, "ROLLBACK TO SAVEPOINT unit")
		return nil
	}
	if _, err := t.conn.Exec(t.ctx, "ROLLBACK TO SAVEPOINT unit", pgx.QueryExecModeSimpleProtocol); err != nil {
		return wrap(err, "roll back a unit")
	}
	return nil
}

// abort rolls the whole transaction back, at once, in the simple protocol;
// nothing when it has not begun (the unit sent no statement).
func (t *ptx) abort() error {
	t.pre = t.pre[:0]
	if t.conn.Conn().PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := t.conn.Exec(t.ctx, "ROLLBACK", pgx.QueryExecModeSimpleProtocol); err != nil {
		return wrap(err, "roll back a unit")
	}
	return nil
}

// run calls fn, turning a panic into an error so that one faulty unit
// cannot take the committer, and every other caller, down.
func (t *ptx) run(fn func(*ptx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("postgres unit panicked: %v", p)
		}
	}()
	return fn(t)
}

// finish records the batch's events under the event lock, notifies
// Channel once, and commits, in one round trip; it returns the events' ids
// in the order of evs.
func (t *ptx) finish(evs []parley.Event) ([]int64, error) {
	b := &pgx.Batch{}
	for _, s := range t.pre {
		b.Queue(s)
	}
	t.pre = t.pre[:0]
	var ids []int64
	t.db.queueEvents(b, evs) // after every other statement, just before the COMMIT
	b.Queue("COMMIT")
	br := t.conn.SendBatch(t.ctx, b)
	n := b.Len()
	var err error
	for k := 0; k < n && err == nil; k++ {
		q := b.QueuedQueries[k]
		if len(evs) > 0 && q.SQL == insertEvents {
			var rows pgx.Rows
			if rows, err = br.Query(); err == nil {
				ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			}
			continue
		}
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, wrap(err, "commit")
	}
	if len(ids) != len(evs) {
		return nil, fmt.Errorf("commit: %d event ids for %d events", len(ids), len(evs))
	}
	slices.Sort(ids) // assigned in the order of the rows, returned in any
	committed := make([]parley.Event, len(evs))
	for k, e := range evs {
		e.ID = ids[k]
		committed[k] = e
	}
	t.db.tail.Add(committed)
	return ids, nil
}

// batch returns b with the pending statements in front, and how many.
func (t *ptx) batch(b *pgx.Batch) (*pgx.Batch, int) {
	n := len(t.pre)
	if n == 0 {
		return b, 0
	}
	nb := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, n+b.Len())}
	for _, s := range t.pre {
		nb.Queue(s)
	}
	nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
	t.pre = t.pre[:0]
	return nb, n
}

// SendBatch sends b, after the pending statements, in one round trip.
func (t *ptx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.pipe != nil {
		t.serial = true
		return &failedBatch{err: errSerial}
	}
	nb, n := t.batch(b)
	br := t.conn.SendBatch(ctx, nb)
	for range n {
		if _, err := br.Exec(); err != nil {
			return &failedBatch{br: br, err: err}
		}
	}
	return br
}

// QueryRow runs a query returning at most one row, after the pending
// statements, in one round trip.
func (t *ptx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.pipe != nil {
		return pipeRow{p: t.pipe, res: t.send(&pgx.QueuedQuery{SQL: sql, Arguments: args})[0]}
	}
	if len(t.pre) == 0 {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	return batchRow{br: br, row: br.QueryRow()}
}

// Exec runs a statement, after the pending ones, in one round trip.
func (t *ptx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.pipe != nil {
		res := t.send(&pgx.QueuedQuery{SQL: sql, Arguments: args})[0]
		return res.tag, res.err
	}
	if len(t.pre) == 0 {
		return t.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.SendBatch(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Record adds a use case's own events to the unit's.
func (t *ptx) Record(evs ...parley.Event) error {
	for _, e := range evs {
		if e.Type == "" {
			return parley.Errorf(parley.EInvalid, "an event needs a type")
		}
	}
	t.record(evs)
	return nil
}

// events records the events of a write of the running unit.
func (t *ptx) events(evs []parley.Event) error {
	t.record(evs)
	return nil
}

// record keeps the events of the running unit for the end of the batch.
func (t *ptx) record(evs []parley.Event) { t.evs = append(t.evs, evs...) }

// batchRow is the row of a query sent with pending statements: it closes
// the batch once scanned.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil && cerr != nil && !errors.Is(cerr, pgx.ErrNoRows) {
		err = cerr
	}
	return err
}

// failedBatch is a batch whose pending statements failed: every result is
// that failure.
type failedBatch struct {
	br  pgx.BatchResults
	err error
}

func (f *failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f *failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f *failedBatch) QueryRow() pgx.Row                { return errRow{f.err} }
func (f *failedBatch) Tx() pgx.Tx                       { return nil }
func (f *failedBatch) Close() error {
	if f.br != nil {
		f.br.Close()
	}
	return f.err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
