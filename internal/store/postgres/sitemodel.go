package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// SaveSiteModel stores m as the site's current model if the site's current
// version is m.Version, and records site.model in the same transaction.
// EConflict when the version moved; ENotFound when the site does not exist.
func (db *DB) SaveSiteModel(ctx context.Context, m *store.SiteModel) error {
	if m.SiteID == "" || len(m.Model) == 0 {
		return parley.Errorf(parley.EInvalid, "a site model needs a site and its weights")
	}
	created := m.Created
	if created.IsZero() {
		created = db.now()
	}
	var version int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		var err error
		if m.Version == 0 {
			// Two first saves at once: the primary key lets one in and
			// turns the other into EConflict; a missing site fails the
			// foreign key (ENotFound).
			_, err = tx.Exec(ctx, `INSERT INTO site_models (site_id, version, model, decisions, base, created)
				VALUES ($1, 1, $2, $3, $4, $5)`, m.SiteID, m.Model, m.Decisions, m.Base, created)
			if err != nil {
				if classify(err) == parley.EConflict {
					return parley.Errorf(parley.EConflict, "site %q has a model already: it was saved meanwhile", m.SiteID)
				}
				return domainError(err, "save site model", "site %q not found", m.SiteID)
			}
			version = 1
		} else {
			// The row lock the UPDATE takes orders concurrent saves: the
			// second finds the version moved and changes nothing.
			err = tx.QueryRow(ctx, `UPDATE site_models SET version = version + 1, model = $3, decisions = $4, base = $5, created = $6
				WHERE site_id = $1 AND version = $2 RETURNING version`,
				m.SiteID, m.Version, m.Model, m.Decisions, m.Base, created).Scan(&version)
			if errors.Is(err, pgx.ErrNoRows) {
				return db.saveConflict(ctx, tx, m)
			} else if err != nil {
				return domainError(err, "save site model", "site model of %q rejected by the database", m.SiteID)
			}
		}
		return db.events(ctx, tx, []parley.Event{{Type: parley.EventSiteModel, SiteID: m.SiteID}})
	})
	if err != nil {
		return err
	}
	m.Version, m.Created = version, roundTrip(created)
	return nil
}

// saveConflict explains why a save replacing m.Version changed no row.
func (db *DB) saveConflict(ctx context.Context, tx pgx.Tx, m *store.SiteModel) error {
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM sites WHERE id = $1`, m.SiteID).Scan(&n); err != nil {
		return wrap(err, "save site model")
	}
	if n == 0 {
		return parley.Errorf(parley.ENotFound, "site %q not found", m.SiteID)
	}
	var current int64
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT version FROM site_models WHERE site_id = $1), 0)`, m.SiteID).Scan(&current); err != nil {
		return wrap(err, "save site model")
	}
	return parley.Errorf(parley.EConflict, "the model of site %q is at version %d, not %d: it was saved meanwhile", m.SiteID, current, m.Version)
}

// SiteModel returns the current model of a site. ENotFound.
func (db *DB) SiteModel(ctx context.Context, siteID string) (*store.SiteModel, error) {
	m := store.SiteModel{SiteID: siteID}
	err := db.pool.QueryRow(ctx, `SELECT version, model, decisions, base, created FROM site_models WHERE site_id = $1`, siteID).
		Scan(&m.Version, &m.Model, &m.Decisions, &m.Base, &m.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "site %q has no tuned model", siteID)
	} else if err != nil {
		return nil, wrap(err, "read site model")
	}
	m.Created = m.Created.UTC()
	return &m, nil
}

// SiteModelVersions returns the current model version of every site that
// has one.
func (db *DB) SiteModelVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT site_id, version FROM site_models`)
	if err != nil {
		return nil, wrap(err, "read site model versions")
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var site string
		var v int64
		if err := rows.Scan(&site, &v); err != nil {
			return nil, wrap(err, "read site model versions")
		}
		out[site] = v
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read site model versions")
	}
	return out, nil
}

// Decisions returns the latest decision on each of the most recently
// decided comments of a site, oldest first.
func (db *DB) Decisions(ctx context.Context, q store.DecisionQuery) ([]store.Decision, error) {
	if len(q.Actions) == 0 {
		return nil, parley.Errorf(parley.EInvalid, "name the audit actions that are decisions")
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	// The newest decision entry of each comment, the q.Limit most recent;
	// then the comment and the comment it quotes (quote_id 0 matches none).
	rows, err := db.pool.Query(ctx, `SELECT d.comment_id, a.action, c.text, coalesce(qc.text, ''), a.created
		FROM (SELECT comment_id, max(id) AS last FROM actions
			WHERE site_id = $1 AND comment_id <> 0 AND action = ANY($2)
			GROUP BY comment_id ORDER BY last DESC LIMIT $3) d
		JOIN actions a ON a.id = d.last
		JOIN comments c ON c.id = d.comment_id
		LEFT JOIN comments qc ON qc.id = c.quote_id
		ORDER BY d.last`, q.SiteID, q.Actions, q.Limit)
	if err != nil {
		return nil, wrap(err, "read decisions")
	}
	defer rows.Close()
	var out []store.Decision
	for rows.Next() {
		var d store.Decision
		if err := rows.Scan(&d.CommentID, &d.Action, &d.Text, &d.Quote, &d.Decided); err != nil {
			return nil, wrap(err, "read decisions")
		}
		d.Decided = d.Decided.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read decisions")
	}
	return out, nil
}
