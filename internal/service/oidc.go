package service

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// OpenID Connect sign-in (issue 11): a site names its provider; a reader
// signs in there and becomes the same kind of reader SSO makes (the same
// subject at the same issuer is the same reader on every device); a
// moderator signs in there to the admin UI as their existing account.

// AuditOIDC names the audit entry of a change to a site's OpenID Connect settings.
const AuditOIDC = "oidc"

// Lifetimes of a sign-in in progress and of the ticket it ends with.
const (
	OIDCLoginTTL  = 10 * time.Minute // from the start to the provider's answer
	OIDCTicketTTL = 2 * time.Minute  // from the provider's answer to the widget's redeeming it
)

// OIDCSettings is a change to a site's OpenID Connect settings; nil
// fields are kept. An empty Issuer turns OIDC off.
type OIDCSettings struct {
	Issuer            *string
	ClientID          *string
	ClientSecret      []byte // nil keeps the secret
	Scopes            []string
	ProviderName      *string
	Moderators        *bool
	StaffSubjects     map[string]string // replaces the bindings when not nil; an empty map clears them
	ClearClientSecret bool
}

// SiteOIDC returns a site's OpenID Connect settings, for its admins. The
// caller must not show the client secret.
func (s *Service) SiteOIDC(ctx context.Context, a Actor, siteID string) (parley.SiteOIDC, error) {
	if err := mayConfigureSSO(a); err != nil {
		return parley.SiteOIDC{}, err
	}
	return s.store.SiteOIDC(ctx, siteID)
}

// SetSiteOIDC changes a site's OpenID Connect settings (admins only),
// audited without the secret, and returns the new settings.
func (s *Service) SetSiteOIDC(ctx context.Context, a Actor, siteID string, in OIDCSettings) (parley.SiteOIDC, error) {
	if err := mayConfigureSSO(a); err != nil {
		return parley.SiteOIDC{}, err
	}
	old, err := s.store.SiteOIDC(ctx, siteID)
	if err != nil {
		return old, err
	}
	next := old
	next.Updated = s.now()
	if in.Issuer != nil {
		iss := strings.TrimRight(strings.TrimSpace(*in.Issuer), "/")
		if iss != "" {
			u, err := url.Parse(iss)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(iss) > 512 {
				return old, parley.Errorf(parley.EInvalid, "the issuer %q must be an http(s) URL such as https://id.example.com", iss)
			}
		}
		next.Issuer = iss
	}
	if in.ClientID != nil {
		id := strings.TrimSpace(*in.ClientID)
		if len(id) > 256 {
			return old, parley.Errorf(parley.EInvalid, "the client id is %d bytes; the limit is 256", len(id))
		}
		next.ClientID = id
	}
	if in.ClearClientSecret {
		next.ClientSecret = nil
	}
	if in.ClientSecret != nil {
		if len(in.ClientSecret) > 1024 {
			return old, parley.Errorf(parley.EInvalid, "the client secret is %d bytes; the limit is 1024", len(in.ClientSecret))
		}
		next.ClientSecret = in.ClientSecret
	}
	if in.Scopes != nil {
		if len(in.Scopes) > 20 {
			return old, parley.Errorf(parley.EInvalid, "at most 20 scopes")
		}
		next.Scopes = nil
		for _, sc := range in.Scopes {
			if sc == "" || len(sc) > 64 || strings.ContainsAny(sc, " \t\r\n\"\\") {
				return old, parley.Errorf(parley.EInvalid, "%q is not a scope", sc)
			}
			if !slices.Contains(next.Scopes, sc) {
				next.Scopes = append(next.Scopes, sc)
			}
		}
	}
	if in.ProviderName != nil {
		n := ssoName(*in.ProviderName)
		if strings.TrimSpace(*in.ProviderName) == "" {
			n = ""
		}
		if c := utf8.RuneCountInString(n); c > MaxNameRunes {
			return old, parley.Errorf(parley.EInvalid, "provider_name is %d characters; the limit is %d", c, MaxNameRunes)
		}
		next.ProviderName = n
	}
	if in.Moderators != nil {
		next.Moderators = *in.Moderators
	}
	if in.StaffSubjects != nil {
		if len(in.StaffSubjects) > 100 {
			return old, parley.Errorf(parley.EInvalid, "at most 100 staff subjects")
		}
		next.StaffSubjects = nil
		for sub, uid := range in.StaffSubjects {
			if sub == "" || len(sub) > 255 {
				return old, parley.Errorf(parley.EInvalid, "%q is not a subject", sub)
			}
			u, err := s.store.User(ctx, uid)
			if err != nil || !u.IsStaff() {
				return old, parley.Errorf(parley.EInvalid, "subject %q: %q is not a moderator or admin account", sub, uid)
			}
			if next.StaffSubjects == nil {
				next.StaffSubjects = map[string]string{}
			}
			next.StaffSubjects[sub] = uid
		}
	}
	if (next.Issuer == "") != (next.ClientID == "") {
		return old, parley.Errorf(parley.EInvalid, "OpenID Connect needs both an issuer and a client id (or neither, to turn it off)")
	}
	if next.Issuer != "" && next.ProviderName == "" {
		u, _ := url.Parse(next.Issuer)
		next.ProviderName = u.Hostname()
	}
	view := func(c parley.SiteOIDC) map[string]any {
		return map[string]any{"issuer": c.Issuer, "client_id": c.ClientID, "client_secret_set": len(c.ClientSecret) > 0,
			"scopes": c.Scopes, "provider_name": c.ProviderName, "moderators": c.Moderators, "staff_subjects": len(c.StaffSubjects)}
	}
	e, err := s.entry(a, store.Action{Action: AuditOIDC, SiteID: siteID}, view(old), view(next))
	if err != nil {
		return old, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.SetSiteOIDC(next); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
	if err != nil {
		return old, err
	}
	return next, nil
}

// OIDCProvider is what a sign-in button shows of a site's provider.
type OIDCProvider struct {
	SiteID string
	Name   string
}

// SiteOIDCProvider returns a site's provider for its readers' sign-in
// button. ENotFound (auth.ReasonOIDCDisabled) when it has none.
func (s *Service) SiteOIDCProvider(ctx context.Context, siteID string) (OIDCProvider, error) {
	cfg, err := s.siteOIDC(ctx, siteID)
	if err != nil {
		return OIDCProvider{}, err
	}
	return OIDCProvider{SiteID: siteID, Name: cfg.ProviderName}, nil
}

// ModeratorOIDCProviders lists the sites whose moderators may sign in to
// the admin UI with the site's provider.
func (s *Service) ModeratorOIDCProviders(ctx context.Context) ([]OIDCProvider, error) {
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	var out []OIDCProvider
	for _, site := range sites {
		cfg, err := s.store.SiteOIDC(ctx, site.ID)
		if err != nil {
			return nil, err
		}
		if cfg.Enabled() && (cfg.Moderators || len(cfg.StaffSubjects) > 0) {
			out = append(out, OIDCProvider{SiteID: site.ID, Name: cfg.ProviderName})
		}
	}
	return out, nil
}

func (s *Service) siteOIDC(ctx context.Context, siteID string) (parley.SiteOIDC, error) {
	if siteID == "" {
		return parley.SiteOIDC{}, parley.Errorf(parley.EInvalid, "site is required")
	}
	cfg, err := s.store.SiteOIDC(ctx, siteID)
	if err != nil {
		return cfg, err
	}
	if !cfg.Enabled() {
		e := parley.Errorf(parley.ENotFound, "Site %q has no OpenID Connect sign-in.", siteID)
		e.Reason = auth.ReasonOIDCDisabled
		return cfg, e
	}
	return cfg, nil
}

// OIDCBegin asks for a sign-in with a site's provider.
type OIDCBegin struct {
	SiteID      string
	Purpose     string // store.OIDCReader or store.OIDCModerator
	Origin      string // a reader's: the embedding page's origin, one of the site's
	RedirectURL string // Parley's callback, registered with the provider
}

// BeginOIDC starts a sign-in: it stores the state, nonce and PKCE verifier
// and returns the provider's URL to send the browser to, with the binder
// for the browser's cookie: only the browser that began a sign-in may
// finish it (a sign-in link sent to someone else signs nobody in).
func (s *Service) BeginOIDC(ctx context.Context, in OIDCBegin) (authURL, binder string, err error) {
	if s.OIDC == nil {
		return "", "", parley.Errorf(parley.EUnavailable, "OpenID Connect is not available on this server")
	}
	cfg, err := s.siteOIDC(ctx, in.SiteID)
	if err != nil {
		return "", "", err
	}
	switch in.Purpose {
	case store.OIDCReader:
		if in.Origin != "" {
			site, err := s.cachedSite(ctx, in.SiteID)
			if err != nil {
				return "", "", err
			}
			if !slices.Contains(site.site.Origins, strings.ToLower(in.Origin)) {
				return "", "", parley.Errorf(parley.EInvalid, "origin %q is not one of site %q's", in.Origin, in.SiteID)
			}
		}
	case store.OIDCModerator:
		if !cfg.Moderators && len(cfg.StaffSubjects) == 0 {
			e := parley.Errorf(parley.ENotFound, "Site %q's moderators do not sign in with its provider.", in.SiteID)
			e.Reason = auth.ReasonOIDCDisabled
			return "", "", e
		}
		in.Origin = ""
	default:
		return "", "", parley.Errorf(parley.EInvalid, "purpose must be %q or %q", store.OIDCReader, store.OIDCModerator)
	}
	state, nonce, verifier := randomToken(), randomToken(), auth.NewVerifier()
	binder = randomToken()
	authURL, err = s.OIDC.AuthURL(ctx, cfg, in.RedirectURL, state, nonce, verifier)
	if err != nil {
		return "", "", err
	}
	l := &store.OIDCLogin{
		KeyHash: auth.HashStaffToken(state), SiteID: in.SiteID, Purpose: in.Purpose, Binder: auth.HashStaffToken(binder),
		Nonce: nonce, Verifier: verifier, Origin: strings.ToLower(in.Origin), Created: s.now(), Expires: s.now().Add(OIDCLoginTTL),
	}
	if err := s.store.CreateOIDCLogin(ctx, l); err != nil {
		return "", "", fmt.Errorf("store oidc login: %w", err)
	}
	s.pruneOIDCLogins(ctx)
	return authURL, binder, nil
}

// OIDCCallback is the provider's answer, as the browser brought it back.
type OIDCCallback struct {
	State, Code, Error string
	Binder             string // from the browser's cookie
	RedirectURL        string
}

// OIDCResult is a finished sign-in.
type OIDCResult struct {
	Purpose string
	SiteID  string
	User    *parley.User
	// A reader's: the one-time ticket the widget redeems (RedeemOIDCTicket)
	// in its own context, and the origin to hand it to.
	Ticket, Origin string
	// A moderator's: the new staff session.
	StaffToken   string
	StaffExpires time.Time
}

// FinishOIDC completes a sign-in with the provider's answer: the state
// must be one this server issued, unspent and unexpired, to this browser;
// the code is exchanged with the PKCE verifier; the ID token must verify
// for the site's client and carry the sign-in's nonce. A reader is then
// created or updated; a moderator gets a session as the account that the
// site's settings bind to the subject or, when moderators may sign in by
// address, the site's moderator with the verified address.
func (s *Service) FinishOIDC(ctx context.Context, in OIDCCallback) (*OIDCResult, error) {
	if s.OIDC == nil {
		return nil, parley.Errorf(parley.EUnavailable, "OpenID Connect is not available on this server")
	}
	badState := func() error {
		e := parley.Errorf(parley.EUnauthorized, "This sign-in has expired, was used already or was begun in another browser; start again.")
		e.Reason = auth.ReasonOIDCState
		return e
	}
	if in.State == "" || len(in.State) > 128 || len(in.Code) > 2048 {
		return nil, badState()
	}
	l, err := s.store.TakeOIDCLogin(ctx, auth.HashStaffToken(in.State), s.now())
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, badState()
	} else if err != nil {
		return nil, err
	}
	if l.Purpose == store.OIDCTicket || in.Binder == "" ||
		subtle.ConstantTimeCompare([]byte(auth.HashStaffToken(in.Binder)), []byte(l.Binder)) != 1 {
		return nil, badState()
	}
	if in.Error != "" {
		e := parley.Errorf(parley.EUnauthorized, "The sign-in provider did not sign you in (%s).", safeOAuthCode(in.Error))
		e.Reason = auth.ReasonOIDCDenied
		return nil, e
	}
	if in.Code == "" {
		return nil, parley.Errorf(parley.EInvalid, "the provider's answer has no code")
	}
	cfg, err := s.siteOIDC(ctx, l.SiteID)
	if err != nil {
		return nil, err
	}
	id, err := s.OIDC.Exchange(ctx, cfg, in.RedirectURL, in.Code, l.Verifier, l.Nonce)
	if err != nil {
		return nil, err
	}
	res := &OIDCResult{Purpose: l.Purpose, SiteID: l.SiteID}
	if l.Purpose == store.OIDCModerator {
		u, err := s.oidcStaff(ctx, cfg, id)
		if err != nil {
			return nil, err
		}
		res.User = u
		res.StaffToken, res.StaffExpires, err = s.openStaffSession(ctx, u)
		return res, err
	}
	name, err := oidcName(id)
	if err != nil {
		return nil, err
	}
	email := ""
	if id.EmailVerified {
		email = id.Email
	}
	u, err := s.signedInReader(ctx, l.SiteID, OIDCUserID(l.SiteID, id.Issuer, id.Subject), name, email, id.Picture, "")
	if err != nil {
		return nil, err
	}
	ticket := randomToken()
	t := &store.OIDCLogin{KeyHash: auth.HashStaffToken(ticket), SiteID: l.SiteID, Purpose: store.OIDCTicket,
		Origin: l.Origin, UserID: u.ID, Created: s.now(), Expires: s.now().Add(OIDCTicketTTL)}
	if err := s.store.CreateOIDCLogin(ctx, t); err != nil {
		return nil, fmt.Errorf("store oidc ticket: %w", err)
	}
	res.User, res.Ticket, res.Origin = u, ticket, l.Origin
	return res, nil
}

// ReasonOIDCNameTooLong is the parley.Error Reason of an OpenID Connect
// sign-in whose every name claim is over MaxNameRunes.
const ReasonOIDCNameTooLong = "oidc_name_too_long"

// oidcName is the reader's display name from a provider's identity: the
// first of its name claims (name, preferred_username, given_name: see
// auth.OIDCIdentity.Names) that fits MaxNameRunes once cleaned as a
// publisher's name is; "Reader" when it has none. A name is never cut: when
// every claim is too long the sign-in fails, saying so (EInvalid).
func oidcName(id *auth.OIDCIdentity) (string, error) {
	names := id.Names
	if len(names) == 0 && id.Name != "" {
		names = []string{id.Name}
	}
	if len(names) == 0 {
		return "Reader", nil
	}
	for _, n := range names {
		if name := ssoName(n); utf8.RuneCountInString(name) <= MaxNameRunes {
			return name, nil
		}
	}
	e := parley.Errorf(parley.EInvalid,
		"Your name at the sign-in provider is %d characters, and it sends no shorter one (a username or a first name); Parley shows names of at most %d characters. Shorten your name there, then sign in again.",
		utf8.RuneCountInString(ssoName(names[0])), MaxNameRunes)
	e.Reason = ReasonOIDCNameTooLong
	return "", e
}

// oidcStaff finds the staff account a provider's identity signs in as.
func (s *Service) oidcStaff(ctx context.Context, cfg parley.SiteOIDC, id *auth.OIDCIdentity) (*parley.User, error) {
	none := parley.Errorf(parley.EForbidden, "No moderator account of site %q matches your account at %s.", cfg.SiteID, cfg.ProviderName)
	none.Reason = auth.ReasonOIDCNoAccount
	if uid, ok := cfg.StaffSubjects[id.Subject]; ok {
		u, err := s.store.User(ctx, uid)
		if parley.ErrorCode(err) == parley.ENotFound {
			return nil, none
		} else if err != nil {
			return nil, err
		}
		if !u.IsStaff() {
			return nil, none
		}
		return u, nil
	}
	if !cfg.Moderators || !id.EmailVerified || id.Email == "" {
		return nil, none
	}
	u, _, err := s.store.Credentials(ctx, strings.ToLower(strings.TrimSpace(id.Email)))
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, none
	} else if err != nil {
		return nil, err
	}
	// By address, only a moderator of this very site: the site's provider
	// speaks for its own moderators, not for admins or other sites'.
	if u.Role != parley.RoleModerator || u.SiteID != cfg.SiteID {
		return nil, none
	}
	return u, nil
}

// RedeemOIDCTicket exchanges the one-time ticket a reader's sign-in ended
// with for the reader, once, within OIDCTicketTTL.
func (s *Service) RedeemOIDCTicket(ctx context.Context, ticket string) (*parley.User, error) {
	bad := parley.Errorf(parley.EUnauthorized, "This sign-in ticket has expired or was used; sign in again.")
	bad.Reason = auth.ReasonOIDCState
	if ticket == "" || len(ticket) > 128 {
		return nil, bad
	}
	l, err := s.store.TakeOIDCLogin(ctx, auth.HashStaffToken(ticket), s.now())
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	if l.Purpose != store.OIDCTicket || l.UserID == "" {
		return nil, bad
	}
	return s.store.User(ctx, l.UserID)
}

// OIDCUserID is the user id of the reader with the subject at the issuer
// on the site: derived like SSOUserID, with the same prefix (an SSO-only
// site lets its provider's readers post), from a name space of its own
// (no SSO subject can produce it: site ids cannot hold the byte 1).
func OIDCUserID(siteID, issuer, subject string) string {
	return ssoPrefix(siteID) + hashHex("\x01oidc\x00"+siteID+"\x00"+issuer+"\x00"+subject, 16)
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeOAuthCode keeps a provider's error code to its documented alphabet.
func safeOAuthCode(code string) string {
	if len(code) > 64 {
		return "error"
	}
	for _, r := range code {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "error"
		}
	}
	return code
}

// pruneOIDCLogins deletes the expired sign-ins, at most once a minute per
// instance.
func (s *Service) pruneOIDCLogins(ctx context.Context) {
	now := s.now()
	last := s.oidcPruned.Load()
	if now.Unix()-last < 60 || !s.oidcPruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	if _, err := s.store.PruneOIDCLogins(ctx, now); err != nil {
		s.Logger.Warn("prune oidc logins", "error", err.Error())
	}
}
