package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	err := db.write(ctx, func(w *wtx) error {
		var n int
		if err := w.queryRow(`SELECT count(*) FROM sites WHERE id = ?`, m.SiteID).Scan(&n); err != nil {
			return fmt.Errorf("save site model: %w", err)
		}
		if n == 0 {
			return parley.Errorf(parley.ENotFound, "site %q not found", m.SiteID)
		}
		// The single writer runs one operation at a time, so the version
		// read here is still current when the row is written.
		var current int64
		err := w.queryRow(`SELECT version FROM site_models WHERE site_id = ?`, m.SiteID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("save site model: %w", err)
		}
		if current != m.Version {
			return parley.Errorf(parley.EConflict, "the model of site %q is at version %d, not %d: it was saved meanwhile", m.SiteID, current, m.Version)
		}
		version = current + 1
		if _, err := w.exec(`INSERT INTO site_models (site_id, version, model, decisions, base, created)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (site_id) DO UPDATE SET version = excluded.version, model = excluded.model,
				decisions = excluded.decisions, base = excluded.base, created = excluded.created`,
			m.SiteID, version, m.Model, m.Decisions, m.Base, millis(created)); err != nil {
			return domainError(fmt.Errorf("save site model: %w", err), "site model of %q rejected by the database", m.SiteID)
		}
		return w.events([]parley.Event{{Type: parley.EventSiteModel, SiteID: m.SiteID}})
	})
	if err != nil {
		return err
	}
	m.Version, m.Created = version, roundTrip(created)
	return nil
}

// SiteModel returns the current model of a site. ENotFound.
func (db *DB) SiteModel(ctx context.Context, siteID string) (*store.SiteModel, error) {
	m := store.SiteModel{SiteID: siteID}
	var created int64
	err := db.queryRow(ctx, `SELECT version, model, decisions, base, created FROM site_models WHERE site_id = ?`, siteID).
		Scan(&m.Version, &m.Model, &m.Decisions, &m.Base, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "site %q has no tuned model", siteID)
	} else if err != nil {
		return nil, fmt.Errorf("read site model: %w", err)
	}
	m.Created = fromMillis(created)
	return &m, nil
}

// SiteModelVersions returns the current model version of every site that
// has one.
func (db *DB) SiteModelVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := db.query(ctx, `SELECT site_id, version FROM site_models`)
	if err != nil {
		return nil, fmt.Errorf("read site model versions: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var site string
		var v int64
		if err := rows.Scan(&site, &v); err != nil {
			return nil, fmt.Errorf("read site model versions: %w", err)
		}
		out[site] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read site model versions: %w", err)
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
	args := []any{q.SiteID}
	for _, a := range q.Actions {
		args = append(args, a)
	}
	args = append(args, q.Limit)
	in := strings.TrimSuffix(strings.Repeat("?, ", len(q.Actions)), ", ")
	// The newest decision entry of each comment, the q.Limit most recent;
	// then the comment and the comment it quotes (quote_id 0 matches none).
	rows, err := db.query(ctx, `SELECT d.comment_id, a.action, c.text, coalesce(qc.text, ''), a.created
		FROM (SELECT comment_id, max(id) AS last FROM actions
			WHERE site_id = ? AND comment_id <> 0 AND action IN (`+in+`)
			GROUP BY comment_id ORDER BY last DESC LIMIT ?) d
		JOIN actions a ON a.id = d.last
		JOIN comments c ON c.id = d.comment_id
		LEFT JOIN comments qc ON qc.id = c.quote_id
		ORDER BY d.last`, args...)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	defer rows.Close()
	var out []store.Decision
	for rows.Next() {
		var d store.Decision
		var at int64
		if err := rows.Scan(&d.CommentID, &d.Action, &d.Text, &d.Quote, &at); err != nil {
			return nil, fmt.Errorf("read decisions: %w", err)
		}
		d.Decided = fromMillis(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return out, nil
}
