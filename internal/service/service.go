// Package service holds Parley's use cases: posting, editing, voting,
// reporting, listing threads and moderating. It validates input, applies the
// moderation pipeline, renders markdown once at write time, and tells the
// read path which pages changed. It never sees SQL or HTTP.
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/store"
)

// Limits on what a reader may send.
const (
	MaxTextBytes = 64 << 10 // hard cap on a comment's markdown, whatever the policy says
	MaxNameRunes = 64
	MaxNoteRunes = 500
	MaxTitle     = 300
)

// Actor is who is calling: a reader (maybe not yet known), a moderator, or
// the automation holding the admin token.
type Actor struct {
	User  *parley.User // nil for a reader without a session yet
	IP    string       // client address, hashed before it is stored
	Admin bool         // holds the admin token: may act on every site
}

// CanModerate reports whether the actor may moderate siteID.
func (a Actor) CanModerate(siteID string) bool {
	if a.Admin {
		return true
	}
	if a.User == nil || !a.User.IsStaff() {
		return false
	}
	return a.User.Role == parley.RoleAdmin || a.User.SiteID == "" || a.User.SiteID == siteID
}

// Service implements the use cases on top of a Store.
type Service struct {
	store  store.Store
	render *render.Renderer

	// Optional dependencies, set before use.
	Scorer moderation.Scorer // the toxicity model; nil runs the pipeline without one
	// SiteModels holds the sites' tuned models (Scorer adapted to each
	// site's moderators' decisions), which score a site's comments in
	// place of Scorer; nil scores every site with Scorer.
	SiteModels *SiteModels
	Now        func() time.Time
	EditWindow time.Duration
	IPKey      []byte // keys the IP hash; without it IPs are hashed unkeyed
	// NoFlood turns off the per-minute flood rules (not duplicate
	// detection), like PARLEY_RATE_LIMIT=off does for load tests.
	NoFlood bool
	Logger  *slog.Logger // for failures that do not reach a caller
	// PasswordParams are the argon2id costs of new password hashes;
	// defaults to auth.DefaultArgon2.
	PasswordParams auth.Argon2Params
	// StaffSessionTTL is how long a moderator stays signed in; defaults to
	// auth.StaffSessionTTL.
	StaffSessionTTL time.Duration
	// JWKS finds the public keys of sites whose publishers sign readers'
	// tokens with RS256, ES256 or EdDSA; nil refuses those tokens. Wire an
	// auth.JWKS over the guarded outbound client.
	JWKS auth.KeySource

	// OnChange is called after a write that may change what readers see of
	// a page (the read path drops that page's cached responses).
	OnChange func(pageID int64)
	// OnSiteChange is called after a change to a site's settings or
	// policy, which may change what readers see of all its pages (it can
	// close them): a change made here, or one another instance made (see
	// Observe).
	OnSiteChange func(siteID string)

	mu    sync.Mutex
	sites map[string]*cachedSite
	// siteGen counts the sites forgotten; a site read from the store is
	// cached only if the count has not moved during the read, so a read
	// racing with a change cannot put the old site back after it was
	// forgotten.
	siteGen uint64
	pipes   map[string]compiledPolicy

	names     nameCache    // reserved display names and badges (names.go)
	ssoPruned atomic.Int64 // Unix seconds of the last prune of spent token ids (sso.go)
}

type cachedSite struct {
	site *parley.Site
	at   time.Time
	// urls maps the raw URLs readers' widgets send to their canonical
	// form under this version of the site (its ignored parameters): a
	// thread read served from the page cache would otherwise spend a third
	// of its time parsing and normalising the same URL again.
	mu   sync.RWMutex
	urls map[string]string

	// The site's single sign-on settings, read on first use (cachedSSO).
	ssoMu sync.Mutex
	sso   *parley.SiteSSO
}

// maxCachedURLs bounds a site's canonical-URL cache; when full it starts
// over.
const maxCachedURLs = 8192

// canonical returns the canonical form of rawURL on the site.
func (c *cachedSite) canonical(rawURL string) (string, error) {
	c.mu.RLock()
	u, ok := c.urls[rawURL]
	c.mu.RUnlock()
	if ok {
		return u, nil
	}
	u, err := parley.CanonicalURL(rawURL, c.site.IgnoreParams)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.urls) >= maxCachedURLs {
		clear(c.urls)
	}
	c.urls[rawURL] = u
	c.mu.Unlock()
	return u, nil
}

// siteTTL bounds how long a site read from the store is reused. A change
// made anywhere (this instance, another one, the command line) records
// parley.EventSiteUpdated, and Observe forgets the site as soon as the
// broker reads it; the TTL is the fallback should an event be missed.
const siteTTL = 5 * time.Second

// New returns a Service on s.
func New(s store.Store, r *render.Renderer) *Service {
	return &Service{
		store:      s,
		render:     r,
		Now:        time.Now,
		EditWindow: 10 * time.Minute,

		PasswordParams:  auth.DefaultArgon2,
		StaffSessionTTL: auth.StaffSessionTTL,
		Logger:          slog.Default(),
		sites:           make(map[string]*cachedSite),
		pipes:           make(map[string]compiledPolicy),
	}
}

// Store returns the underlying store (for the command line and tests).
func (s *Service) Store() store.Store { return s.store }

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) changed(pageID int64) {
	if s.OnChange != nil {
		s.OnChange(pageID)
	}
}

// Site returns a site, from a short-lived cache.
func (s *Service) Site(ctx context.Context, id string) (*parley.Site, error) {
	c, err := s.cachedSite(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.site, nil
}

// cachedSite returns the cache entry of a site, reading it from the store
// when it is missing or older than siteTTL.
func (s *Service) cachedSite(ctx context.Context, id string) (*cachedSite, error) {
	if err := checkSiteID(id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	c, ok := s.sites[id]
	gen := s.siteGen
	s.mu.Unlock()
	if ok && s.Now().Sub(c.at) < siteTTL {
		return c, nil
	}
	site, err := s.store.Site(ctx, id)
	if err != nil {
		return nil, err
	}
	c = &cachedSite{site: site, at: s.Now(), urls: make(map[string]string)}
	s.mu.Lock()
	if s.siteGen == gen {
		s.sites[id] = c
	}
	s.mu.Unlock()
	return c, nil
}

// forgetSite drops a cached site after it changed.
func (s *Service) forgetSite(id string) {
	s.mu.Lock()
	delete(s.sites, id)
	s.siteGen++
	s.mu.Unlock()
}

// siteChanged forgets a site and then tells OnSiteChange, in that order:
// a response the read path builds after OnSiteChange reads the site anew.
func (s *Service) siteChanged(id string) {
	s.forgetSite(id)
	if s.OnSiteChange != nil {
		s.OnSiteChange(id)
	}
}

// Observe keeps the service's caches in step with an event of the log,
// whichever instance recorded it: parley.EventSiteUpdated forgets the site
// (its settings, and so the policy and pipeline it selects) and calls
// OnSiteChange; parley.EventSiteModel has SiteModels load the site's new
// model. Other events concern pages, which the service does not
// cache. The live-update broker calls it for every event (Broker.OnEvent),
// including those of this instance's own changes, which are forgotten
// twice; it must return quickly.
func (s *Service) Observe(ev parley.Event) {
	if ev.Type == parley.EventSiteUpdated && ev.SiteID != "" {
		s.siteChanged(ev.SiteID)
	}
	// A site's tuned model was saved (here or elsewhere): RunSiteModels
	// loads it.
	if ev.Type == parley.EventSiteModel && s.SiteModels != nil {
		s.SiteModels.Changed()
	}
}

// hashIP returns a keyed hash of an IP address: enough to count a poster's
// comments per minute, useless for recovering the address.
func (s *Service) hashIP(ip string) string {
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.IPKey)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil)[:12])
}
