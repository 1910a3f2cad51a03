package postgres

import (
	"context"

	"github.com/parleyhq/parley/internal/store"
)

// Activity counts a poster's recent comments, in any status, for flood
// control, in one statement. Each count is one range scan of the index on
// (author_id, created) or (ip_hash, created); a part of the query whose
// input is empty is not run.
func (db *DB) Activity(ctx context.Context, q store.ActivityQuery) (store.Activity, error) {
	var a store.Activity
	err := db.pool.QueryRow(ctx, `SELECT
		CASE WHEN $1 = '' OR $6 < 0 THEN 0 ELSE
			(SELECT count(*) FROM (SELECT 1 FROM comments WHERE author_id = $1 AND created >= $3 LIMIT NULLIF($6, 0)) a) END,
		CASE WHEN $2 = '' OR $6 < 0 THEN 0 ELSE
			(SELECT count(*) FROM (SELECT 1 FROM comments WHERE ip_hash = $2 AND created >= $3 LIMIT NULLIF($6, 0)) i) END,
		CASE WHEN $1 = '' OR $4 = '' THEN false ELSE
			EXISTS (SELECT 1 FROM comments WHERE author_id = $1 AND created >= $5 AND text = $4) END`,
		q.AuthorID, q.IPHash, q.Since, q.Text, q.TextSince, q.Cap).Scan(&a.ByAuthor, &a.ByIP, &a.Duplicate)
	if err != nil {
		return a, wrap(err, "count recent comments")
	}
	return a, nil
}

// History summarises a reader's comments for the trust rules, in one
// statement and so from one snapshot.
func (db *DB) History(ctx context.Context, userID string, recent int) (store.History, error) {
	var h store.History
	err := db.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE status = 'approved'),
		count(*) FILTER (WHERE status = 'rejected'),
		count(*) FILTER (WHERE status = 'pending'),
		(SELECT count(*) FROM reports r JOIN comments c ON c.id = r.comment_id
			WHERE c.author_id = $1 AND r.outcome = 'upheld'),
		ARRAY(SELECT status FROM comments WHERE author_id = $1 AND status IN ('approved', 'rejected')
			ORDER BY created DESC, id DESC LIMIT $2)
		FROM comments WHERE author_id = $1`, userID, max(recent, 0)).
		Scan(&h.Approved, &h.Rejected, &h.Pending, &h.ReportsUpheld, &h.Recent)
	if err != nil {
		return h, wrap(err, "read history")
	}
	if len(h.Recent) == 0 {
		h.Recent = nil
	}
	return h, nil
}
