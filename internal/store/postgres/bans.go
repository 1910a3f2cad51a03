package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// maxBanMarks bounds what BanMarks returns.
const maxBanMarks = 10000

// BanMarks returns the marks in force at now of siteID and of the bans on
// every site, oldest first.
func (db *DB) BanMarks(ctx context.Context, siteID string, now time.Time, limit int) ([]store.BanMark, error) {
	if limit <= 0 || limit > maxBanMarks {
		limit = maxBanMarks
	}
	rows, err := db.pool.Query(ctx, `SELECT id, site_id, banned_id, kind, value, seen, created, expires FROM ban_marks
		WHERE site_id IN ($1, '') AND expires > $2 ORDER BY id LIMIT $3`, siteID, now, limit)
	if err != nil {
		return nil, wrap(err, "read ban marks")
	}
	defer rows.Close()
	var out []store.BanMark
	for rows.Next() {
		var m store.BanMark
		if err := rows.Scan(&m.ID, &m.SiteID, &m.BannedID, &m.Kind, &m.Value, &m.Seen, &m.Created, &m.Expires); err != nil {
			return nil, wrap(err, "read ban marks")
		}
		m.Seen, m.Created, m.Expires = zeroEpoch(m.Seen), m.Created.UTC(), m.Expires.UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read ban marks")
	}
	return out, nil
}

// zeroEpoch is t in UTC, the zero time for the Unix epoch (an unknown
// time, stored as the epoch in a NOT NULL column).
func zeroEpoch(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t.UTC()
}

// epoch is t, or the Unix epoch for the zero time.
func epoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

// PruneBanMarks deletes the marks that expired before the time.
func (db *DB) PruneBanMarks(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM ban_marks WHERE expires < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune ban marks")
	}
	return int(tag.RowsAffected()), nil
}

// AddBanMarks stores marks in the unit and assigns their ids.
func (t *ptx) AddBanMarks(ms []store.BanMark) error {
	now := t.db.now()
	for i := range ms {
		m := &ms[i]
		if m.Created.IsZero() {
			m.Created = now
		}
		err := t.QueryRow(t.ctx, `INSERT INTO ban_marks (site_id, banned_id, kind, value, seen, created, expires)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			m.SiteID, m.BannedID, m.Kind, m.Value, epoch(m.Seen), m.Created, m.Expires).Scan(&m.ID)
		if err != nil {
			return domainError(err, "store ban mark", "user %q not found", m.BannedID)
		}
	}
	return nil
}

// EndBanMarks makes the marks of one ban in force at at expire at at.
func (t *ptx) EndBanMarks(siteID, bannedID string, at time.Time) (int, error) {
	tag, err := t.Exec(t.ctx, `UPDATE ban_marks SET expires = $1 WHERE site_id = $2 AND banned_id = $3 AND expires > $1`,
		at, siteID, bannedID)
	if err != nil {
		return 0, wrap(err, "end ban marks")
	}
	return int(tag.RowsAffected()), nil
}

// AuthorComments returns an author's recent comments, newest first.
func (db *DB) AuthorComments(ctx context.Context, q store.AuthorQuery) ([]*parley.Comment, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	sql := `SELECT ` + commentCols + ` FROM comments WHERE author_id = $1 AND created >= $2`
	args := []any{q.AuthorID, epoch(q.Since)}
	if q.SiteID != "" {
		sql += ` AND site_id = $4`
		args = append(args, limit, q.SiteID)
	} else {
		args = append(args, limit)
	}
	sql += ` ORDER BY created DESC, id DESC LIMIT $3`
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap(err, "read author comments")
	}
	defer rows.Close()
	var out []*parley.Comment
	for rows.Next() {
		c := new(parley.Comment)
		if err := scanComment(rows, c); err != nil {
			return nil, fmt.Errorf("read author comments: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read author comments")
	}
	return out, nil
}

// searchSQL: lower() on both sides.
const searchSQL = `SELECT ` + commentCols + ` FROM comments
	WHERE site_id = $1 AND status <> 'deleted'
		AND ($2 = '' OR strpos(lower(text), lower($2)) > 0)
		AND ($3 = '' OR author_id = $3 OR strpos(lower(author_name), lower($3)) > 0)
		AND ($4 = 0 OR page_id = $4)
	ORDER BY created DESC, id DESC LIMIT $5 OFFSET $6`

// SearchComments returns a site's comments that match q, newest first.
func (db *DB) SearchComments(ctx context.Context, q store.CommentSearch) ([]*parley.Comment, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	rows, err := db.pool.Query(ctx, searchSQL, q.SiteID, q.Text, q.Author, q.PageID, limit, max(q.Offset, 0))
	if err != nil {
		return nil, wrap(err, "search comments")
	}
	defer rows.Close()
	var out []*parley.Comment
	for rows.Next() {
		c := new(parley.Comment)
		if err := scanComment(rows, c); err != nil {
			return nil, fmt.Errorf("search comments: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "search comments")
	}
	return out, nil
}
