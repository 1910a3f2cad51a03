package parley

import "time"

// SiteSSO is how a site's publisher signs its readers in (single sign-on):
// its backend signs a short-lived token for the signed-in reader, with an
// HS256 Secret or with a private key whose public half is served at
// JWKSURL. At most one of the two is set; neither means SSO is off.
type SiteSSO struct {
	SiteID  string
	Secret  []byte // the HS256 key; never logged, never returned by the API
	JWKSURL string // where the RS256, ES256 and EdDSA public keys are published
	Only    bool   // guests may not post: only signed-in readers (and staff)
	Updated time.Time
}

// Enabled reports whether the site accepts SSO tokens.
func (s SiteSSO) Enabled() bool { return len(s.Secret) > 0 || s.JWKSURL != "" }
