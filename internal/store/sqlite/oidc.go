package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// SiteOIDC returns a site's OpenID Connect settings, the zero value with
// SiteID set when it has none. ENotFound when the site does not exist.
func (db *DB) SiteOIDC(ctx context.Context, siteID string) (parley.SiteOIDC, error) {
	out := parley.SiteOIDC{SiteID: siteID}
	var issuer, clientID, scopes, name, subjects sql.NullString
	var secret []byte
	var mods, updated sql.NullInt64
	err := db.queryRow(ctx, `SELECT x.issuer, x.client_id, x.client_secret, x.scopes, x.provider_name,
			x.moderators, x.staff_subjects, x.updated
		FROM sites s LEFT JOIN site_oidc x ON x.site_id = s.id WHERE s.id = ?`, siteID).
		Scan(&issuer, &clientID, &secret, &scopes, &name, &mods, &subjects, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return out, parley.Errorf(parley.ENotFound, "site %q not found", siteID)
	} else if err != nil {
		return out, fmt.Errorf("read site oidc: %w", err)
	}
	if !issuer.Valid {
		return out, nil
	}
	out.Issuer, out.ClientID, out.ProviderName = issuer.String, clientID.String, name.String
	if len(secret) > 0 {
		out.ClientSecret = secret
	}
	out.Scopes = strings.Fields(scopes.String)
	out.Moderators, out.Updated = mods.Int64 == 1, fromMillis(updated.Int64)
	if err := json.Unmarshal([]byte(subjects.String), &out.StaffSubjects); err != nil {
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
	return db.write(ctx, func(w *wtx) error { return w.SetSiteOIDC(s) })
}

// SetSiteOIDC replaces a site's OpenID Connect settings in the unit and
// records site.updated.
func (w *wtx) SetSiteOIDC(s parley.SiteOIDC) error {
	updated := s.Updated
	if updated.IsZero() {
		updated = w.db.now()
	}
	mods := 0
	if s.Moderators {
		mods = 1
	}
	subjects, err := staffSubjectsJSON(s.StaffSubjects)
	if err != nil {
		return err
	}
	_, err = w.exec(`INSERT INTO site_oidc (site_id, issuer, client_id, client_secret, scopes, provider_name,
			moderators, staff_subjects, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (site_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
			client_secret = excluded.client_secret, scopes = excluded.scopes, provider_name = excluded.provider_name,
			moderators = excluded.moderators, staff_subjects = excluded.staff_subjects, updated = excluded.updated`,
		s.SiteID, s.Issuer, s.ClientID, blob(s.ClientSecret), strings.Join(s.Scopes, " "), s.ProviderName,
		mods, subjects, millis(updated))
	if err != nil {
		return domainError(fmt.Errorf("store site oidc: %w", err), "site %q not found", s.SiteID)
	}
	return w.events([]parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.SiteID}})
}

func staffSubjectsJSON(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode staff subjects: %w", err)
	}
	return string(b), nil
}

// CreateOIDCLogin stores a sign-in in progress. EConflict for a known key
// hash, ENotFound for an unknown site.
func (db *DB) CreateOIDCLogin(ctx context.Context, l *store.OIDCLogin) error {
	if l.Created.IsZero() {
		l.Created = db.now()
	}
	return db.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO oidc_logins (key_hash, site_id, purpose, binder, nonce, verifier, origin, user_id, created, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			l.KeyHash, l.SiteID, l.Purpose, l.Binder, l.Nonce, l.Verifier, l.Origin, l.UserID, millis(l.Created), millis(l.Expires))
		if err != nil {
			return domainError(fmt.Errorf("store oidc login: %w", err), "sign-in of site %q not stored", l.SiteID)
		}
		return nil
	})
}

// TakeOIDCLogin deletes the sign-in with the key hash and returns it.
// ENotFound when there is none or it had expired at now.
func (db *DB) TakeOIDCLogin(ctx context.Context, keyHash string, now time.Time) (*store.OIDCLogin, error) {
	var l store.OIDCLogin
	var created, expires int64
	found := false
	err := db.write(ctx, func(w *wtx) error {
		found = false
		err := w.queryRow(`DELETE FROM oidc_logins WHERE key_hash = ?
			RETURNING key_hash, site_id, purpose, binder, nonce, verifier, origin, user_id, created, expires`, keyHash).
			Scan(&l.KeyHash, &l.SiteID, &l.Purpose, &l.Binder, &l.Nonce, &l.Verifier, &l.Origin, &l.UserID, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("take oidc login: %w", err)
	}
	if !found {
		return nil, parley.Errorf(parley.ENotFound, "no such sign-in")
	}
	l.Created, l.Expires = fromMillis(created), fromMillis(expires)
	if !now.Before(l.Expires) {
		return nil, parley.Errorf(parley.ENotFound, "the sign-in has expired")
	}
	return &l, nil
}

// PruneOIDCLogins deletes the sign-ins that expired before the time.
func (db *DB) PruneOIDCLogins(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM oidc_logins WHERE expires < ?`, millis(before))
		if err != nil {
			return fmt.Errorf("prune oidc logins: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
