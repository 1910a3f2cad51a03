// Package service holds Parley's use cases: posting, editing, voting,
// reporting, listing threads, moderating and following a thread live. It
// validates input, applies the moderation pipeline, renders markdown once at
// write time, and never sees SQL or HTTP.
//
// # Writes
//
// A use case computes everything first (checks, moderation, rendering, the
// audit entry) and then writes in one unit of work (store.Update): its rows,
// its audit entry and its events commit together or not at all. What must
// follow a commit (the read path's caches, live streams, and durable
// consumers such as e-mail) follows from the events alone, through one path,
// the Outbox: the event log is the outbox, and a dispatcher delivers it. The
// service does not call anyone back; after a unit commits it waits until
// this instance has delivered the unit's events, so that the writer's next
// read on this instance sees the write (read-your-writes).
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/outbound"
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
	// IdempotencyKey is the client's key for this write ("" for none):
	// a write repeated with it is answered, not made again (idempotency.go).
	IdempotencyKey string
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
	// OutboundAllow is the operator's allow-list of the guarded outbound
	// client: a webhook URL naming a literal address it would refuse is
	// refused when it is added.
	OutboundAllow outbound.Allowlist
	// WebhookQueued, when set, is called once a test event was queued (it
	// wakes this instance's webhook sender).
	WebhookQueued func()
	// OIDC is the relying party of sites' OpenID Connect providers; nil
	// refuses OIDC sign-ins. Wire an auth.OIDC over the guarded outbound
	// client.
	OIDC *auth.OIDC
	// Avatars fetches readers' pictures, which Parley serves itself (see
	// Avatar); nil serves none. Wire the guarded outbound client.
	Avatars *http.Client
	avatars avatarCache

	// Outbox delivers the events of committed units on this instance
	// and carries live streams; nil (offline commands) waits for nothing
	// and has no streams.
	Outbox Outbox

	mu    sync.Mutex
	sites map[string]*cachedSite
	// siteGen counts the sites forgotten; a site read from the store is
	// cached only if the count has not moved during the read, so a read
	// racing with a change cannot put the old site back after it was
	// forgotten.
	siteGen uint64
	pipes   map[string]compiledPolicy

	names      nameCache    // reserved display names and badges (names.go)
	bans       banCache     // the marks of bans in force, per site (bans.go)
	ssoPruned  atomic.Int64 // Unix seconds of the last prune of spent token ids (sso.go)
	oidcPruned atomic.Int64 // Unix seconds of the last prune of expired OIDC sign-ins (oidc.go)
	idemPruned atomic.Int64 // Unix seconds of the last prune of idempotency keys (idempotency.go)
	pageURLs   pageURLs     // for streams waiting for their page (see Stream)
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
// parley.EventSiteUpdated, and HandleEvent forgets the site as soon as the
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

// Outbox is the one path from a committed unit of work to its effects. The
// events a unit records in its transaction are the outbox; the dispatcher
// (events.Broker, tailing the log) delivers them in order, on every
// instance, to the read path's caches, to live streams and to durable
// consumers. The service needs two things of it:
type Outbox interface {
	// Wait returns once this instance has delivered every event up to
	// and including the id through, or ctx is done (its error).
	Wait(ctx context.Context, through int64) error
	// SubscribePage, SubscribeSite and Unsubscribe open and close live
	// subscriptions (see events.Broker).
	SubscribePage(siteID string, pageID int64, buffer int) *events.Sub
	SubscribeSite(siteID string, buffer int) *events.Sub
	Unsubscribe(sub *events.Sub)
}

// deliveryWait bounds how long a write waits for its events to be
// delivered on this instance. The write has committed by then: a dispatcher
// that is slow (its database read failing) only delays what readers see.
const deliveryWait = 5 * time.Second

// update runs fn as one unit of work (store.Update) and then waits until
// this instance has delivered the events it recorded.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	last, err := s.store.Update(ctx, fn)
	if err != nil {
		return err
	}
	s.delivered(ctx, last)
	return nil
}

// delivered waits until this instance's dispatcher has delivered the events
// up to last (0: none). Concurrent writers wait together: the dispatcher
// reads the log once for all of them.
func (s *Service) delivered(ctx context.Context, last int64) {
	if last == 0 || s.Outbox == nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryWait)
	defer cancel()
	if err := s.Outbox.Wait(wctx, last); err != nil {
		s.Logger.Warn("events of a write not delivered in time", "event", last, "error", err.Error())
	}
}

// Ping reports whether the database answers: EUnavailable when it does not.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Sites returns every site as stored, ordered by id: for the API's allowed
// origins and the metrics, which are not a caller's.
func (s *Service) Sites(ctx context.Context) ([]*parley.Site, error) { return s.store.Sites(ctx) }

// SessionUser returns the user a reader's session names, nil when the
// session was ended on the server (signed out, signed in over, signed out
// everywhere, or by a ban): one read. ENotFound.
func (s *Service) SessionUser(ctx context.Context, sess auth.ReaderSession) (*parley.User, error) {
	u, revoked, err := s.store.SessionUser(ctx, sess.UserID, sess.Hash)
	if err != nil || revoked || SessionRevoked(u, sess.Issued) {
		return nil, err
	}
	return u, nil
}

// QueueSizes returns the size of each moderation queue of every site, by
// site id, for the metrics.
func (s *Service) QueueSizes(ctx context.Context) (map[string]map[string]int, error) {
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]int, len(sites))
	for _, site := range sites {
		if out[site.ID], err = s.store.QueueCounts(ctx, site.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) now() time.Time { return s.Now().UTC() }

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

// HandleEvent keeps the service's caches in step with an event of the log,
// whichever instance recorded it: parley.EventSiteUpdated forgets the site
// (its settings, and so the policy and pipeline it selects);
// parley.EventSiteModel has SiteModels load the site's new model. Other events
// concern pages, which the service does not cache. The dispatcher's
// consumer of this instance's caches calls it for every event, before the
// read path's caches drop what the event concerns; it returns quickly.
func (s *Service) HandleEvent(ev parley.Event) {
	if ev.Type == parley.EventSiteUpdated && ev.SiteID != "" {
		s.forgetSite(ev.SiteID)
	}
	// A site's tuned model was saved (here or elsewhere): RunSiteModels
	// loads it.
	if ev.Type == parley.EventSiteModel && s.SiteModels != nil {
		s.SiteModels.Changed()
	}
	if ev.Type == parley.EventBansChanged {
		s.forgetBans(ev.SiteID)
	}
}

// hashIP returns a keyed hash of an IP address's network (the IPv4
// address, the /64 of an IPv6 address: see netKey): enough to count a
// poster's comments per minute and to bind a ban, useless for recovering
// the address.
func (s *Service) hashIP(ip string) string {
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.IPKey)
	m.Write([]byte(netKey(ip)))
	return hex.EncodeToString(m.Sum(nil)[:12])
}
