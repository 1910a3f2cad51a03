package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

const siteCols = `id, name, origins, policy_url, ignore_params, policy, created`

// CreateSite stores a new site, Created set when zero, and records
// site.updated in the same transaction, so that running instances allow its
// origins at once. EConflict if the id exists.
func (db *DB) CreateSite(ctx context.Context, s *parley.Site) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.CreateSite(s) })
	return err
}

// CreateSite is DB.CreateSite in the unit of t.
func (t *ptx) CreateSite(s *parley.Site) error {
	if s.ID == "" {
		return parley.Errorf(parley.EInvalid, "a site needs an id")
	}
	created := s.Created
	if created.IsZero() {
		created = t.db.now()
	}
	_, err := t.Exec(t.ctx, `INSERT INTO sites (`+siteCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.ID, s.Name, list(s.Origins), s.PolicyURL, list(s.IgnoreParams), s.Policy, created)
	if err != nil {
		return domainError(err, "insert site", "site %q already exists", s.ID)
	}
	t.record([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.ID}})
	s.Created = roundTrip(created)
	return nil
}

// UpdateSite replaces the site's fields but its id and creation time and
// records site.updated in the same transaction. ENotFound.
func (db *DB) UpdateSite(ctx context.Context, s *parley.Site) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.UpdateSite(s) })
	return err
}

// UpdateSite is DB.UpdateSite in the unit of t.
func (t *ptx) UpdateSite(s *parley.Site) error {
	tag, err := t.Exec(t.ctx, `UPDATE sites SET name = $2, origins = $3, policy_url = $4, ignore_params = $5, policy = $6
		WHERE id = $1`, s.ID, s.Name, list(s.Origins), s.PolicyURL, list(s.IgnoreParams), s.Policy)
	if err != nil {
		return domainError(err, "update site", "site %q rejected by the database", s.ID)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENotFound, "site %q not found", s.ID)
	}
	return t.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.ID}})
}

// Site returns one site. ENotFound.
func (db *DB) Site(ctx context.Context, id string) (*parley.Site, error) {
	s, err := scanSite(db.pool.QueryRow(ctx, `SELECT `+siteCols+` FROM sites WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "site %q not found", id)
	} else if err != nil {
		return nil, wrap(err, "read site")
	}
	return s, nil
}

// Sites returns every site ordered by id.
func (db *DB) Sites(ctx context.Context) ([]*parley.Site, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+siteCols+` FROM sites ORDER BY id`)
	if err != nil {
		return nil, wrap(err, "list sites")
	}
	defer rows.Close()
	var out []*parley.Site
	for rows.Next() {
		s, err := scanSite(rows)
		if err != nil {
			return nil, wrap(err, "list sites")
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list sites")
	}
	return out, nil
}

func scanSite(row pgx.Row) (*parley.Site, error) {
	var s parley.Site
	if err := row.Scan(&s.ID, &s.Name, &s.Origins, &s.PolicyURL, &s.IgnoreParams, &s.Policy, &s.Created); err != nil {
		return nil, err
	}
	s.Created = s.Created.UTC()
	return &s, nil
}

// list returns l for a NOT NULL text[] column: an empty array for nil.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
