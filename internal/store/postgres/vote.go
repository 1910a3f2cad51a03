package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// Vote records a reader's vote (value 0 withdraws it), keeps the comment's
// score equal to the sum of its votes, records comment.updated when the score
// changed, and returns the new score. The comment's row is locked first, so
// concurrent votes on one comment, from any instance, apply one after the
// other. EInvalid for a value other than -1, 0 and 1; ENotFound when the
// comment does not exist.
func (db *DB) Vote(ctx context.Context, v parley.Vote) (score int, err error) {
	_, err = db.unit(ctx, func(t *ptx) error {
		var err error
		score, err = t.Vote(v)
		return err
	})
	if err != nil {
		return 0, err
	}
	return score, nil
}

// Vote is DB.Vote in the unit of t.
func (t *ptx) Vote(v parley.Vote) (int, error) {
	ctx := t.ctx
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
		var old int
		err := t.QueryRow(ctx, `SELECT c.site_id, c.page_id, c.score, coalesce(v.value, 0)
			FROM comments c LEFT JOIN votes v ON v.comment_id = c.id AND v.user_id = $2
			WHERE c.id = $1 FOR UPDATE OF c`, v.CommentID, v.UserID).Scan(&site, &page, &score, &old)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", v.CommentID)
		} else if err != nil {
			return wrap(err, "read comment")
		}
		if old == v.Value {
			return nil
		}
		b := &pgx.Batch{}
		if v.Value == 0 {
			b.Queue(`DELETE FROM votes WHERE comment_id = $1 AND user_id = $2`, v.CommentID, v.UserID)
		} else {
			b.Queue(`INSERT INTO votes (comment_id, user_id, value) VALUES ($1, $2, $3)
				ON CONFLICT (comment_id, user_id) DO UPDATE SET value = excluded.value`, v.CommentID, v.UserID, v.Value)
		}
		b.Queue(`UPDATE comments SET score = score + $2 WHERE id = $1 RETURNING score`, v.CommentID, v.Value-old)
		br := t.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return wrap(err, "store vote")
		}
		if err := br.QueryRow().Scan(&score); err != nil {
			br.Close()
			return wrap(err, "update score")
		}
		if err := br.Close(); err != nil {
			return wrap(err, "store vote")
		}
		return t.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: v.CommentID}})
	}()
	if err != nil {
		return 0, err
	}
	return score, nil
}

// Votes returns a reader's non-zero votes on a page's comments.
func (db *DB) Votes(ctx context.Context, pageID int64, userID string) (map[int64]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT v.comment_id, v.value FROM votes v JOIN comments c ON c.id = v.comment_id
		WHERE v.user_id = $1 AND c.page_id = $2`, userID, pageID)
	if err != nil {
		return nil, wrap(err, "read votes")
	}
	defer rows.Close()
	out := make(map[int64]int)
	for rows.Next() {
		var id int64
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, wrap(err, "read votes")
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read votes")
	}
	return out, nil
}
