package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/parleyhq/parley"
)

// OpenID Connect: Parley is a relying party of each site's provider. The
// protocol is github.com/coreos/go-oidc (discovery, the provider's keys, ID
// token verification) and golang.org/x/oauth2 (the authorization code flow
// with PKCE); this file decides what is asked for, what is accepted and how
// each refusal is named.

// Reasons an OpenID Connect sign-in is refused (parley.Error.Reason, with
// code EUnauthorized unless noted).
const (
	ReasonOIDCDisabled    = "oidc_disabled"         // the site has no provider (ENotFound)
	ReasonOIDCState       = "oidc_state"            // unknown, spent or expired state, or another browser's
	ReasonOIDCDenied      = "oidc_denied"           // the provider answered with an error (the reader cancelled)
	ReasonOIDCCode        = "oidc_code"             // the provider refused the code (spent, another client's, wrong PKCE verifier)
	ReasonOIDCToken       = "oidc_token"            // no ID token, or one that does not verify
	ReasonOIDCExpired     = "oidc_token_expired"    // the ID token has expired
	ReasonOIDCAudience    = "oidc_wrong_audience"   // the ID token is for another client
	ReasonOIDCNonce       = "oidc_nonce"            // the ID token's nonce is not this sign-in's
	ReasonOIDCUnavailable = "oidc_unavailable"      // the provider could not be reached (EUnavailable)
	ReasonOIDCNoAccount   = "oidc_no_staff_account" // no moderator account matches (EForbidden)
)

// OIDCIdentity is who the provider says signed in.
type OIDCIdentity struct {
	Issuer  string
	Subject string
	Name    string
	// Names are the identity's name claims in the order a display name
	// is taken from them: name, preferred_username, given_name with
	// family_name, given_name alone (the empty ones left out). Name is the
	// first; the service takes the first that fits its limit.
	Names         []string
	Email         string
	EmailVerified bool
	Picture       string
}

// OIDC talks to sites' OpenID Connect providers through Client, which
// must be the guarded outbound client (internal/outbound): an issuer is
// set by a site's admin and must not reach the server's own network. The
// discovery document of each issuer is kept for ProviderTTL; its keys are
// go-oidc's, fetched through Client and refreshed when a token names a key
// they lack.
type OIDC struct {
	Client      *http.Client
	Now         func() time.Time // ID tokens' expiry is judged by this clock
	ProviderTTL time.Duration
	Logger      *slog.Logger

	mu        sync.Mutex
	providers map[string]*cachedProvider // by issuer
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// NewOIDC returns a relying party fetching through client, keeping
// discovery documents for an hour.
func NewOIDC(client *http.Client) *OIDC {
	return &OIDC{Client: client, Now: time.Now, ProviderTTL: time.Hour, Logger: slog.Default(), providers: make(map[string]*cachedProvider)}
}

func (o *OIDC) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func oidcRefused(reason, format string, args ...any) *parley.Error {
	e := parley.Errorf(parley.EUnauthorized, format, args...)
	e.Reason = reason
	return e
}

func oidcUnavailable(err error, format string, args ...any) error {
	e := parley.Wrap(err, parley.EUnavailable, format, args...)
	e.Reason = ReasonOIDCUnavailable
	return e
}

// provider returns the issuer's provider, from the cache or discovered
// now. The issuer in the discovery document must be the configured one
// (go-oidc checks).
func (o *OIDC) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	o.mu.Lock()
	c := o.providers[issuer]
	o.mu.Unlock()
	if c != nil && time.Since(c.fetched) < o.ProviderTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.Client), issuer)
	if err != nil {
		if c != nil { // the provider is down: keep what it said last
			return c.p, nil
		}
		return nil, oidcUnavailable(err, "The sign-in provider cannot be reached; try again later.")
	}
	o.mu.Lock()
	o.providers[issuer] = &cachedProvider{p: p, fetched: time.Now()}
	o.mu.Unlock()
	return p, nil
}

// Scopes returns the scopes asked of the provider: the site's, with
// "openid" first whatever the site says.
func Scopes(cfg parley.SiteOIDC) []string {
	out := []string{oidc.ScopeOpenID}
	for _, s := range cfg.Scopes {
		if s != oidc.ScopeOpenID && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (o *OIDC) oauth2Config(p *oidc.Provider, cfg parley.SiteOIDC, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: string(cfg.ClientSecret),
		Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: Scopes(cfg),
	}
}

// AuthURL returns where to send the browser to sign in: the provider's
// authorization endpoint with the state, the nonce and the PKCE challenge
// (S256) of verifier.
func (o *OIDC) AuthURL(ctx context.Context, cfg parley.SiteOIDC, redirectURL, state, nonce, verifier string) (string, error) {
	p, err := o.provider(ctx, cfg.Issuer)
	if err != nil {
		return "", err
	}
	return o.oauth2Config(p, cfg, redirectURL).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// NewVerifier returns a fresh PKCE code verifier.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// Exchange trades an authorization code for the identity of the ID token
// the provider returns with it, verified (see Verify) against the nonce.
// The name, e-mail address and picture come from the ID token or, when it
// carries no address, from the provider's userinfo endpoint for the same
// subject.
func (o *OIDC) Exchange(ctx context.Context, cfg parley.SiteOIDC, redirectURL, code, verifier, nonce string) (*OIDCIdentity, error) {
	p, err := o.provider(ctx, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	octx := context.WithValue(ctx, oauth2.HTTPClient, o.Client)
	tok, err := o.oauth2Config(p, cfg, redirectURL).Exchange(octx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, oidcRefused(ReasonOIDCCode, "The sign-in provider refused the sign-in (%s); start again.", safeCode(re.ErrorCode))
		}
		return nil, oidcUnavailable(err, "The sign-in provider cannot be reached; try again later.")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, oidcRefused(ReasonOIDCToken, "The sign-in provider sent no ID token.")
	}
	id, err := o.verify(ctx, p, cfg, raw, nonce)
	if err != nil {
		return nil, err
	}
	if id.Email == "" || id.Name == "" {
		ui, err := p.UserInfo(oidc.ClientContext(ctx, o.Client), oauth2.StaticTokenSource(tok))
		if err != nil {
			o.Logger.Warn("oidc userinfo", "issuer", cfg.Issuer, "error", err.Error())
		} else if ui.Subject == id.Subject {
			var c idClaims
			if err := ui.Claims(&c); err == nil {
				if id.Email == "" {
					id.Email, id.EmailVerified = ui.Email, ui.EmailVerified
				}
				if id.Name == "" {
					id.Name, id.Names = c.name(), c.names()
				}
				if id.Picture == "" {
					id.Picture = c.Picture
				}
			}
		}
	}
	return id, nil
}

// Verify checks a raw ID token for the site: signed by one of the issuer's
// keys with an algorithm the provider announces, issued by the issuer, for
// the site's client (aud, and azp when there are several audiences), not
// expired by o.Now, and carrying the nonce of the sign-in.
func (o *OIDC) Verify(ctx context.Context, cfg parley.SiteOIDC, raw, nonce string) (*OIDCIdentity, error) {
	p, err := o.provider(ctx, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return o.verify(ctx, p, cfg, raw, nonce)
}

type idClaims struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // a bool, or a string from some providers
	Picture           string `json:"picture"`
	AuthorizedParty   string `json:"azp"`
}

// name is the first of the names, "" for none.
func (c idClaims) name() string {
	if n := c.names(); len(n) > 0 {
		return n[0]
	}
	return ""
}

// names are the name claims in the order a display name is taken from
// them: name, preferred_username, given_name with family_name, given_name.
func (c idClaims) names() []string {
	var out []string
	for _, n := range []string{c.Name, c.PreferredUsername, c.GivenName + " " + c.FamilyName, c.GivenName} {
		if n = strings.TrimSpace(n); n != "" && !containsString(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (c idClaims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (o *OIDC) verify(ctx context.Context, p *oidc.Provider, cfg parley.SiteOIDC, raw, nonce string) (*OIDCIdentity, error) {
	if len(raw) > MaxSSOToken*2 {
		return nil, oidcRefused(ReasonOIDCToken, "The ID token is too large.")
	}
	// The audience is checked below, to name the refusal.
	v := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, SkipClientIDCheck: true, Now: o.now})
	t, err := v.Verify(oidc.ClientContext(ctx, o.Client), raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, oidcRefused(ReasonOIDCExpired, "The ID token has expired; sign in again.")
		}
		return nil, oidcRefused(ReasonOIDCToken, "The ID token does not verify.")
	}
	var c idClaims
	if err := t.Claims(&c); err != nil {
		return nil, oidcRefused(ReasonOIDCToken, "The ID token's claims are malformed.")
	}
	if !containsString(t.Audience, cfg.ClientID) || (len(t.Audience) > 1 && c.AuthorizedParty != cfg.ClientID) {
		return nil, oidcRefused(ReasonOIDCAudience, "The ID token is for another client.")
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return nil, oidcRefused(ReasonOIDCNonce, "The ID token is not for this sign-in (nonce).")
	}
	if t.Subject == "" {
		return nil, oidcRefused(ReasonOIDCToken, "The ID token has no subject.")
	}
	return &OIDCIdentity{
		Issuer: t.Issuer, Subject: t.Subject, Name: c.name(), Names: c.names(), Email: c.Email, EmailVerified: c.verified(), Picture: c.Picture,
	}, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// safeCode keeps an OAuth error code to its documented alphabet, so that a
// provider's answer cannot put arbitrary text in our message.
func safeCode(code string) string {
	if code == "" || len(code) > 64 {
		return "unknown error"
	}
	for _, r := range code {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "unknown error"
		}
	}
	return code
}
