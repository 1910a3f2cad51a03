package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Channel is the LISTEN/NOTIFY channel on which every transaction that
// records events announces them; the payload is the newest event id.
const Channel = "parley_events"

// Event ids are allocated in commit order.
//
// A reader tails the log with "id > last", and a stream resumes with
// Last-Event-ID, so an event must never become visible after an event with a
// greater id has been read. An identity column alone does not give that:
// transaction A takes id 10, transaction B takes id 11 and commits first, a
// reader sees 11 and moves past 10 for good when A commits.
//
// So a transaction allocates its event ids under a transaction-level
// advisory lock (pg_advisory_xact_lock on db.eventLock), taken as the last
// step of the transaction, just before the events are inserted, and held
// until the commit is complete and visible. Whoever takes the lock next
// allocates greater ids, and can commit only after. Every id visible to a
// reader was therefore committed after every smaller id, and any transaction
// still running will allocate (or already holds) ids greater than every
// visible one. A rolled-back transaction leaves a gap, never a late id.
//
// The transaction that takes it is a batch of units of work (see unit.go),
// so the lock is taken once per batch, not once per unit: batches commit one
// at a time, database-wide, each with one statement for the lock, the
// events and the NOTIFY (insertEvents), and one WAL flush for all its
// units. Everything else in the batch runs before. The lock is taken last, and no
// transaction waits for anything else while holding it, so it cannot be part
// of a deadlock.

// events records evs in tx, with ids in commit order (see above), and
// notifies Channel at commit. Call it as the last statement of a write.
func (db *DB) events(ctx context.Context, tx pgx.Tx, evs []parley.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	db.queueEvents(b, evs)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return wrap(err, "record events")
	}
	return nil
}

// insertEvents records events from arrays of their fields, in one
// statement: the event lock (waited for as long as it takes: its holder is
// committing, never waiting for this transaction), then the rows, whose
// identity values follow the order of the arrays, then the notification.
// The lock's key depends on set_config, so that lock_timeout is 0 before
// the lock is asked for; the rows are joined to the lock's row, so that no
// id is drawn before the lock is held; the notification, one row over the
// inserted ones, carries the newest id. As three statements and a SET, this
// cost the commit of every batch four statements.
const insertEvents = `WITH lock AS MATERIALIZED (
		SELECT pg_advisory_xact_lock(CASE set_config('lock_timeout', '0', true) WHEN '0' THEN $1::bigint END)),
	ins AS (INSERT INTO events (type, site_id, page_id, comment_id, user_id)
		SELECT e.type, e.site_id, e.page_id, e.comment_id, e.user_id
		FROM lock, unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])
			WITH ORDINALITY AS e (type, site_id, page_id, comment_id, user_id, n)
		ORDER BY e.n
		RETURNING id),
	note AS MATERIALIZED (SELECT pg_notify('` + Channel + `', max(id)::text) FROM ins)
	SELECT ins.id FROM ins, note`

// queueEvents queues on b the statement that records evs (insertEvents),
// whose rows are the ids. It must be the last statement of its
// transaction, which then holds the lock only for its commit.
func (db *DB) queueEvents(b *pgx.Batch, evs []parley.Event) {
	if len(evs) == 0 {
		return
	}
	types := make([]string, len(evs))
	sites := make([]string, len(evs))
	pages := make([]int64, len(evs))
	comments := make([]int64, len(evs))
	users := make([]string, len(evs))
	for i, e := range evs {
		types[i], sites[i], pages[i], comments[i], users[i] = e.Type, e.SiteID, e.PageID, e.CommentID, e.UserID
	}
	b.Queue(insertEvents, db.eventLock, types, sites, pages, comments, users)
	if db.holdEvents != nil {
		b.Queue(`SELECT pg_sleep($1)`, db.holdEvents().Seconds())
	}
}

// EventsSince returns up to limit events with ID > after, oldest first.
// Ids are visible in commit order (see events), so a reader that continues
// from the last id it read never misses one.
func (db *DB) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	if evs, ok := db.tail.Since(after, limit); ok {
		return evs, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, type, site_id, page_id, comment_id, user_id FROM events
		WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrap(err, "read events")
	}
	defer rows.Close()
	var out []parley.Event
	for rows.Next() {
		var e parley.Event
		if err := rows.Scan(&e.ID, &e.Type, &e.SiteID, &e.PageID, &e.CommentID, &e.UserID); err != nil {
			return nil, wrap(err, "read events")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read events")
	}
	return out, nil
}

// LastEventID returns the newest committed event's ID, 0 when there is none.
// It reads the table, not the identity sequence: the sequence also counts
// ids of transactions that have not committed yet, and a reader starting
// after one of those would skip it. Pruning always keeps the newest event,
// so the answer never goes back.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&id); err != nil {
		return 0, wrap(err, "read last event id")
	}
	return id, nil
}

// ConsumerPosition returns the stored position of a durable consumer. ENotFound.
func (db *DB) ConsumerPosition(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := db.pool.QueryRow(ctx, `SELECT position FROM consumers WHERE name = $1`, name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, parley.Errorf(parley.ENotFound, "no consumer %q", name)
	} else if err != nil {
		return 0, wrap(err, "read consumer position")
	}
	return pos, nil
}

// SetConsumerPosition stores the position of a durable consumer.
func (db *DB) SetConsumerPosition(ctx context.Context, name string, pos int64) error {
	if name == "" {
		return parley.Errorf(parley.EInvalid, "a consumer needs a name")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO consumers (name, position, updated) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated = excluded.updated`, name, pos)
	if err != nil {
		return wrap(err, "store consumer position")
	}
	return nil
}

// DeleteConsumer forgets a durable consumer.
func (db *DB) DeleteConsumer(ctx context.Context, name string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM consumers WHERE name = $1`, name); err != nil {
		return wrap(err, "delete consumer")
	}
	return nil
}

// pruneLoop prunes the event log every PruneEvery until ctx is done; Close
// cancels it and waits for it to exit.
func (db *DB) pruneLoop(ctx context.Context) {
	defer close(db.done)
	t := time.NewTicker(db.PruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := db.prune(ctx); err != nil && ctx.Err() == nil {
				db.Logger.Warn("postgres: cannot prune the event log", "error", err.Error())
			}
		}
	}
}

// prune deletes the events older than EventMaxAge or beyond the newest
// EventMaxCount, always keeping the newest event, and returns how many went.
// One instance prunes at a time; the others skip their turn.
func (db *DB) prune(ctx context.Context) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		var mine bool
		key := pruneLockClass<<32 | db.eventLock&0xffffffff
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&mine); err != nil {
			return wrap(err, "prune events")
		}
		if !mine {
			return nil
		}
		// A durable consumer that stored its position within
		// ConsumerMaxAge holds back the events after it, unless they
		// are older than that themselves.
		tag, err := tx.Exec(ctx, `WITH newest AS (SELECT coalesce(max(id), 0) AS id FROM events),
				held AS (SELECT min(position) AS id FROM consumers WHERE updated >= now() - $3::interval)
			DELETE FROM events USING newest, held
			WHERE events.id < newest.id AND (events.created < now() - $1::interval OR events.id <= newest.id - $2)
				AND (events.created < now() - $3::interval OR held.id IS NULL OR events.id <= held.id)`,
			db.EventMaxAge, db.EventMaxCount, store.ConsumerMaxAge)
		if err != nil {
			return wrap(err, "prune events")
		}
		n = tag.RowsAffected()
		return nil
	})
	if n > 0 {
		db.tail.Reset() // it may hold events pruned now
	}
	return n, err
}

// Listen relays the notifications of Channel: it LISTENs on a connection of
// its own and calls notify after each one, and once after every
// (re)connection since events may have been committed while nobody listened.
// When the connection drops it reconnects with a backoff from 100 ms to 10 s.
// It returns when ctx is done. notify should return quickly (Broker.Notify
// never blocks).
func (db *DB) Listen(ctx context.Context, notify func()) {
	db.ListenThrough(ctx, func(int64) { notify() })
}

// ListenThrough is Listen with the newest event id that each notification
// announces (its payload), 0 when it is not known: after a (re)connection,
// or from a payload that is not an id.
func (db *DB) ListenThrough(ctx context.Context, notify func(last int64)) {
	const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second
	backoff := minBackoff
	for {
		err := db.listen(ctx, notify, func() { backoff = minBackoff })
		if ctx.Err() != nil {
			return
		}
		db.Logger.Warn("postgres: event notifications interrupted; reconnecting",
			"error", err.Error(), "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenIdle is how long Listen waits for a notification before it checks
// that its connection is still alive: a network that silently drops the
// connection would otherwise leave it waiting forever.
const listenIdle = 30 * time.Second

// listen LISTENs on a new connection until it fails or ctx is done.
func (db *DB) listen(ctx context.Context, notify func(int64), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+Channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	notify(0)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			last, _ := strconv.ParseInt(n.Payload, 10, 64)
			notify(last)
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() != nil: // idle: is the connection still there?
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return fmt.Errorf("wait for a notification: %w", err)
		}
	}
}
