package sqlite

import (
	"context"
	"database/sql"
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
	rows, err := db.query(ctx, `SELECT id, site_id, banned_id, kind, value, seen, created, expires FROM ban_marks
		WHERE site_id IN (?, '') AND expires > ? ORDER BY id LIMIT ?`, siteID, millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("read ban marks: %w", err)
	}
	defer rows.Close()
	var out []store.BanMark
	for rows.Next() {
		var m store.BanMark
		var seen, created, expires int64
		if err := rows.Scan(&m.ID, &m.SiteID, &m.BannedID, &m.Kind, &m.Value, &seen, &created, &expires); err != nil {
			return nil, fmt.Errorf("read ban marks: %w", err)
		}
		m.Seen, m.Created, m.Expires = fromMillis(seen), fromMillis(created), fromMillis(expires)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ban marks: %w", err)
	}
	return out, nil
}

// PruneBanMarks deletes the marks that expired before the time.
func (db *DB) PruneBanMarks(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM ban_marks WHERE expires < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune ban marks: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// AddBanMarks stores marks in the unit and assigns their ids.
func (w *wtx) AddBanMarks(ms []store.BanMark) error {
	now := w.db.now()
	for i := range ms {
		m := &ms[i]
		if m.Created.IsZero() {
			m.Created = now
		}
		res, err := w.exec(`INSERT INTO ban_marks (site_id, banned_id, kind, value, seen, created, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.SiteID, m.BannedID, m.Kind, m.Value, millis(m.Seen), millis(m.Created), millis(m.Expires))
		if err != nil {
			return domainError(fmt.Errorf("store ban mark: %w", err), "user %q not found", m.BannedID)
		}
		if m.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// EndBanMarks makes the marks of one ban in force at at expire at at.
func (w *wtx) EndBanMarks(siteID, bannedID string, at time.Time) (int, error) {
	res, err := w.exec(`UPDATE ban_marks SET expires = ? WHERE site_id = ? AND banned_id = ? AND expires > ?`,
		millis(at), siteID, bannedID, millis(at))
	if err != nil {
		return 0, fmt.Errorf("end ban marks: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// AuthorComments returns an author's recent comments, newest first.
func (db *DB) AuthorComments(ctx context.Context, q store.AuthorQuery) ([]*parley.Comment, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	sql := `SELECT ` + commentCols + ` FROM comments WHERE author_id = ? AND created >= ?`
	args := []any{q.AuthorID, millis(q.Since)}
	if q.SiteID != "" {
		sql += ` AND site_id = ?`
		args = append(args, q.SiteID)
	}
	sql += ` ORDER BY created DESC, id DESC LIMIT ?`
	rows, err := db.query(ctx, sql, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read author comments: %w", err)
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
		return nil, fmt.Errorf("read author comments: %w", err)
	}
	return out, nil
}

// searchSQL: lower() folds ASCII letters only, on both sides.
const searchSQL = `SELECT ` + commentCols + ` FROM comments
	WHERE site_id = ?1 AND status <> 'deleted'
		AND (?2 = '' OR instr(lower(text), lower(?2)) > 0)
		AND (?3 = '' OR author_id = ?3 OR instr(lower(author_name), lower(?3)) > 0)
		AND (?4 = 0 OR page_id = ?4)
	ORDER BY created DESC, id DESC LIMIT ?5 OFFSET ?6`

// SearchComments returns a site's comments that match q, newest first.
func (db *DB) SearchComments(ctx context.Context, q store.CommentSearch) ([]*parley.Comment, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	rows, err := db.query(ctx, searchSQL, q.SiteID, q.Text, q.Author, q.PageID, limit, max(q.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("search comments: %w", err)
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
		return nil, fmt.Errorf("search comments: %w", err)
	}
	return out, nil
}

// statsSQL counts a site's comments, holds, reports and decisions per UTC
// day (day numbers since the epoch).
const statsSQL = `
SELECT created / 86400000 AS day, 'c' AS kind, count(*), count(reasons) FROM comments
	WHERE site_id = ?1 AND created >= ?2 GROUP BY day
UNION ALL
SELECT r.created / 86400000 AS day, 'r', count(*), 0 FROM reports r JOIN comments c ON c.id = r.comment_id
	WHERE c.site_id = ?1 AND r.created >= ?2 GROUP BY day
UNION ALL
SELECT created / 86400000 AS day, 'd', count(*),
	sum(CASE WHEN (action = 'approve' AND before NOT LIKE '%"status":"approved"%')
		OR (action = 'reject' AND before LIKE '%"status":"approved"%') THEN 1 ELSE 0 END)
	FROM actions WHERE site_id = ?1 AND created >= ?2 AND action IN ('approve', 'reject') GROUP BY day`

// Workload returns a site's workload per day since a time.
func (db *DB) Workload(ctx context.Context, siteID string, since time.Time) (store.SiteStats, error) {
	var out store.SiteStats
	rows, err := db.query(ctx, statsSQL, siteID, millis(since))
	if err != nil {
		return out, fmt.Errorf("read stats: %w", err)
	}
	defer rows.Close()
	days := map[int64]*store.DayStats{}
	for rows.Next() {
		var day, n, m int64
		var kind string
		if err := rows.Scan(&day, &kind, &n, &m); err != nil {
			return out, fmt.Errorf("read stats: %w", err)
		}
		addDay(days, day, kind, int(n), int(m))
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read stats: %w", err)
	}
	out.Days = store.SortDays(days)
	var oldest sql.NullInt64
	if err := db.queryRow(ctx, `SELECT count(*), min(created) FROM comments WHERE site_id = ? AND status = 'pending'`, siteID).
		Scan(&out.Pending, &oldest); err != nil {
		return out, fmt.Errorf("read stats: %w", err)
	}
	out.OldestPending = fromMillis(oldest.Int64)
	return out, nil
}

// addDay adds one row of statsSQL to its day.
func addDay(days map[int64]*store.DayStats, day int64, kind string, n, m int) {
	d := days[day]
	if d == nil {
		d = &store.DayStats{Day: time.Unix(day*86400, 0).UTC()}
		days[day] = d
	}
	switch kind {
	case "c":
		d.Comments, d.Held = n, m
	case "r":
		d.Reports = n
	case "d":
		d.Decisions, d.Overturns = n, m
	}
}
