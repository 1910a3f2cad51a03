package parley

import "time"

// SiteOIDC is a site's OpenID Connect provider: readers (and, when
// Moderators is set, the site's moderators) sign in with an account there.
// Parley is the provider's client with ClientID and ClientSecret and asks
// for Scopes ("openid" always among them).
type SiteOIDC struct {
	SiteID       string
	Issuer       string // the provider's issuer URL; its discovery document is Issuer/.well-known/openid-configuration
	ClientID     string
	ClientSecret []byte // never logged, never returned by the API
	Scopes       []string
	ProviderName string // shown on the button: "Sign in with ProviderName"
	// Moderators lets the site's moderators sign in to the admin UI with
	// the provider, as the moderator account with the address the
	// provider says is theirs and has verified.
	Moderators bool
	// StaffSubjects binds provider subjects (sub) to staff accounts (user
	// ids), admins included: the one way an admin signs in with a site's
	// provider, since an address alone would let the site's provider
	// speak for every site.
	StaffSubjects map[string]string
	Updated       time.Time
}

// Enabled reports whether the site has an OpenID Connect provider.
func (s SiteOIDC) Enabled() bool { return s.Issuer != "" && s.ClientID != "" }
