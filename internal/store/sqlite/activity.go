package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/store"
)

// Activity counts a poster's recent comments, in any status, for flood
// control. Each count is one range scan of an index on (author, created) or
// (ip_hash, created).
func (db *DB) Activity(ctx context.Context, q store.ActivityQuery) (store.Activity, error) {
	var a store.Activity
	limit := -1 // SQLite: no limit
	if q.Cap > 0 {
		limit = q.Cap
	}
	if q.AuthorID != "" && q.Cap >= 0 {
		if err := db.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM comments WHERE author_id = ? AND created >= ? LIMIT ?)`,
			q.AuthorID, millis(q.Since), limit).Scan(&a.ByAuthor); err != nil {
			return a, fmt.Errorf("count comments by author: %w", err)
		}
	}
	if q.IPHash != "" && q.Cap >= 0 {
		if err := db.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM comments WHERE ip_hash = ? AND created >= ? LIMIT ?)`,
			q.IPHash, millis(q.Since), limit).Scan(&a.ByIP); err != nil {
			return a, fmt.Errorf("count comments by address: %w", err)
		}
	}
	if q.AuthorID != "" && q.Text != "" {
		// An index seek on the text's hash (0 for rows older than hashes),
		// the text compared only on a match.
		if err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM comments
			WHERE author_id = ? AND text_hash IN (?, 0) AND created >= ? AND text = ?)`,
			q.AuthorID, textHash(q.Text), millis(q.TextSince), q.Text).Scan(&a.Duplicate); err != nil {
			return a, fmt.Errorf("look for a duplicate comment: %w", err)
		}
	}
	return a, nil
}

// History summarises a reader's comments for the trust rules: the counts
// come from the per-author counters every status change keeps, the recent
// statuses from the newest end of the (author, created) index.
func (db *DB) History(ctx context.Context, userID string, recent int) (store.History, error) {
	var h store.History
	err := db.queryRow(ctx, `SELECT approved, rejected, pending, upheld FROM author_stats WHERE author_id = ?`, userID).
		Scan(&h.Approved, &h.Rejected, &h.Pending, &h.ReportsUpheld)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("read history: %w", err)
	}
	if recent <= 0 {
		return h, nil
	}
	rows, err := db.query(ctx, `SELECT status FROM comments
		WHERE author_id = ? AND status IN ('approved', 'rejected')
		ORDER BY created DESC, id DESC LIMIT ?`, userID, recent)
	if err != nil {
		return h, fmt.Errorf("read history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return h, fmt.Errorf("read history: %w", err)
		}
		h.Recent = append(h.Recent, s)
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("read history: %w", err)
	}
	return h, nil
}

// PostContext makes the reads of q one by one: each is a local call.
func (db *DB) PostContext(ctx context.Context, q store.PostQuery) (store.PostContext, error) {
	return store.ReadPostContext(ctx, db, q)
}
