package postgres

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// pagesSQL lists a site's pages with their activity: the creation time of
// the comment numbered pages.last_number (one probe of comments_page_number
// per page), or the page's own when it has no comment. The search folds
// case with lower() on both sides.
const pagesSQL = `SELECT id, site_id, url, title, closed, count, policy, created, activity FROM (
	SELECT p.id, p.site_id, p.url, p.title, p.closed, p.count, p.policy, p.created,
		coalesce((SELECT c.created FROM comments c WHERE c.page_id = p.id AND c.number = p.last_number), p.created) AS activity
	FROM pages p
	WHERE p.site_id = $1 AND ($2 = '' OR strpos(lower(p.url), lower($2)) > 0 OR strpos(lower(p.title), lower($2)) > 0)) x
WHERE $3::bigint = 0 OR (activity, id) < ($4::timestamptz, $3::bigint)
ORDER BY activity DESC, id DESC
LIMIT $5`

// Pages lists the pages of a site for moderators, newest activity first.
func (db *DB) Pages(ctx context.Context, q store.PageQuery) ([]store.PageActivity, error) {
	return reader{db.pool}.Pages(ctx, q)
}

// Pages is DB.Pages on r's querier.
func (r reader) Pages(ctx context.Context, q store.PageQuery) ([]store.PageActivity, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rows, err := r.q.Query(ctx, pagesSQL, q.SiteID, q.Search, q.After.ID, q.After.Activity.UTC(), q.Limit)
	if err != nil {
		return nil, wrap(err, "list pages")
	}
	defer rows.Close()
	var out []store.PageActivity
	for rows.Next() {
		var p parley.Page
		var activity time.Time
		if err := rows.Scan(&p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &p.Created, &activity); err != nil {
			return nil, wrap(err, "list pages")
		}
		p.Created = p.Created.UTC()
		out = append(out, store.PageActivity{Page: &p, Activity: activity.UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list pages")
	}
	return out, nil
}

// SetPageSettings stores a page's closed flag and policy override and
// returns the ones it replaced; a change records page.updated. The page's
// row is locked first, so concurrent changes from any instance apply one
// after the other and each sees what it replaces.
func (db *DB) SetPageSettings(ctx context.Context, pageID int64, s store.PageSettings) (old store.PageSettings, err error) {
	_, err = db.unit(ctx, func(t *ptx) error {
		var err error
		old, err = t.SetPageSettings(pageID, s)
		return err
	})
	if err != nil {
		return store.PageSettings{}, err
	}
	return old, nil
}

// SetPageSettings is DB.SetPageSettings in the unit of t.
func (t *ptx) SetPageSettings(pageID int64, s store.PageSettings) (store.PageSettings, error) {
	ctx := t.ctx
	var old store.PageSettings
	if len(s.Policy) == 0 {
		s.Policy = nil
	}
	err := func() error {
		var site string
		old = store.PageSettings{}
		err := t.QueryRow(ctx, `SELECT site_id, closed, policy FROM pages WHERE id = $1 FOR UPDATE`, pageID).Scan(&site, &old.Closed, &old.Policy)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "page %d not found", pageID)
		} else if err != nil {
			return wrap(err, "read page")
		}
		if len(old.Policy) == 0 {
			old.Policy = nil
		}
		if old.Closed == s.Closed && bytes.Equal(old.Policy, s.Policy) {
			return nil
		}
		if _, err := t.Exec(ctx, `UPDATE pages SET closed = $2, policy = $3 WHERE id = $1`, pageID, s.Closed, s.Policy); err != nil {
			return domainError(err, "update page settings", "page %d rejected by the database", pageID)
		}
		return t.events([]parley.Event{{Type: parley.EventPageUpdated, SiteID: site, PageID: pageID}})
	}()
	if err != nil {
		return store.PageSettings{}, err
	}
	return old, nil
}
