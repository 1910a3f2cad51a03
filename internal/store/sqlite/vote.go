package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

// Vote records a reader's vote (value 0 withdraws it), keeps the comment's
// score equal to the sum of its votes, records comment.updated when the score
// changed, and returns the new score. EInvalid for a value other than -1, 0
// and 1; ENotFound when the comment does not exist.
func (db *DB) Vote(ctx context.Context, v parley.Vote) (score int, err error) {
	err = db.write(ctx, func(w *wtx) error {
		var err error
		score, err = w.Vote(v)
		return err
	})
	if err != nil {
		return 0, err
	}
	return score, nil
}

// Vote is DB.Vote in the unit of w.
func (w *wtx) Vote(v parley.Vote) (int, error) {
	if v.Value < -1 || v.Value > 1 {
		return 0, parley.Errorf(parley.EInvalid, "a vote is -1, 0 or 1, not %d", v.Value)
	}
	if v.UserID == "" {
		return 0, parley.Errorf(parley.EInvalid, "a vote needs a reader")
	}
	var score int
	err := func() error {
		var site string
		var page int64
		err := w.queryRow(`SELECT site_id, page_id, score FROM comments WHERE id = ?`, v.CommentID).Scan(&site, &page, &score)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", v.CommentID)
		} else if err != nil {
			return fmt.Errorf("read comment: %w", err)
		}
		var old int
		err = w.queryRow(`SELECT value FROM votes WHERE comment_id = ? AND user_id = ?`, v.CommentID, v.UserID).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read vote: %w", err)
		}
		if old == v.Value {
			return nil
		}
		if v.Value == 0 {
			_, err = w.exec(`DELETE FROM votes WHERE comment_id = ? AND user_id = ?`, v.CommentID, v.UserID)
		} else {
			_, err = w.exec(`INSERT INTO votes (comment_id, user_id, value) VALUES (?, ?, ?)
				ON CONFLICT (comment_id, user_id) DO UPDATE SET value = excluded.value`, v.CommentID, v.UserID, v.Value)
		}
		if err != nil {
			return fmt.Errorf("store vote: %w", err)
		}
		if err := w.queryRow(`UPDATE comments SET score = score + ? WHERE id = ? RETURNING score`,
			v.Value-old, v.CommentID).Scan(&score); err != nil {
			return fmt.Errorf("update score: %w", err)
		}
		if err := w.touch(page); err != nil {
			return err
		}
		return w.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: v.CommentID}})
	}()
	if err != nil {
		return 0, err
	}
	return score, nil
}

// Votes returns a reader's non-zero votes on a page's comments.
func (db *DB) Votes(ctx context.Context, pageID int64, userID string) (map[int64]int, error) {
	rows, err := db.query(ctx, `SELECT v.comment_id, v.value FROM votes v JOIN comments c ON c.id = v.comment_id
		WHERE v.user_id = ? AND c.page_id = ?`, userID, pageID)
	if err != nil {
		return nil, fmt.Errorf("read votes: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]int)
	for rows.Next() {
		var id int64
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("read votes: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read votes: %w", err)
	}
	return out, nil
}
