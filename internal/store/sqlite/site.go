package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
)

const siteCols = `id, name, origins, policy_url, ignore_params, policy, created`

// CreateSite stores a new site, Created set when zero, and records
// site.updated in the same transaction, so that running instances allow its
// origins at once. EConflict if the id exists.
func (db *DB) CreateSite(ctx context.Context, s *parley.Site) error {
	return db.write(ctx, func(w *wtx) error { return w.CreateSite(s) })
}

// CreateSite is DB.CreateSite in the unit of w.
func (w *wtx) CreateSite(s *parley.Site) error {
	if s.ID == "" {
		return parley.Errorf(parley.EInvalid, "a site needs an id")
	}
	origins, params := jsonList(s.Origins), jsonList(s.IgnoreParams)
	created := s.Created
	if created.IsZero() {
		created = w.db.now()
	}
	err := func() error {
		_, err := w.exec(`INSERT INTO sites (`+siteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Name, origins, s.PolicyURL, params, blob(s.Policy), millis(created))
		if err != nil {
			return domainError(fmt.Errorf("insert site: %w", err), "site %q already exists", s.ID)
		}
		return w.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.ID}})
	}()
	if err != nil {
		return err
	}
	s.Created = roundTrip(created)
	return nil
}

// UpdateSite replaces the site's fields but its id and creation time and
// records site.updated in the same transaction. ENotFound.
func (db *DB) UpdateSite(ctx context.Context, s *parley.Site) error {
	return db.write(ctx, func(w *wtx) error { return w.UpdateSite(s) })
}

// UpdateSite is DB.UpdateSite in the unit of w.
func (w *wtx) UpdateSite(s *parley.Site) error {
	origins, params := jsonList(s.Origins), jsonList(s.IgnoreParams)
	res, err := w.exec(`UPDATE sites SET name = ?, origins = ?, policy_url = ?, ignore_params = ?, policy = ?
		WHERE id = ?`, s.Name, origins, s.PolicyURL, params, blob(s.Policy), s.ID)
	if err != nil {
		return fmt.Errorf("update site: %w", err)
	}
	if err := mustAffect(res, "site %q not found", s.ID); err != nil {
		return err
	}
	return w.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.ID}})
}

// Site returns one site. ENotFound.
func (db *DB) Site(ctx context.Context, id string) (*parley.Site, error) {
	s, err := scanSite(db.queryRow(ctx, `SELECT `+siteCols+` FROM sites WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "site %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read site: %w", err)
	}
	return s, nil
}

// Sites returns every site ordered by id.
func (db *DB) Sites(ctx context.Context) ([]*parley.Site, error) {
	rows, err := db.query(ctx, `SELECT `+siteCols+` FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []*parley.Site
	for rows.Next() {
		s, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanSite(sc scanner) (*parley.Site, error) {
	var s parley.Site
	var origins, params string
	var created int64
	if err := sc.Scan(&s.ID, &s.Name, &origins, &s.PolicyURL, &params, &s.Policy, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(origins), &s.Origins); err != nil {
		return nil, fmt.Errorf("site %q origins: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(params), &s.IgnoreParams); err != nil {
		return nil, fmt.Errorf("site %q ignored parameters: %w", s.ID, err)
	}
	s.Created = fromMillis(created)
	return &s, nil
}

// jsonList encodes a list of strings as a JSON array, [] for none.
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // strings always encode
	return string(b)
}

// blob returns b for a BLOB column: NULL when nil, so that nil round-trips.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// mustAffect returns ENotFound with the message when res changed no row.
func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return parley.Errorf(parley.ENotFound, format, args...)
	}
	return nil
}
