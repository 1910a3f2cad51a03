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

// statsSQL counts a site's comments, holds, reports and decisions per UTC
// day (day numbers since the epoch).
const statsSQL = `
SELECT floor(extract(epoch FROM created) / 86400)::bigint AS day, 'c' AS kind, count(*), count(reasons) FROM comments
	WHERE site_id = $1 AND created >= $2 GROUP BY day
UNION ALL
SELECT floor(extract(epoch FROM r.created) / 86400)::bigint AS day, 'r', count(*), 0 FROM reports r JOIN comments c ON c.id = r.comment_id
	WHERE c.site_id = $1 AND r.created >= $2 GROUP BY day
UNION ALL
SELECT floor(extract(epoch FROM created) / 86400)::bigint AS day, 'd', count(*),
	count(*) FILTER (WHERE (action = 'approve' AND position('"status":"approved"'::bytea IN coalesce(before, ''::bytea)) = 0)
		OR (action = 'reject' AND position('"status":"approved"'::bytea IN coalesce(before, ''::bytea)) > 0))
	FROM actions WHERE site_id = $1 AND created >= $2 AND action IN ('approve', 'reject') GROUP BY day`

// Workload returns a site's workload per day since a time.
func (db *DB) Workload(ctx context.Context, siteID string, since time.Time) (store.SiteStats, error) {
	var out store.SiteStats
	rows, err := db.pool.Query(ctx, statsSQL, siteID, epoch(since))
	if err != nil {
		return out, wrap(err, "read stats")
	}
	defer rows.Close()
	days := map[int64]*store.DayStats{}
	for rows.Next() {
		var day, n, m int64
		var kind string
		if err := rows.Scan(&day, &kind, &n, &m); err != nil {
			return out, wrap(err, "read stats")
		}
		d := days[day]
		if d == nil {
			d = &store.DayStats{Day: time.Unix(day*86400, 0).UTC()}
			days[day] = d
		}
		switch kind {
		case "c":
			d.Comments, d.Held = int(n), int(m)
		case "r":
			d.Reports = int(n)
		case "d":
			d.Decisions, d.Overturns = int(n), int(m)
		}
	}
	if err := rows.Err(); err != nil {
		return out, wrap(err, "read stats")
	}
	out.Days = store.SortDays(days)
	var oldest *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT count(*), min(created) FROM comments WHERE site_id = $1 AND status = 'pending'`, siteID).
		Scan(&out.Pending, &oldest); err != nil {
		return out, wrap(err, "read stats")
	}
	out.OldestPending = fromNull(oldest)
	return out, nil
}
