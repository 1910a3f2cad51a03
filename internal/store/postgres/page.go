package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

const pageCols = `id, site_id, url, title, closed, count, policy, created`

// EnsurePage returns the page of siteID with the canonical url, creating it
// with the title when missing, and updating the title when title is non-empty
// and differs. ENotFound when the site does not exist.
func (db *DB) EnsurePage(ctx context.Context, siteID, url, title string) (*parley.Page, error) {
	if url == "" {
		return nil, parley.Errorf(parley.EInvalid, "a page needs a url")
	}
	// Most calls find the page as it is: answer those with a plain read,
	// which takes no lock.
	p, err := db.Page(ctx, siteID, url)
	if err == nil && (title == "" || title == p.Title) {
		return p, nil
	} else if err != nil && parley.ErrorCode(err) != parley.ENotFound {
		return nil, err
	}
	// One statement creates the page or updates its title; when it does
	// neither (another instance created it meanwhile with this title), it
	// returns no row and the page is read again.
	p, err = scanPage(db.pool.QueryRow(ctx, `INSERT INTO pages (site_id, url, title, created) VALUES ($1, $2, $3, $4)
		ON CONFLICT (site_id, url) DO UPDATE SET title = excluded.title
		WHERE excluded.title <> '' AND excluded.title <> pages.title
		RETURNING `+pageCols, siteID, url, title, db.now()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return db.Page(ctx, siteID, url)
	case classify(err) == parley.ENotFound: // the foreign key to sites
		return nil, parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	case err != nil:
		return nil, domainError(err, "upsert page", "page %q rejected by the database", url)
	}
	return p, nil
}

// Page returns the page of siteID with the canonical url. ENotFound.
func (db *DB) Page(ctx context.Context, siteID, url string) (*parley.Page, error) {
	p, err := scanPage(db.pool.QueryRow(ctx, `SELECT `+pageCols+` FROM pages WHERE site_id = $1 AND url = $2`, siteID, url))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "page %q of site %q not found", url, siteID)
	} else if err != nil {
		return nil, wrap(err, "read page")
	}
	return p, nil
}

// PageByID returns one page. ENotFound.
func (db *DB) PageByID(ctx context.Context, id int64) (*parley.Page, error) {
	p, err := scanPage(db.pool.QueryRow(ctx, `SELECT `+pageCols+` FROM pages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "page %d not found", id)
	} else if err != nil {
		return nil, wrap(err, "read page")
	}
	return p, nil
}

// UpdatePage stores the page's title, closed flag and policy. ENotFound.
func (db *DB) UpdatePage(ctx context.Context, p *parley.Page) error {
	tag, err := db.pool.Exec(ctx, `UPDATE pages SET title = $2, closed = $3, policy = $4 WHERE id = $1`,
		p.ID, p.Title, p.Closed, p.Policy)
	if err != nil {
		return domainError(err, "update page", "page %d rejected by the database", p.ID)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "page %d not found", p.ID)
	}
	return nil
}

// Counts returns the approved-comment count of each of the canonical urls of
// siteID that has a page; urls without a page are absent. The urls go as one
// array parameter, however many there are: one index probe each.
func (db *DB) Counts(ctx context.Context, siteID string, urls []string) (map[string]int, error) {
	out := make(map[string]int, len(urls))
	if len(urls) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT url, count FROM pages WHERE site_id = $1 AND url = ANY($2)`, siteID, urls)
	if err != nil {
		return nil, wrap(err, "count comments")
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			return nil, wrap(err, "count comments")
		}
		out[u] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "count comments")
	}
	return out, nil
}

func scanPage(row pgx.Row) (*parley.Page, error) {
	var p parley.Page
	if err := row.Scan(&p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &p.Created); err != nil {
		return nil, err
	}
	p.Created = p.Created.UTC()
	return &p, nil
}
