package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/store"
)

// Activity counts a poster's recent comments, in any status, for flood
// control, in one statement made of the parts the query asks for. Each
// count is one range scan of the index on (author_id, created) or
// (ip_hash, created); the duplicate search is a seek of the index on
// (author_id, text_hash, created), the text compared only on a match (or
// for rows stored before the hash, which have 0).
//
// The statement holds no parameter that would change its plan: which parts
// run and the cap are written into its text (see activitySQL), so that
// PostgreSQL plans each of the few variants once per connection and then
// runs the cached plan. With them as parameters it planned the statement
// anew on every post, which cost several times what running it does.
func (db *DB) Activity(ctx context.Context, q store.ActivityQuery) (store.Activity, error) {
	var a store.Activity
	byAuthor, byIP, dup := q.AuthorID != "" && q.Cap >= 0, q.IPHash != "" && q.Cap >= 0, q.AuthorID != "" && q.Text != ""
	if !byAuthor && !byIP && !dup {
		return a, nil
	}
	err := db.pool.QueryRow(ctx, activitySQL(byAuthor, byIP, dup, q.Cap),
		q.AuthorID, q.IPHash, q.Since, q.Text, q.TextSince, store.TextHash(q.Text)).Scan(&a.ByAuthor, &a.ByIP, &a.Duplicate)
	if err != nil {
		return a, wrap(err, "count recent comments")
	}
	return a, nil
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
func activitySQL(byAuthor, byIP, dup bool, limit int) string {
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
		b.WriteString(`, EXISTS (SELECT 1 FROM comments WHERE author_id = $1::text AND text_hash IN ($6::bigint, 0) AND created >= $5::timestamptz AND text = $4::text)`)
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
	err := db.pool.QueryRow(ctx, `SELECT coalesce(s.approved, 0), coalesce(s.rejected, 0), coalesce(s.pending, 0), coalesce(s.upheld, 0),
		ARRAY(SELECT status FROM comments WHERE author_id = $1 AND status IN ('approved', 'rejected')
			ORDER BY created DESC, id DESC LIMIT `+strconv.Itoa(max(recent, 0))+`)
		FROM (SELECT) one LEFT JOIN author_stats s ON s.author_id = $1`, userID).
		Scan(&h.Approved, &h.Rejected, &h.Pending, &h.ReportsUpheld, &h.Recent)
	if err != nil {
		return h, wrap(err, "read history")
	}
	if len(h.Recent) == 0 {
		h.Recent = nil
	}
	return h, nil
}
