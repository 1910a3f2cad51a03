package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	// Most calls find the page as it is: answer those from a reader
	// without queueing for the writer.
	p, err := db.Page(ctx, siteID, url)
	if err == nil && (title == "" || title == p.Title) {
		return p, nil
	} else if err != nil && parley.ErrorCode(err) != parley.ENotFound {
		return nil, err
	}
	now := millis(db.now())
	err = db.write(ctx, func(w *wtx) error {
		var one int
		err := w.queryRow(`SELECT 1 FROM sites WHERE id = ?`, siteID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "site %q not found", siteID)
		} else if err != nil {
			return fmt.Errorf("read site: %w", err)
		}
		if _, err := w.exec(`INSERT INTO pages (site_id, url, title, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (site_id, url) DO UPDATE SET title = excluded.title
			WHERE excluded.title <> '' AND excluded.title <> pages.title`,
			siteID, url, title, now); err != nil {
			return fmt.Errorf("upsert page: %w", err)
		}
		p, err = scanPage(w.queryRow(`SELECT `+pageCols+` FROM pages WHERE site_id = ? AND url = ?`, siteID, url))
		if err != nil {
			return fmt.Errorf("read page: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Page returns the page of siteID with the canonical url. ENotFound.
func (db *DB) Page(ctx context.Context, siteID, url string) (*parley.Page, error) {
	p, err := scanPage(db.queryRow(ctx, `SELECT `+pageCols+` FROM pages WHERE site_id = ? AND url = ?`, siteID, url))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "page %q of site %q not found", url, siteID)
	} else if err != nil {
		return nil, fmt.Errorf("read page: %w", err)
	}
	return p, nil
}

// PageByID returns one page. ENotFound.
func (db *DB) PageByID(ctx context.Context, id int64) (*parley.Page, error) {
	p, err := scanPage(db.queryRow(ctx, `SELECT `+pageCols+` FROM pages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "page %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read page: %w", err)
	}
	return p, nil
}

// UpdatePage stores the page's title, closed flag and policy. ENotFound.
func (db *DB) UpdatePage(ctx context.Context, p *parley.Page) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE pages SET title = ?, closed = ?, policy = ? WHERE id = ?`,
			p.Title, p.Closed, blob(p.Policy), p.ID)
		if err != nil {
			return fmt.Errorf("update page: %w", err)
		}
		return mustAffect(res, "page %d not found", p.ID)
	})
}

// countsChunk bounds the urls of one Counts query, well under SQLite's
// limit on bound parameters.
const countsChunk = 500

// Counts returns the approved-comment count of each of the canonical urls of
// siteID that has a page; urls without a page are absent.
func (db *DB) Counts(ctx context.Context, siteID string, urls []string) (map[string]int, error) {
	out := make(map[string]int, len(urls))
	for len(urls) > 0 {
		chunk := urls[:min(len(urls), countsChunk)]
		urls = urls[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, siteID)
		for _, u := range chunk {
			args = append(args, u)
		}
		q := `SELECT url, count FROM pages WHERE site_id = ? AND url IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := db.rdb.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("count comments: %w", err)
		}
		for rows.Next() {
			var u string
			var n int
			if err := rows.Scan(&u, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("count comments: %w", err)
			}
			out[u] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("count comments: %w", err)
		}
	}
	return out, nil
}

func scanPage(sc scanner) (*parley.Page, error) {
	var p parley.Page
	var created int64
	if err := sc.Scan(&p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &created); err != nil {
		return nil, err
	}
	p.Created = fromMillis(created)
	return &p, nil
}
