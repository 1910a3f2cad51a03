package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

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
	rows, err := db.pool.Query(ctx, `SELECT `+commentCols+` FROM comments WHERE author_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, wrap(err, "read reader's comments")
	}
	for rows.Next() {
		var c parley.Comment
		if err := scanComment(rows, &c); err != nil {
			rows.Close()
			return nil, wrap(err, "read reader's comments")
		}
		out.Comments = append(out.Comments, &c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read reader's comments")
	}
	rows, err = db.pool.Query(ctx, `SELECT comment_id, value FROM votes WHERE user_id = $1 ORDER BY comment_id`, userID)
	if err != nil {
		return nil, wrap(err, "read reader's votes")
	}
	for rows.Next() {
		v := parley.Vote{UserID: userID}
		if err := rows.Scan(&v.CommentID, &v.Value); err != nil {
			rows.Close()
			return nil, wrap(err, "read reader's votes")
		}
		out.Votes = append(out.Votes, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read reader's votes")
	}
	rrows, err := db.pool.Query(ctx, `SELECT `+reportCols+` FROM reports WHERE reporter_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, wrap(err, "read reader's reports")
	}
	if out.Reports, err = scanReports(rrows); err != nil {
		return nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT site_id, suspended_until, premoderated, updated FROM sanctions WHERE user_id = $1 ORDER BY site_id`, userID)
	if err != nil {
		return nil, wrap(err, "read reader's sanctions")
	}
	defer rows.Close()
	for rows.Next() {
		s := store.Sanction{UserID: userID}
		var until *time.Time
		if err := rows.Scan(&s.SiteID, &until, &s.Premoderated, &s.Updated); err != nil {
			return nil, wrap(err, "read reader's sanctions")
		}
		s.SuspendedUntil, s.Updated = fromNull(until), s.Updated.UTC()
		out.Sanctions = append(out.Sanctions, s)
	}
	return out, rows.Err()
}

// SiteErasure returns how a site treats an erased reader's comments.
func (db *DB) SiteErasure(ctx context.Context, siteID string) (string, error) {
	var mode *string
	err := db.pool.QueryRow(ctx, `SELECT p.erasure FROM sites s LEFT JOIN site_privacy p ON p.site_id = s.id WHERE s.id = $1`, siteID).Scan(&mode)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return "", wrap(err, "read site erasure")
	}
	if mode == nil {
		return store.ErasureAnonymise, nil
	}
	return *mode, nil
}

// SetSiteErasure stores how a site treats an erased reader's comments.
func (db *DB) SetSiteErasure(ctx context.Context, siteID, mode string) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetSiteErasure(siteID, mode) })
	return err
}

// SetSiteErasure is store.Tx.SetSiteErasure on PostgreSQL: in the unit,
// with site.updated.
func (t *ptx) SetSiteErasure(siteID, mode string) error {
	if mode != store.ErasureAnonymise && mode != store.ErasureRemove {
		return parley.Errorf(parley.EInvalid, "erasure must be %q or %q", store.ErasureAnonymise, store.ErasureRemove)
	}
	_, err := t.Exec(t.ctx, `INSERT INTO site_privacy (site_id, erasure) VALUES ($1, $2)
		ON CONFLICT (site_id) DO UPDATE SET erasure = excluded.erasure`, siteID, mode)
	if err != nil {
		return domainError(err, "store site erasure", "site %q not found", siteID)
	}
	return t.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: siteID}})
}

// eraseRow is one row an erasure changes: [id, page, site, status].
type eraseRow struct {
	id, page     int64
	site, status string
}

// rowsOf reads rows of four columns in one QueryRow (a unit runs its
// statements after its pending ones, one round trip each), as a JSON array.
func (t *ptx) rowsOf(q string, args ...any) ([]eraseRow, error) {
	var raw []byte
	if err := t.QueryRow(t.ctx, `SELECT coalesce(json_agg(json_build_array(a, b, c, d)), '[]') FROM (`+q+`) x(a, b, c, d)`, args...).Scan(&raw); err != nil {
		return nil, err
	}
	var rs [][4]any
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, err
	}
	out := make([]eraseRow, len(rs))
	for i, r := range rs {
		id, _ := r[0].(float64)
		page, _ := r[1].(float64)
		site, _ := r[2].(string)
		status, _ := r[3].(string)
		out[i] = eraseRow{int64(id), int64(page), site, status}
	}
	return out, nil
}

// EraseUser is store.Tx.EraseUser on PostgreSQL.
func (t *ptx) EraseUser(e store.Erasure) (store.Erased, error) {
	ctx := t.ctx
	var out store.Erased
	var one int
	if err := t.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, e.UserID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "user %q not found", e.UserID)
	} else if err != nil {
		return out, wrap(err, "read user")
	}
	cs, err := t.rowsOf(`SELECT id, page_id, site_id, status FROM comments WHERE author_id = $1 ORDER BY id`, e.UserID)
	if err != nil {
		return out, wrap(err, "read comments to erase")
	}
	for _, c := range cs {
		if !slices.Contains(out.Sites, c.site) {
			out.Sites = append(out.Sites, c.site)
		}
		if e.RemoveSites[c.site] {
			if c.status != parley.StatusDeleted {
				if _, err := t.SetStatus(c.id, parley.StatusDeleted, nil, false); err != nil {
					return out, err
				}
			}
			if _, err := t.Exec(ctx, `UPDATE comments SET author_id = '', author_name = $2, ip_hash = '', text = '', html = '', text_hash = 0, reasons = NULL
				WHERE id = $1`, c.id, e.Name); err != nil {
				return out, wrap(err, "erase comment")
			}
			out.Removed++
		} else {
			if _, err := t.Exec(ctx, `UPDATE comments SET author_id = '', author_name = $2, ip_hash = '' WHERE id = $1`, c.id, e.Name); err != nil {
				return out, wrap(err, "anonymise comment")
			}
			out.Anonymised++
		}
		if err := t.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: c.site, PageID: c.page, CommentID: c.id}}); err != nil {
			return out, err
		}
	}
	vs, err := t.rowsOf(`SELECT comment_id, value::bigint, ''::text, ''::text FROM votes WHERE user_id = $1 ORDER BY comment_id`, e.UserID)
	if err != nil {
		return out, wrap(err, "read votes to erase")
	}
	for _, v := range vs {
		if _, err := t.Vote(parley.Vote{CommentID: v.id, UserID: e.UserID, Value: 0}); err != nil {
			return out, err
		}
		out.Votes++
	}
	rs, err := t.rowsOf(`SELECT r.id, c.page_id, c.site_id, ''::text FROM reports r JOIN comments c ON c.id = r.comment_id
		WHERE r.reporter_id = $1 ORDER BY r.id`, e.UserID)
	if err != nil {
		return out, wrap(err, "read reports to erase")
	}
	for _, r := range rs {
		if _, err := t.Exec(ctx, `DELETE FROM reports WHERE id = $1`, r.id); err != nil {
			return out, wrap(err, "erase report")
		}
		if err := t.events([]parley.Event{{Type: parley.EventQueueChanged, SiteID: r.site, PageID: r.page}}); err != nil {
			return out, err
		}
		out.Reports++
	}
	for _, q := range []string{
		`DELETE FROM notes WHERE user_id = $1`,
		`DELETE FROM sanctions WHERE user_id = $1`,
		`DELETE FROM staff_sessions WHERE user_id = $1`,
		`DELETE FROM oidc_logins WHERE user_id = $1`,
		`DELETE FROM author_stats WHERE author_id = $1`,
		`UPDATE actions SET user_id = '', note = '' WHERE user_id = $1`,
		`DELETE FROM users WHERE id = $1`,
	} {
		if _, err := t.Exec(ctx, q, e.UserID); err != nil {
			return out, wrap(err, fmt.Sprintf("erase user (%s)", q))
		}
	}
	return out, nil
}
