package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store"
)

// Activity counts a poster's recent comments, in any status, for flood
// control, in one statement made of the parts the query asks for. Each
// count is one range scan of the index on (author_id, created) or
// (ip_hash, created); the duplicate search is a seek of comments_dup, on
// (text_hash, author_id || ”, created), the text compared only on a
// match, and for rows stored before the hash (which have 0) a second one,
// made only while the duplicate window reaches back before migration 0006.
// No other index serves any of its conditions, so that the planner cannot
// prefer the (author_id, created) index, which reads every comment of the
// window, when its statistics predate the poster (see migration 0016).
//
// The statement holds no parameter that would change its plan: which parts
// run and the cap are written into its text (see activitySQL), so that
// PostgreSQL plans each of the few variants once per connection and then
// runs the cached plan. With them as parameters it planned the statement
// anew on every post, which cost several times what running it does.
func (db *DB) Activity(ctx context.Context, q store.ActivityQuery) (store.Activity, error) {
	var a store.Activity
	sql, args := db.activityQuery(q)
	if sql == "" {
		return a, nil
	}
	err := db.queryInOrder(ctx, func(row pgx.Row) error { return row.Scan(&a.ByAuthor, &a.ByIP, &a.Duplicate) }, sql, args...)
	if err != nil {
		return a, wrap(err, "count recent comments")
	}
	return a, nil
}

// activityQuery returns the statement of Activity for q and its
// arguments, or "" when q asks for nothing.
func (db *DB) activityQuery(q store.ActivityQuery) (string, []any) {
	byAuthor, byIP, dup := q.AuthorID != "" && q.Cap >= 0, q.IPHash != "" && q.Cap >= 0, q.AuthorID != "" && q.Text != ""
	if !byAuthor && !byIP && !dup {
		return "", nil
	}
	// Rows stored before texts were hashed have 0; they are looked at only
	// while the window reaches back before the hashes began.
	unhashed := dup && q.TextSince.Before(db.hashedSince)
	return activitySQL(byAuthor, byIP, dup, unhashed, q.Cap), []any{q.AuthorID, q.IPHash, q.Since, q.Text, q.TextSince, store.TextHash(q.Text)}
}

// activitySQL returns the statement of Activity with the parts asked for,
// each of the others a constant, and the counts limited to limit rows (none
// when limit is 0). Its parameters are always the same six, in the order
// Activity passes them; a constant part leaves its parameters unused but
// typed, by the casts. The counts are ordered as their indexes are: a
// cached plan does not know how many rows a count will meet, and with a
// limit and no order it may choose to read the table until it has found
// enough, which for a poster with none in the last minute is the whole
// table.
func activitySQL(byAuthor, byIP, dup, unhashed bool, limit int) string {
	lim := ""
	if limit > 0 {
		lim = " LIMIT " + strconv.Itoa(limit)
	}
	var b strings.Builder
	b.WriteString(`SELECT `)
	if byAuthor {
		b.WriteString(`(SELECT count(*) FROM (SELECT 1 FROM comments WHERE author_id = $1::text AND created >= $3::timestamptz ORDER BY created` + lim + `) a)`)
	} else {
		b.WriteString(`0::bigint`)
	}
	if byIP {
		// "ip_hash <> ''" lets the cached plan use the partial index.
		b.WriteString(`, (SELECT count(*) FROM (SELECT 1 FROM comments WHERE ip_hash = $2::text AND ip_hash <> '' AND created >= $3::timestamptz ORDER BY created` + lim + `) i)`)
	} else {
		b.WriteString(`, 0::bigint`)
	}
	if dup {
		// "author_id || ''" is the expression of comments_dup, which no
		// other index can serve (see migration 0016).
		b.WriteString(`, EXISTS (SELECT 1 FROM comments WHERE text_hash = $6::bigint AND author_id || '' = $1::text AND created >= $5::timestamptz AND text = $4::text)`)
		if unhashed {
			b.WriteString(` OR EXISTS (SELECT 1 FROM comments WHERE text_hash = 0 AND author_id || '' = $1::text AND created >= $5::timestamptz AND text = $4::text)`)
		}
	} else {
		b.WriteString(`, false`)
	}
	b.WriteString(` FROM (SELECT $1::text, $2::text, $3::timestamptz, $4::text, $5::timestamptz, $6::bigint) params`)
	return b.String()
}

// History summarises a reader's comments for the trust rules, in one
// statement and so from one snapshot: the counts from the per-author
// counters that every status change keeps (see countStatus), the recent
// statuses from the newest end of the index on (author_id, created). The
// number of recent statuses is written into the statement, not passed, for
// the reason Activity gives: callers ask for one or two numbers.
func (db *DB) History(ctx context.Context, userID string, recent int) (store.History, error) {
	var h store.History
	err := db.queryInOrder(ctx, func(row pgx.Row) error { return scanHistory(row, &h) }, historySQL(recent), userID)
	if err != nil {
		return h, wrap(err, "read history")
	}
	return h, nil
}

// scanHistory reads the row of historySQL into h.
func scanHistory(row pgx.Row, h *store.History) error {
	if err := row.Scan(&h.Approved, &h.Rejected, &h.Pending, &h.ReportsUpheld, &h.Recent); err != nil {
		return err
	}
	if len(h.Recent) == 0 {
		h.Recent = nil
	}
	return nil
}

// historySQL is the statement of History for recent statuses.
func historySQL(recent int) string {
	return `SELECT coalesce(s.approved, 0), coalesce(s.rejected, 0), coalesce(s.pending, 0), coalesce(s.upheld, 0),
		ARRAY(SELECT status FROM comments WHERE author_id = $1 AND status IN ('approved', 'rejected')
			ORDER BY created DESC, id DESC LIMIT ` + strconv.Itoa(max(recent, 0)) + `)
		FROM (SELECT) one LEFT JOIN author_stats s ON s.author_id = $1`
}

// queryInOrder runs a statement of one row whose subqueries read a
// poster's newest rows in the order of an index, with sorting disabled for
// its planning, and scans the row with scan.
//
// The planner estimates a poster's rows from the table's statistics, which
// know nothing of a poster who is new since the last ANALYZE (autovacuum
// runs it after a tenth of the table has changed): for them it expects a
// row or two, and prefers to fetch every row of theirs with a bitmap scan
// and sort them, over walking the index in order. For a new poster who
// writes a lot (a flood, a bot, or the bench's writers) that reads all they
// wrote on each of their posts, and a cached plan keeps doing so. With
// enable_sort off only the index order is left. The setting is local to
// the batch's implicit transaction, so it applies to this statement alone,
// and it holds whenever the statement is planned, so its cached plan is one
// made without sorting. It costs no round trip: the batch is one.
// sortOff disables sorting in the planning of the rest of a transaction.
const sortOff = `SELECT set_config('enable_sort', 'off', true)`

func (db *DB) queryInOrder(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sortOff)
	b.Queue(sql, args...).QueryRow(scan)
	return db.pool.SendBatch(ctx, b).Close()
}
