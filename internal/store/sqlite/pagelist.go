package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// pagesSQL lists a site's pages with their activity: the creation time of
// the comment numbered pages.last_number (one probe of comments_page_number
// per page), or the page's own when it has no comment. lower() folds ASCII
// letters only, on both sides, so a search matches whatever it spells
// exactly and ASCII letters in either case.
const pagesSQL = `SELECT id, site_id, url, title, closed, count, policy, created, activity FROM (
	SELECT p.id, p.site_id, p.url, p.title, p.closed, p.count, p.policy, p.created,
		coalesce((SELECT c.created FROM comments c WHERE c.page_id = p.id AND c.number = p.last_number), p.created) AS activity
	FROM pages p
	WHERE p.site_id = ?1 AND (?2 = '' OR instr(lower(p.url), lower(?2)) > 0 OR instr(lower(p.title), lower(?2)) > 0))
WHERE ?3 = 0 OR activity < ?4 OR (activity = ?4 AND id < ?3)
ORDER BY activity DESC, id DESC
LIMIT ?5`

// Pages lists the pages of a site for moderators, newest activity first.
func (db *DB) Pages(ctx context.Context, q store.PageQuery) ([]store.PageActivity, error) {
	return pages(ctx, db.query, q)
}

// pages runs Pages with query: on the reader pool, or in a snapshot.
func pages(ctx context.Context, query queryFunc, q store.PageQuery) ([]store.PageActivity, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rows, err := query(ctx, pagesSQL, q.SiteID, q.Search, q.After.ID, millis(q.After.Activity), q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	defer rows.Close()
	var out []store.PageActivity
	for rows.Next() {
		var p parley.Page
		var created, activity int64
		if err := rows.Scan(&p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &created, &activity); err != nil {
			return nil, fmt.Errorf("list pages: %w", err)
		}
		p.Created = fromMillis(created)
		out = append(out, store.PageActivity{Page: &p, Activity: fromMillis(activity)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	return out, nil
}

// SetPageSettings stores a page's closed flag and policy override and
// returns the ones it replaced; a change records page.updated.
func (db *DB) SetPageSettings(ctx context.Context, pageID int64, s store.PageSettings) (old store.PageSettings, err error) {
	err = db.write(ctx, func(w *wtx) error {
		var err error
		old, err = w.SetPageSettings(pageID, s)
		return err
	})
	if err != nil {
		return store.PageSettings{}, err
	}
	return old, nil
}

// SetPageSettings is DB.SetPageSettings in the unit of w.
func (w *wtx) SetPageSettings(pageID int64, s store.PageSettings) (store.PageSettings, error) {
	var old store.PageSettings
	if len(s.Policy) == 0 {
		s.Policy = nil
	}
	err := func() error {
		var site string
		var policy []byte
		old = store.PageSettings{}
		err := w.queryRow(`SELECT site_id, closed, policy FROM pages WHERE id = ?`, pageID).Scan(&site, &old.Closed, &policy)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "page %d not found", pageID)
		} else if err != nil {
			return fmt.Errorf("read page: %w", err)
		}
		old.Policy = nil
		if len(policy) > 0 {
			old.Policy = bytes.Clone(policy)
		}
		if old.Closed == s.Closed && bytes.Equal(old.Policy, s.Policy) {
			return nil
		}
		if _, err := w.exec(`UPDATE pages SET closed = ?, policy = ? WHERE id = ?`, s.Closed, blob(s.Policy), pageID); err != nil {
			return fmt.Errorf("update page settings: %w", err)
		}
		return w.events([]parley.Event{{Type: parley.EventPageUpdated, SiteID: site, PageID: pageID}})
	}()
	if err != nil {
		return store.PageSettings{}, err
	}
	return old, nil
}
