package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// AuditSSO names the audit entry of a change to a site's single sign-on.
const AuditSSO = "sso"

// MinSSOSecret is the shortest HS256 secret a site may use, in bytes.
const MinSSOSecret = 32

// SSOSettings is a change to a site's single sign-on; nil fields are kept.
// A secret and a JWKS URL exclude each other: setting one clears the other.
type SSOSettings struct {
	Secret      []byte // nil keeps the secret; see ClearSecret
	ClearSecret bool
	JWKSURL     *string // "" turns JWKS off
	Only        *bool
}

// SiteSSO returns a site's single sign-on settings, for its admins. The
// caller must not show the secret: say whether one is set.
func (s *Service) SiteSSO(ctx context.Context, a Actor, siteID string) (parley.SiteSSO, error) {
	if err := mayConfigureSSO(a); err != nil {
		return parley.SiteSSO{}, err
	}
	return s.store.SiteSSO(ctx, siteID)
}

func mayConfigureSSO(a Actor) error {
	if a.Admin || (a.User != nil && a.User.Role == parley.RoleAdmin) {
		return nil
	}
	return parley.Errorf(parley.EForbidden, "Only an admin may change how readers sign in.")
}

// SetSiteSSO changes a site's single sign-on settings (admins only),
// audited without the secret, and returns the new settings.
func (s *Service) SetSiteSSO(ctx context.Context, a Actor, siteID string, in SSOSettings) (parley.SiteSSO, error) {
	if err := mayConfigureSSO(a); err != nil {
		return parley.SiteSSO{}, err
	}
	old, err := s.store.SiteSSO(ctx, siteID)
	if err != nil {
		return old, err
	}
	next := old
	next.Updated = s.now()
	if in.ClearSecret {
		next.Secret = nil
	}
	if in.Secret != nil {
		if len(in.Secret) < MinSSOSecret {
			return old, parley.Errorf(parley.EInvalid, "the SSO secret is %d bytes; it needs at least %d (e.g. openssl rand -hex 32)", len(in.Secret), MinSSOSecret)
		}
		next.Secret, next.JWKSURL = in.Secret, ""
	}
	if in.JWKSURL != nil {
		u := strings.TrimSpace(*in.JWKSURL)
		if u != "" {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
				return old, parley.Errorf(parley.EInvalid, "the JWKS URL %q must be an http(s) URL such as https://id.example.com/.well-known/jwks.json", u)
			}
			if in.Secret != nil {
				return old, parley.Errorf(parley.EInvalid, "a site signs its readers' tokens with a secret or with JWKS keys, not both")
			}
			next.Secret = nil
		}
		next.JWKSURL = u
	}
	if in.Only != nil {
		next.Only = *in.Only
	}
	view := func(c parley.SiteSSO) map[string]any {
		// Never the secret itself, nor a hash of it.
		return map[string]any{"secret_set": len(c.Secret) > 0, "jwks_url": c.JWKSURL, "only": c.Only}
	}
	e, err := s.entry(a, store.Action{Action: AuditSSO, SiteID: siteID}, view(old), view(next))
	if err != nil {
		return old, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.SetSiteSSO(next); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
	// Forgotten here whatever the outcome, and on every instance as its
	// dispatcher delivers the site.updated event SetSiteSSO recorded.
	s.forgetSite(siteID)
	if err != nil {
		return old, err
	}
	return next, nil
}

// cachedSSO returns a site's SSO settings, cached with the site: they are
// forgotten together when the site changes (SetSiteSSO records
// site.updated).
func (s *Service) cachedSSO(ctx context.Context, siteID string) (parley.SiteSSO, error) {
	c, err := s.cachedSite(ctx, siteID)
	if err != nil {
		return parley.SiteSSO{}, err
	}
	c.ssoMu.Lock()
	defer c.ssoMu.Unlock()
	if c.sso == nil {
		cfg, err := s.store.SiteSSO(ctx, c.site.ID)
		if err != nil {
			return cfg, err
		}
		c.sso = &cfg
	}
	return *c.sso, nil
}

// SignIn exchanges a publisher's token for its reader: the token is
// verified for the site, its jti is spent (a second exchange of the same
// token is refused with auth.ReasonReplayed, on every instance, until it
// expires), and the reader is created or updated from its claims.
func (s *Service) SignIn(ctx context.Context, siteID, token string) (*parley.User, error) {
	claims, err := s.verifySSO(ctx, siteID, token)
	if err != nil {
		return nil, err
	}
	err = s.store.UseTokenID(ctx, siteID, claims.ID, claims.ExpiresAt.Time, s.now())
	if parley.ErrorCode(err) == parley.EConflict {
		e := parley.Errorf(parley.EUnauthorized, "This sign-in token was used before; sign a new one for each sign-in.")
		e.Reason = auth.ReasonReplayed
		return nil, e
	} else if err != nil {
		return nil, fmt.Errorf("spend token id: %w", err)
	}
	s.pruneTokenIDs(ctx)
	return s.ssoReader(ctx, siteID, claims)
}

// TokenReader returns the reader of a publisher's token presented with an
// API call (Authorization: Bearer). It is verified like SignIn's but not
// spent: a bearer token is presented on every call of its short life.
// siteID "" takes the site from the token's audience.
func (s *Service) TokenReader(ctx context.Context, siteID, token string) (*parley.User, error) {
	if siteID == "" {
		siteID = auth.SSOAudience(token)
	}
	claims, err := s.verifySSO(ctx, siteID, token)
	if err != nil {
		return nil, err
	}
	return s.ssoReader(ctx, siteID, claims)
}

func (s *Service) verifySSO(ctx context.Context, siteID, token string) (*auth.SSOClaims, error) {
	if siteID == "" {
		return nil, parley.Errorf(parley.EInvalid, "site is required")
	}
	cfg, err := s.cachedSSO(ctx, siteID)
	if err != nil {
		return nil, err
	}
	v := auth.SSOVerifier{Keys: s.JWKS, Now: s.Now}
	return v.Verify(ctx, cfg, token)
}

// SSOUserID is the user id of the reader with the subject on the site:
// derived, not stored, so every instance and device finds the same reader
// without a lookup table. The prefix carries a hash of the site alone, so
// that an SSO-only site can tell its own readers from another site's.
func SSOUserID(siteID, subject string) string {
	return ssoPrefix(siteID) + hashHex(siteID+"\x00"+subject, 16)
}

// IsSSOReader reports whether a user id is an SSO reader's (SSOUserID):
// their name comes from their publisher's token.
func IsSSOReader(id string) bool {
	return strings.HasPrefix(id, "sso") && len(id) == len(SSOUserID("", ""))
}

func ssoPrefix(siteID string) string { return "sso" + hashHex(siteID, 4) + "-" }

func hashHex(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:n])
}

// ssoReader creates or updates the reader of verified claims. The token is
// the publisher's word on the reader: their name, e-mail and whether they
// are staff follow it at every sign-in. Moderators and admins keep their role.
func (s *Service) ssoReader(ctx context.Context, siteID string, c *auth.SSOClaims) (*parley.User, error) {
	role := parley.RoleReader
	if c.HasRole(parley.RoleStaff) {
		role = parley.RoleStaff
	}
	return s.signedInReader(ctx, siteID, SSOUserID(siteID, c.Subject), c.Name, c.Email, c.Picture, role)
}

// signedInReader creates or updates the reader with the id whom their
// publisher (SSO) or the site's provider (OIDC) vouched for: their name and
// e-mail address follow the latest sign-in, and their role too when role
// is not "" (moderators and admins keep theirs); so does their picture (an
// https URL, else none). A name the reader chose themselves (OwnName) is
// kept.
func (s *Service) signedInReader(ctx context.Context, siteID, id, rawName, rawEmail, rawPicture, role string) (*parley.User, error) {
	name, err := fitName(rawName)
	if err != nil {
		return nil, err
	}
	picture := cleanPicture(rawPicture)
	email := strings.ToLower(strings.TrimSpace(rawEmail))
	if len(email) > 254 || !strings.Contains(email, "@") {
		email = ""
	}
	u, err := s.store.User(ctx, id)
	if parley.ErrorCode(err) == parley.ENotFound {
		if role == "" {
			role = parley.RoleReader
		}
		u = &parley.User{ID: id, Name: name, Email: email, Role: role, Picture: picture, Created: s.now()}
		if err := s.reservedName(ctx, siteID, u, name); err != nil {
			return nil, err
		}
		err = s.store.CreateUser(ctx, u)
		if err == nil {
			s.staffChanged(ctx, siteID, "", role)
			return u, nil
		}
		if parley.ErrorCode(err) != parley.EConflict {
			return nil, fmt.Errorf("create sso reader: %w", err)
		}
		// Another instance created them meanwhile: update theirs.
		if u, err = s.store.User(ctx, id); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	next := *u
	next.Email, next.Picture = email, picture
	if !u.OwnName {
		next.Name = name
	}
	if !u.IsStaff() && role != "" {
		next.Role = role
	}
	if next.Name == u.Name && next.Email == u.Email && next.Role == u.Role && next.Picture == u.Picture {
		return u, nil
	}
	if next.Name != u.Name {
		if err := s.reservedName(ctx, siteID, &next, name); err != nil {
			return nil, err
		}
	}
	// Only what the sign-in sets, on the row as the unit reads it: a ban
	// or a rename stored since u was read is kept.
	var stored *parley.User
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		stored, err = changeUser(tx, u.ID, func(x *parley.User) {
			x.Email, x.Picture = next.Email, next.Picture
			if !x.OwnName {
				x.Name = name
			}
			if !x.IsStaff() && role != "" {
				x.Role = role
			}
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update sso reader: %w", err)
	}
	next = *stored
	if next.Role != u.Role || (next.Name != u.Name && next.Badge() != "") {
		s.staffChanged(ctx, siteID, u.Role, next.Role)
	}
	return &next, nil
}

// ssoName makes a display name of a token's name claim: control, zero-width
// and bidi characters removed (a bidi override in a name would reorder the
// text around it), white space collapsed; "Reader" when nothing is left.
// It is not cut: see fitName.
func ssoName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isInvisible(r) {
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return "Reader"
	}
	return name
}

// ReasonNameTooLong is the parley.Error Reason of a sign-in whose name is
// over MaxNameRunes: Parley does not cut a name its publisher or provider
// sent, which would show another name than the reader's.
const ReasonNameTooLong = "name_too_long"

// fitName is ssoName of a publisher's name claim, or EInvalid (reason
// ReasonNameTooLong) saying the name is too long and the limit.
func fitName(raw string) (string, error) {
	name := ssoName(raw)
	if n := utf8.RuneCountInString(name); n > MaxNameRunes {
		e := parley.Errorf(parley.EInvalid, "The reader's name in the sign-in token is %d characters; the limit is %d. Send a shorter name.", n, MaxNameRunes)
		e.Reason = ReasonNameTooLong
		return "", e
	}
	return name, nil
}

// ssoRequired refuses a guest's comment on a site that lets only its
// signed-in readers post: the actor must be one of the site's SSO readers,
// or a moderator.
func (s *Service) ssoRequired(ctx context.Context, a Actor, site *parley.Site) error {
	cfg, err := s.cachedSSO(ctx, site.ID)
	if err != nil || !cfg.Only || a.Admin {
		return err
	}
	if a.User != nil && (a.User.IsStaff() || strings.HasPrefix(a.User.ID, ssoPrefix(site.ID))) {
		return nil
	}
	e := parley.Errorf(parley.EForbidden, "Sign in to comment on this site.")
	e.Reason = "sso_required"
	return e
}

// pruneTokenIDs deletes the spent token ids that have expired, at most once
// a minute per instance: an expired token is refused before its id is
// looked at, so its row only takes space.
func (s *Service) pruneTokenIDs(ctx context.Context) {
	now := s.now()
	last := s.ssoPruned.Load()
	if now.Unix()-last < 60 || !s.ssoPruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	if _, err := s.store.PruneTokenIDs(ctx, now.Add(-auth.SSOLeeway)); err != nil {
		s.Logger.Warn("prune sso token ids", "error", err.Error())
	}
}
