package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// ReaderRows returns a user's comments, votes, reports and sanctions.
// ENotFound when the user does not exist.
func (db *DB) ReaderRows(ctx context.Context, userID string) (*store.ReaderRows, error) {
	if _, err := db.User(ctx, userID); err != nil {
		return nil, err
	}
	out := &store.ReaderRows{}
	rows, err := db.query(ctx, `SELECT `+commentCols+`, site_id FROM comments WHERE author_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read reader's comments: %w", err)
	}
	for rows.Next() {
		var c parley.Comment
		var site string
		if err := scanComment(extraScanner{rows, &site}, &c); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read reader's comments: %w", err)
		}
		out.Comments = append(out.Comments, &c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reader's comments: %w", err)
	}
	rows, err = db.query(ctx, `SELECT comment_id, value FROM votes WHERE user_id = ? ORDER BY comment_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read reader's votes: %w", err)
	}
	for rows.Next() {
		v := parley.Vote{UserID: userID}
		if err := rows.Scan(&v.CommentID, &v.Value); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read reader's votes: %w", err)
		}
		out.Votes = append(out.Votes, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reader's votes: %w", err)
	}
	rrows, err := db.query(ctx, `SELECT `+reportCols+` FROM reports WHERE reporter_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read reader's reports: %w", err)
	}
	if out.Reports, err = scanReports(rrows); err != nil {
		return nil, err
	}
	rows, err = db.query(ctx, `SELECT site_id, suspended_until, premoderated, updated FROM sanctions WHERE user_id = ? ORDER BY site_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read reader's sanctions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s := store.Sanction{UserID: userID}
		var until, updated int64
		if err := rows.Scan(&s.SiteID, &until, &s.Premoderated, &updated); err != nil {
			return nil, fmt.Errorf("read reader's sanctions: %w", err)
		}
		s.SuspendedUntil, s.Updated = fromMillis(until), fromMillis(updated)
		out.Sanctions = append(out.Sanctions, s)
	}
	return out, rows.Err()
}

// extraScanner scans a row of commentCols followed by more columns.
type extraScanner struct {
	rows  *sql.Rows
	extra *string
}

func (e extraScanner) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.extra)...) }

// SiteErasure returns how a site treats an erased reader's comments.
func (db *DB) SiteErasure(ctx context.Context, siteID string) (string, error) {
	var mode sql.NullString
	err := db.queryRow(ctx, `SELECT p.erasure FROM sites s LEFT JOIN site_privacy p ON p.site_id = s.id WHERE s.id = ?`, siteID).Scan(&mode)
	if errors.Is(err, sql.ErrNoRows) {
		return "", parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return "", fmt.Errorf("read site erasure: %w", err)
	}
	if !mode.Valid {
		return store.ErasureAnonymise, nil
	}
	return mode.String, nil
}

// SetSiteErasure stores how a site treats an erased reader's comments.
func (db *DB) SetSiteErasure(ctx context.Context, siteID, mode string) error {
	return db.write(ctx, func(w *wtx) error { return w.SetSiteErasure(siteID, mode) })
}

// SetSiteErasure is store.Tx.SetSiteErasure on SQLite: in the unit, with
// site.updated.
func (w *wtx) SetSiteErasure(siteID, mode string) error {
	if mode != store.ErasureAnonymise && mode != store.ErasureRemove {
		return parley.Errorf(parley.EInvalid, "erasure must be %q or %q", store.ErasureAnonymise, store.ErasureRemove)
	}
	_, err := w.exec(`INSERT INTO site_privacy (site_id, erasure) VALUES (?, ?)
		ON CONFLICT (site_id) DO UPDATE SET erasure = excluded.erasure`, siteID, mode)
	if err != nil {
		return domainError(fmt.Errorf("store site erasure: %w", err), "site %q not found", siteID)
	}
	return w.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: siteID}})
}

// EraseUser is store.Tx.EraseUser on SQLite.
func (w *wtx) EraseUser(e store.Erasure) (store.Erased, error) {
	var out store.Erased
	var one int
	if err := w.queryRow(`SELECT 1 FROM users WHERE id = ?`, e.UserID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "user %q not found", e.UserID)
	} else if err != nil {
		return out, fmt.Errorf("read user: %w", err)
	}
	type row struct {
		id, page     int64
		site, status string
	}
	read := func(q string, args ...any) ([]row, error) {
		rows, err := w.tx.QueryContext(w.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.page, &r.site, &r.status); err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		return rs, rows.Err()
	}
	cs, err := read(`SELECT id, page_id, site_id, status FROM comments WHERE author_id = ? ORDER BY id`, e.UserID)
	if err != nil {
		return out, fmt.Errorf("read comments to erase: %w", err)
	}
	for _, c := range cs {
		if !slices.Contains(out.Sites, c.site) {
			out.Sites = append(out.Sites, c.site)
		}
		if e.RemoveSites[c.site] {
			if c.status != parley.StatusDeleted {
				if _, err := w.SetStatus(c.id, parley.StatusDeleted, nil, false); err != nil {
					return out, err
				}
			}
			if _, err := w.exec(`UPDATE comments SET author_id = '', author_name = ?, ip_hash = '', text = '', html = '', text_hash = 0, reasons = NULL
				WHERE id = ?`, e.Name, c.id); err != nil {
				return out, fmt.Errorf("erase comment: %w", err)
			}
			out.Removed++
		} else {
			if _, err := w.exec(`UPDATE comments SET author_id = '', author_name = ?, ip_hash = '' WHERE id = ?`, e.Name, c.id); err != nil {
				return out, fmt.Errorf("anonymise comment: %w", err)
			}
			out.Anonymised++
		}
		if err := w.touch(c.page); err != nil {
			return out, err
		}
		if err := w.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: c.site, PageID: c.page, CommentID: c.id}}); err != nil {
			return out, err
		}
	}
	vs, err := read(`SELECT comment_id, value, '', '' FROM votes WHERE user_id = ? ORDER BY comment_id`, e.UserID)
	if err != nil {
		return out, fmt.Errorf("read votes to erase: %w", err)
	}
	for _, v := range vs {
		if _, err := w.Vote(parley.Vote{CommentID: v.id, UserID: e.UserID, Value: 0}); err != nil {
			return out, err
		}
		out.Votes++
	}
	rs, err := read(`SELECT r.id, c.page_id, c.site_id, '' FROM reports r JOIN comments c ON c.id = r.comment_id
		WHERE r.reporter_id = ? ORDER BY r.id`, e.UserID)
	if err != nil {
		return out, fmt.Errorf("read reports to erase: %w", err)
	}
	for _, r := range rs {
		if _, err := w.exec(`DELETE FROM reports WHERE id = ?`, r.id); err != nil {
			return out, fmt.Errorf("erase report: %w", err)
		}
		if err := w.touch(r.page); err != nil {
			return out, err
		}
		if err := w.events([]parley.Event{{Type: parley.EventQueueChanged, SiteID: r.site, PageID: r.page}}); err != nil {
			return out, err
		}
		out.Reports++
	}
	for _, q := range []string{
		`DELETE FROM notes WHERE user_id = ?`,
		`DELETE FROM sanctions WHERE user_id = ?`,
		`DELETE FROM staff_sessions WHERE user_id = ?`,
		`DELETE FROM oidc_logins WHERE user_id = ?`,
		`DELETE FROM author_stats WHERE author_id = ?`,
		`UPDATE actions SET user_id = '', note = '' WHERE user_id = ?`,
		`DELETE FROM users WHERE id = ?`,
	} {
		if _, err := w.exec(q, e.UserID); err != nil {
			return out, fmt.Errorf("erase user: %w", err)
		}
	}
	return out, nil
}
