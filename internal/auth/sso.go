package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley"
)

// Single sign-on: a publisher's backend signs a short-lived JWT for its
// signed-in reader and the widget hands it to Parley. Tokens are parsed and
// verified by github.com/golang-jwt/jwt/v5; this file decides which
// algorithms and keys a site accepts and names each refusal.

// Limits on SSO tokens.
const (
	// MaxSSOToken is the largest token accepted, in bytes: a token carries a
	// name, an e-mail address, a picture URL and a few roles.
	MaxSSOToken = 8 << 10
	// MaxSSOLifetime is how far in the future a token's exp may be: tokens
	// are short-lived, and their ids are remembered until they expire.
	MaxSSOLifetime = 24 * time.Hour
	// SSOLeeway is the clock skew tolerated between the publisher and Parley.
	SSOLeeway = 30 * time.Second
)

// Reasons an SSO token is refused (parley.Error.Reason, with code
// EUnauthorized unless noted).
const (
	ReasonSSODisabled     = "sso_disabled"        // the site accepts no SSO tokens
	ReasonTokenTooLarge   = "token_too_large"     // over MaxSSOToken
	ReasonTokenMalformed  = "token_malformed"     // not a JWT, or its claims are not what they must be
	ReasonAlgNotAllowed   = "alg_not_allowed"     // alg none, or an algorithm (or key type) the site does not use
	ReasonUnknownKey      = "unknown_key"         // no key of the site's JWKS has the token's kid
	ReasonBadSignature    = "bad_signature"       // signed with another key
	ReasonExpired         = "token_expired"       // exp has passed
	ReasonNotYetValid     = "token_not_yet_valid" // nbf or iat is in the future
	ReasonWrongAudience   = "wrong_audience"      // aud is not this site
	ReasonMissingClaim    = "missing_claim"       // no sub, exp or jti
	ReasonTooLongLived    = "token_too_long_lived"
	ReasonReplayed        = "token_replayed"   // the jti was used before (service)
	ReasonKeysUnavailable = "keys_unavailable" // the JWKS could not be fetched (EUnavailable)
)

// SSOClaims are the claims of a publisher's token.
type SSOClaims struct {
	Name    string   `json:"name"`
	Email   string   `json:"email,omitempty"`
	Picture string   `json:"picture,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	jwt.RegisteredClaims
}

// HasRole reports whether the token grants the role.
func (c *SSOClaims) HasRole(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// KeySource finds a public key in a JWKS; *JWKS is one.
type KeySource interface {
	Key(ctx context.Context, url, kid, alg string) (any, error)
}

// SSOVerifier verifies publishers' tokens against their sites' settings.
type SSOVerifier struct {
	Keys KeySource // the sites' JWKS; nil refuses every JWKS site
	Now  func() time.Time
}

// Algorithms each kind of site accepts: nothing else, whatever the token says.
var (
	secretAlgs = []string{"HS256"}
	jwksAlgs   = []string{"RS256", "ES256", "EdDSA"}
)

func refused(reason, format string, args ...any) *parley.Error {
	e := parley.Errorf(parley.EUnauthorized, format, args...)
	e.Reason = reason
	return e
}

// Verify checks a token for the site and returns its claims. The token
// must be signed with the site's secret (HS256) or one of its JWKS keys
// (RS256, ES256, EdDSA), be for the site (aud), carry sub, exp and jti, be
// valid now and expire within MaxSSOLifetime. Every refusal is an
// EUnauthorized *parley.Error whose Reason says which check failed
// (EUnavailable when the site's keys cannot be fetched). Verify does not
// remember the jti: the caller decides whether the token is single use.
func (v *SSOVerifier) Verify(ctx context.Context, site parley.SiteSSO, token string) (*SSOClaims, error) {
	if !site.Enabled() {
		return nil, refused(ReasonSSODisabled, "Site %q does not accept sign-in tokens.", site.SiteID)
	}
	if len(token) > MaxSSOToken {
		return nil, refused(ReasonTokenTooLarge, "The sign-in token is %d bytes; the limit is %d.", len(token), MaxSSOToken)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	p := jwt.NewParser(
		jwt.WithAudience(site.SiteID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(SSOLeeway),
		jwt.WithTimeFunc(now),
	)
	claims := &SSOClaims{}
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.key(ctx, site, t)
	})
	if err != nil {
		return nil, classifyJWT(err)
	}
	switch {
	case claims.Subject == "":
		return nil, refused(ReasonMissingClaim, "The sign-in token has no sub (the reader's id).")
	case claims.ID == "":
		return nil, refused(ReasonMissingClaim, "The sign-in token has no jti (its unique id).")
	case claims.ExpiresAt.Sub(now()) > MaxSSOLifetime:
		return nil, refused(ReasonTooLongLived, "The sign-in token expires in more than %s; sign short-lived tokens.", MaxSSOLifetime)
	}
	return claims, nil
}

// key returns the key that must have signed t, refusing an algorithm the
// site does not use before any key is looked at: a token signed with HS256
// and a site's RSA public key as the secret (key confusion) never reaches
// an HMAC check on a JWKS site, and alg none never reaches anything.
func (v *SSOVerifier) key(ctx context.Context, site parley.SiteSSO, t *jwt.Token) (any, error) {
	alg, _ := t.Header["alg"].(string)
	if len(site.Secret) > 0 {
		if !contains(secretAlgs, alg) || t.Method != jwt.SigningMethodHS256 {
			return nil, refused(ReasonAlgNotAllowed, "The sign-in token is signed with %q; site %q accepts HS256 only.", alg, site.SiteID)
		}
		return site.Secret, nil
	}
	if !contains(jwksAlgs, alg) {
		return nil, refused(ReasonAlgNotAllowed, "The sign-in token is signed with %q; site %q accepts RS256, ES256 and EdDSA only.", alg, site.SiteID)
	}
	if v.Keys == nil {
		return nil, parley.Errorf(parley.EInternal, "no JWKS source configured")
	}
	kid, _ := t.Header["kid"].(string)
	k, err := v.Keys.Key(ctx, site.JWKSURL, kid, alg)
	if err != nil {
		return nil, err
	}
	if !keyFits(k, alg) {
		return nil, refused(ReasonAlgNotAllowed, "The sign-in token is signed with %q but key %q is not a key for it.", alg, kid)
	}
	return k, nil
}

// keyFits reports whether a public key is of the kind alg uses.
func keyFits(k any, alg string) bool {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return alg == "RS256"
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// classifyJWT names a parse failure. Our own refusals (from the key
// function) come first; then the library's sentinel errors.
func classifyJWT(err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return pe
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return refused(ReasonTokenMalformed, "The sign-in token is malformed.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return refused(ReasonBadSignature, "The sign-in token's signature does not match the site's key.")
	case errors.Is(err, jwt.ErrTokenExpired):
		return refused(ReasonExpired, "The sign-in token has expired.")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return refused(ReasonNotYetValid, "The sign-in token is not valid yet.")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return refused(ReasonWrongAudience, "The sign-in token is for another site.")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return refused(ReasonMissingClaim, "The sign-in token lacks a required claim (exp or aud).")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return refused(ReasonAlgNotAllowed, "The sign-in token cannot be verified with the site's keys.")
	}
	return refused(ReasonTokenMalformed, "The sign-in token is invalid.")
}

// SSOAudience returns the first audience a token names, read without
// verifying it: which site's keys to verify it with, when the request does
// not say. "" for a token that cannot be read.
func SSOAudience(token string) string {
	if len(token) > MaxSSOToken {
		return ""
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil || len(c.Audience) == 0 {
		return ""
	}
	return c.Audience[0]
}
