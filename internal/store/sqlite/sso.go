package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// SiteSSO returns a site's single sign-on settings, the zero value with
// SiteID set when it has none. ENotFound when the site does not exist.
func (db *DB) SiteSSO(ctx context.Context, siteID string) (parley.SiteSSO, error) {
	out := parley.SiteSSO{SiteID: siteID}
	var secret []byte
	var jwks sql.NullString
	var only, updated sql.NullInt64
	err := db.queryRow(ctx, `SELECT x.secret, x.jwks_url, x.only_sso, x.updated
		FROM sites s LEFT JOIN site_sso x ON x.site_id = s.id WHERE s.id = ?`, siteID).
		Scan(&secret, &jwks, &only, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return out, fmt.Errorf("read site sso: %w", err)
	}
	if len(secret) > 0 {
		out.Secret = secret
	}
	out.JWKSURL, out.Only, out.Updated = jwks.String, only.Int64 == 1, fromMillis(updated.Int64)
	return out, nil
}

// SetSiteSSO replaces a site's single sign-on settings and records
// site.updated in the same transaction. ENotFound.
func (db *DB) SetSiteSSO(ctx context.Context, s parley.SiteSSO) error {
	return db.write(ctx, func(w *wtx) error { return w.SetSiteSSO(s) })
}

// SetSiteSSO replaces a site's single sign-on settings in the unit and
// records site.updated.
func (w *wtx) SetSiteSSO(s parley.SiteSSO) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = w.db.now()
	}
	only := 0
	if s.Only {
		only = 1
	}
	_, err := w.exec(`INSERT INTO site_sso (site_id, secret, jwks_url, only_sso, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site_id) DO UPDATE SET secret = excluded.secret, jwks_url = excluded.jwks_url,
			only_sso = excluded.only_sso, updated = excluded.updated`,
		s.SiteID, blob(s.Secret), s.JWKSURL, only, millis(updated))
	if err != nil {
		return domainError(fmt.Errorf("store site sso: %w", err), "site %q not found", s.SiteID)
	}
	return w.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.SiteID}})
}

// UseTokenID records a token id until it expires. EConflict when it was
// recorded before and has not expired at now; ENotFound for an unknown site.
func (db *DB) UseTokenID(ctx context.Context, siteID, jti string, expires, now time.Time) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`INSERT INTO sso_tokens (site_id, jti, expires) VALUES (?, ?, ?)
			ON CONFLICT (site_id, jti) DO UPDATE SET expires = excluded.expires WHERE sso_tokens.expires <= ?`,
			siteID, jti, millis(expires), millis(now))
		if err != nil {
			return domainError(fmt.Errorf("record token id: %w", err), "site %q not found", siteID)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return parley.Errorf(parley.EConflict, "token id %q of site %q was used before", jti, siteID)
		}
		return nil
	})
}

// PruneTokenIDs deletes the token ids that expired before the time.
func (db *DB) PruneTokenIDs(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM sso_tokens WHERE expires < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune token ids: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// UsersByRole returns the users with any of the roles, ordered by id.
func (db *DB) UsersByRole(ctx context.Context, roles []string) ([]*parley.User, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	args := make([]any, len(roles))
	for i, r := range roles {
		args[i] = r
	}
	q := `SELECT ` + userCols + ` FROM users WHERE role IN (?` + strings.Repeat(", ?", len(roles)-1) + `) ORDER BY id`
	return scanUsers(db.query(ctx, q, args...))
}
