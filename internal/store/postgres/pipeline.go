package postgres

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley"
)

// Pipelined batches.
//
// Run one after the other, the units of a batch cost one round trip per
// statement each: at 8 posters, a batch of four posts waited for four
// inserts in turn before its COMMIT, and the committer, not the database,
// set the pace. pipelined runs the units of a batch side by side instead,
// each in a goroutine of its own, and sends their statements in rounds: a
// round waits until every unit still running is waiting for an answer,
// sends all their statements in one pipeline (the first round after the
// BEGIN), and hands each unit its answers. A batch of posts costs two
// round trips, the inserts and the COMMIT, whatever its size.
//
// Side by side, the statements of different units interleave in the one
// transaction. That is the same as one order of the units only for
// statements that read and write in one go (an INSERT, an UPDATE … SET n =
// n + 1, an upsert), not for a unit that reads a row, decides in Go, and
// writes it back in a second statement: another unit's write may come
// between. So a unit may send a statement in a pipelined batch only inside
// the methods marked interleavable (CreateComment, CreateUser, …): any
// other statement, or a SendBatch, sets serial and gets errSerial, and the
// batch is rolled back and run again one unit after the other (see
// commitBatch), where nothing interleaves. Posts, the traffic that comes
// in bursts, are all interleavable; a moderator's decision in the batch
// costs the batch one wasted round.

// errSerial answers a statement that must not interleave with other units'.
var errSerial = errors.New("postgres: this statement runs only in a serial batch")

// errUndone answers the statements of a pipelined batch being rolled back.
var errUndone = errors.New("postgres: the batch is being run again")

// pipeline is the committer's side of a pipelined batch.
type pipeline struct {
	reqs chan pipeReq
	mu   sync.Mutex // the connection's type map: scans, and the rounds
	conn *pgxpool.Conn
}

// pipeReq is a running unit's next message: its statements for the next
// round, or (done) its outcome.
type pipeReq struct {
	t     *ptx
	qs    []*pgx.QueuedQuery
	reply chan []pipeResult
	done  bool
	err   error
}

// pipeResult is one statement's answer, read off the connection.
type pipeResult struct {
	tag    pgconn.CommandTag
	fields []pgconn.FieldDescription
	rows   [][][]byte
	err    error
}

// interleavable marks the statements of the caller, until the function it
// returns is called, as fit for a pipelined batch (see above).
func (t *ptx) interleavable() func() {
	old := t.inter
	t.inter = true
	return func() { t.inter = old }
}

// send runs qs in the next round of t's pipelined batch.
func (t *ptx) send(qs ...*pgx.QueuedQuery) []pipeResult {
	if !t.inter {
		t.serial = true
		out := make([]pipeResult, len(qs))
		for k := range out {
			out[k].err = errSerial
		}
		return out
	}
	reply := make(chan []pipeResult, 1)
	t.pipe.reqs <- pipeReq{t: t, qs: qs, reply: reply}
	return <-reply
}

// pipelined runs batch as described above and, when every unit succeeded
// without asking for a serial batch, commits it and reports the outcomes,
// returning true. Otherwise it rolls the transaction back, reports
// nothing, and returns false for the batch to run one unit after the other.
func (db *DB) pipelined(ctx context.Context, conn *pgxpool.Conn, batch []*unit) bool {
	for _, u := range batch {
		if u.runs+1 >= maxAttempts && u.ctx.Err() == nil {
			return false // its last attempt: with a savepoint of its own
		}
	}
	p := &pipeline{reqs: make(chan pipeReq), conn: conn}
	ts := make([]*ptx, len(batch))
	errs := make([]error, len(batch))
	running := 0
	for i, u := range batch {
		if err := u.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		u.runs++
		t := &ptx{db: db, conn: conn, ctx: ctx, pipe: p}
		ts[i] = t
		running++
		go func() {
			err := t.run(u.fn)
			p.reqs <- pipeReq{t: t, done: true, err: err}
		}()
	}
	index := func(t *ptx) int { return slices.Index(ts, t) }
	begun, failed := false, false
	for running > 0 {
		var round []pipeReq
		for range running {
			r := <-p.reqs
			if r.done {
				if r.err != nil || r.t.serial {
					failed = true
				}
				errs[index(r.t)] = r.err
				continue
			}
			round = append(round, r)
		}
		running = len(round)
		if running == 0 {
			break
		}
		slices.SortFunc(round, func(a, b pipeReq) int { return index(a.t) - index(b.t) })
		if failed {
			for _, r := range round {
				r.reply <- undone(len(r.qs))
			}
			continue
		}
		var rs [][]pipeResult
		rs, failed = p.round(ctx, round, !begun)
		begun = true
		for k, r := range round {
			r.reply <- rs[k]
		}
	}
	if !failed && conn.Conn().PgConn().IsClosed() {
		failed = true
	}
	if failed {
		for i, u := range batch {
			if ts[i] != nil {
				u.runs-- // this run does not count: the batch runs again
			}
		}
		if begun {
			t := &ptx{db: db, conn: conn, ctx: ctx}
			if err := t.abort(); err != nil {
				db.Logger.Warn("postgres: cannot roll back a batch", "error", err.Error())
			}
		}
		return false
	}
	var evs []parley.Event
	var owner []int
	for i, t := range ts {
		if t == nil {
			continue
		}
		evs = append(evs, t.evs...)
		for range t.evs {
			owner = append(owner, i)
		}
	}
	t := &ptx{db: db, conn: conn, ctx: ctx}
	if !begun {
		t.pre = []string{"BEGIN"}
	}
	ids, err := t.finish(evs)
	if err != nil {
		for _, u := range batch {
			u.done <- err
		}
		return true
	}
	db.piped.Add(1)
	for k, id := range ids {
		batch[owner[k]].last = id
	}
	for i, u := range batch {
		u.done <- errs[i]
	}
	return true
}

// undone answers n statements of a batch being rolled back.
func undone(n int) []pipeResult {
	out := make([]pipeResult, n)
	for k := range out {
		out[k].err = errUndone
	}
	return out
}

// round sends the statements of round, after BEGIN when begin, in one
// pipeline and reads every answer; failed when one of them failed, which
// aborts the transaction.
func (p *pipeline) round(ctx context.Context, round []pipeReq, begin bool) (rs [][]pipeResult, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := &pgx.Batch{}
	if begin {
		b.Queue("BEGIN")
	}
	for _, r := range round {
		b.QueuedQueries = append(b.QueuedQueries, r.qs...)
	}
	br := p.conn.SendBatch(ctx, b)
	var berr error
	if begin {
		_, berr = br.Exec()
	}
	rs = make([][]pipeResult, len(round))
	for k, r := range round {
		rs[k] = make([]pipeResult, len(r.qs))
		for j := range r.qs {
			res := &rs[k][j]
			if berr != nil {
				res.err = berr
				continue
			}
			rows, err := br.Query()
			if err != nil {
				res.err = err
				continue
			}
			res.fields = slices.Clone(rows.FieldDescriptions())
			for rows.Next() {
				raw := rows.RawValues()
				vals := make([][]byte, len(raw))
				for c, v := range raw {
					vals[c] = bytes.Clone(v)
				}
				res.rows = append(res.rows, vals)
			}
			rows.Close()
			res.tag, res.err = rows.CommandTag(), rows.Err()
		}
	}
	if err := br.Close(); err != nil && berr == nil {
		berr = err
	}
	failed = berr != nil
	for _, r := range rs {
		for _, res := range r {
			failed = failed || res.err != nil
		}
	}
	return rs, failed
}

// pipeRow is the row of a query answered in a round.
type pipeRow struct {
	p   *pipeline
	res pipeResult
}

func (r pipeRow) Scan(dest ...any) error {
	if r.res.err != nil {
		return r.res.err
	}
	if len(r.res.rows) == 0 {
		return pgx.ErrNoRows
	}
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	return pgx.ScanRow(r.p.conn.Conn().TypeMap(), r.res.fields, r.res.rows[0], dest...)
}
