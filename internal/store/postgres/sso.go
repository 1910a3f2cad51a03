package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// SiteSSO returns a site's single sign-on settings, the zero value with
// SiteID set when it has none. ENotFound when the site does not exist.
func (db *DB) SiteSSO(ctx context.Context, siteID string) (parley.SiteSSO, error) {
	out := parley.SiteSSO{SiteID: siteID}
	var secret []byte
	var jwks *string
	var only *bool
	var updated *time.Time
	err := db.pool.QueryRow(ctx, `SELECT x.secret, x.jwks_url, x.only_sso, x.updated
		FROM sites s LEFT JOIN site_sso x ON x.site_id = s.id WHERE s.id = $1`, siteID).
		Scan(&secret, &jwks, &only, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return out, wrap(err, "read site sso")
	}
	if len(secret) > 0 {
		out.Secret = secret
	}
	if jwks != nil {
		out.JWKSURL = *jwks
	}
	out.Only = only != nil && *only
	if updated != nil {
		out.Updated = updated.UTC()
	}
	return out, nil
}

// SetSiteSSO replaces a site's single sign-on settings and records
// site.updated in the same transaction. ENotFound.
func (db *DB) SetSiteSSO(ctx context.Context, s parley.SiteSSO) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetSiteSSO(s) })
	return err
}

// SetSiteSSO replaces a site's single sign-on settings in the unit and
// records site.updated.
func (t *ptx) SetSiteSSO(s parley.SiteSSO) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = t.db.now()
	}
	var secret []byte
	if len(s.Secret) > 0 {
		secret = s.Secret
	}
	_, err := t.Exec(t.ctx, `INSERT INTO site_sso (site_id, secret, jwks_url, only_sso, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (site_id) DO UPDATE SET secret = excluded.secret, jwks_url = excluded.jwks_url,
			only_sso = excluded.only_sso, updated = excluded.updated`,
		s.SiteID, secret, s.JWKSURL, s.Only, updated)
	if err != nil {
		return domainError(err, "store site sso", "site %q not found", s.SiteID)
	}
	return t.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.SiteID}})
}

// UseTokenID records a token id until it expires. EConflict when it was
// recorded before and has not expired at now; ENotFound for an unknown site.
// The primary key makes two instances presenting the same token at once
// race for one row: one inserts, the other's upsert finds an unexpired row.
func (db *DB) UseTokenID(ctx context.Context, siteID, jti string, expires, now time.Time) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO sso_tokens (site_id, jti, expires) VALUES ($1, $2, $3)
		ON CONFLICT (site_id, jti) DO UPDATE SET expires = excluded.expires WHERE sso_tokens.expires <= $4`,
		siteID, jti, expires, now)
	if err != nil {
		return domainError(err, "record token id", "site %q not found", siteID)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.EConflict, "token id %q of site %q was used before", jti, siteID)
	}
	return nil
}

// PruneTokenIDs deletes the token ids that expired before the time.
func (db *DB) PruneTokenIDs(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sso_tokens WHERE expires < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune token ids")
	}
	return int(tag.RowsAffected()), nil
}

// UsersByRole returns the users with any of the roles, ordered by id.
func (db *DB) UsersByRole(ctx context.Context, roles []string) ([]*parley.User, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+userCols+` FROM users WHERE role = ANY($1) ORDER BY id`, roles)
	if err != nil {
		return nil, wrap(err, "read users by role")
	}
	defer rows.Close()
	var out []*parley.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "read users by role")
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read users by role")
	}
	return out, nil
}
