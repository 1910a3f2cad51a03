package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// SiteOIDC returns a site's OpenID Connect settings, the zero value with
// SiteID set when it has none. ENotFound when the site does not exist.
func (db *DB) SiteOIDC(ctx context.Context, siteID string) (parley.SiteOIDC, error) {
	out := parley.SiteOIDC{SiteID: siteID}
	var issuer, clientID, scopes, name *string
	var secret, subjects []byte
	var mods *bool
	var updated *time.Time
	err := db.pool.QueryRow(ctx, `SELECT x.issuer, x.client_id, x.client_secret, x.scopes, x.provider_name,
			x.moderators, x.staff_subjects, x.updated
		FROM sites s LEFT JOIN site_oidc x ON x.site_id = s.id WHERE s.id = $1`, siteID).
		Scan(&issuer, &clientID, &secret, &scopes, &name, &mods, &subjects, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return out, wrap(err, "read site oidc")
	}
	if issuer == nil {
		return out, nil
	}
	out.Issuer, out.ClientID, out.ProviderName = *issuer, *clientID, *name
	if len(secret) > 0 {
		out.ClientSecret = secret
	}
	out.Scopes = strings.Fields(*scopes)
	out.Moderators = *mods
	out.Updated = updated.UTC()
	if err := json.Unmarshal(subjects, &out.StaffSubjects); err != nil {
		return out, fmt.Errorf("read site oidc staff subjects: %w", err)
	}
	if len(out.StaffSubjects) == 0 {
		out.StaffSubjects = nil
	}
	return out, nil
}

// SetSiteOIDC replaces a site's OpenID Connect settings and records
// site.updated in the same transaction. ENotFound.
func (db *DB) SetSiteOIDC(ctx context.Context, s parley.SiteOIDC) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetSiteOIDC(s) })
	return err
}

// SetSiteOIDC replaces a site's OpenID Connect settings in the unit and
// records site.updated.
func (t *ptx) SetSiteOIDC(s parley.SiteOIDC) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = t.db.now()
	}
	var secret []byte
	if len(s.ClientSecret) > 0 {
		secret = s.ClientSecret
	}
	subjects := []byte("{}")
	if len(s.StaffSubjects) > 0 {
		b, err := json.Marshal(s.StaffSubjects)
		if err != nil {
			return fmt.Errorf("encode staff subjects: %w", err)
		}
		subjects = b
	}
	_, err := t.Exec(t.ctx, `INSERT INTO site_oidc (site_id, issuer, client_id, client_secret, scopes, provider_name,
			moderators, staff_subjects, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (site_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
			client_secret = excluded.client_secret, scopes = excluded.scopes, provider_name = excluded.provider_name,
			moderators = excluded.moderators, staff_subjects = excluded.staff_subjects, updated = excluded.updated`,
		s.SiteID, s.Issuer, s.ClientID, secret, strings.Join(s.Scopes, " "), s.ProviderName, s.Moderators, string(subjects), updated)
	if err != nil {
		return domainError(err, "store site oidc", "site %q not found", s.SiteID)
	}
	return t.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.SiteID}})
}

// CreateOIDCLogin stores a sign-in in progress. EConflict for a known key
// hash, ENotFound for an unknown site.
func (db *DB) CreateOIDCLogin(ctx context.Context, l *store.OIDCLogin) error {
	if l.Created.IsZero() {
		l.Created = db.now()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_logins (key_hash, site_id, purpose, binder, nonce, verifier, origin, user_id, created, expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.KeyHash, l.SiteID, l.Purpose, l.Binder, l.Nonce, l.Verifier, l.Origin, l.UserID, l.Created, l.Expires)
	if err != nil {
		return domainError(err, "store oidc login", "sign-in of site %q not stored", l.SiteID)
	}
	return nil
}

// TakeOIDCLogin deletes the sign-in with the key hash and returns it.
// ENotFound when there is none or it had expired at now. The DELETE takes
// the row's lock: of two instances taking one sign-in, one gets it.
func (db *DB) TakeOIDCLogin(ctx context.Context, keyHash string, now time.Time) (*store.OIDCLogin, error) {
	var l store.OIDCLogin
	err := db.pool.QueryRow(ctx, `DELETE FROM oidc_logins WHERE key_hash = $1
		RETURNING key_hash, site_id, purpose, binder, nonce, verifier, origin, user_id, created, expires`, keyHash).
		Scan(&l.KeyHash, &l.SiteID, &l.Purpose, &l.Binder, &l.Nonce, &l.Verifier, &l.Origin, &l.UserID, &l.Created, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "no such sign-in")
	} else if err != nil {
		return nil, wrap(err, "take oidc login")
	}
	l.Created, l.Expires = l.Created.UTC(), l.Expires.UTC()
	if !now.Before(l.Expires) {
		return nil, parley.Errorf(parley.ENotFound, "the sign-in has expired")
	}
	return &l, nil
}

// PruneOIDCLogins deletes the sign-ins that expired before the time.
func (db *DB) PruneOIDCLogins(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM oidc_logins WHERE expires < $1`, before)
	if err != nil {
		return 0, wrap(err, "prune oidc logins")
	}
	return int(tag.RowsAffected()), nil
}
