// Package httpapi is Parley's HTTP surface: the public JSON API the widget
// and integrators use, the admin API, the widget's assets and the demo page.
// Handlers decode, call the service, and encode; routes.go lists them all.
// The package never sees the store: every read and write, live streams
// included (service.Stream), goes through the service, and the API's own
// caches (the per-page thread responses, the sites' allowed origins) are
// kept fresh as an events.Handler of the outbox (HandleEvent).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/service"
)

// Options configures a Server.
type Options struct {
	AdminToken string
	BaseURL    string         // public base URL; its origin is always allowed
	TrustProxy config.Proxies // proxies whose X-Forwarded-For names the client
	RateLimit  bool
	PostRate   config.Rate
	ActionRate config.Rate
	DemoSite   string // site slug the /demo page embeds; "" serves no demo
	// DemoPublisher plays the demo site's publisher backend at
	// /demo/sso-token (signing readers' SSO tokens); nil serves none.
	DemoPublisher http.Handler
	Logger        *slog.Logger
	// MaxStreams and MaxStreamsPerIP cap the open event streams, on the
	// instance and per client address; 0 means the config defaults.
	MaxStreams, MaxStreamsPerIP int
	// NoThreadCache makes every thread read miss the per-page response
	// cache (query, render, compress each time): for benchmarks only.
	NoThreadCache bool
	// Mail sends and answers Parley's e-mail; nil is a notifier that
	// sends none.
	Mail *service.Notifier
}

// Server serves the API. Create it with New and stop it with Close.
type Server struct {
	svc           *service.Service
	sessions      *auth.Sessions
	logger        *slog.Logger
	adminToken    string
	baseOrigin    string
	baseURL       string // without a trailing slash
	trustProxy    config.Proxies
	demoSite      string
	demoPublisher http.Handler
	rateLimit     bool
	mail          *service.Notifier

	postLimits   limitPair
	actionLimits limitPair
	loginLimits  *limiters // sign-in attempts per IP, always on
	staffLimits  *limiters // state-changing requests per moderator session
	oidcLimits   *limiters // OpenID Connect sign-ins begun and finished per IP
	cache        *threadCache
	origins      *originSet
	metrics      *metrics
	streams      atomic.Int64 // open event streams
	streamCaps   *streamCaps
	routes       routeTable // the patterns Handler registered (openapi.go)

	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
}

// New returns a Server. It starts one goroutine that sweeps idle rate
// limiters and refreshes the allowed origins; Close stops it.
func New(svc *service.Service, sessions *auth.Sessions, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{
		svc:           svc,
		sessions:      sessions,
		logger:        o.Logger,
		adminToken:    o.AdminToken,
		baseOrigin:    originOf(o.BaseURL),
		baseURL:       strings.TrimRight(o.BaseURL, "/"),
		trustProxy:    o.TrustProxy,
		demoSite:      o.DemoSite,
		demoPublisher: o.DemoPublisher,
		rateLimit:     o.RateLimit,
		postLimits:    newLimitPair(o.PostRate),
		actionLimits:  newLimitPair(o.ActionRate),
		loginLimits:   newLimiters(loginRate),
		staffLimits:   newLimiters(staffWriteRate),
		oidcLimits:    newLimiters(oidcRate),
		cache:         newThreadCache(256 << 20),
		origins:       newOriginSet(),
		streamCaps:    newStreamCaps(o.MaxStreams, o.MaxStreamsPerIP),
		stop:          make(chan struct{}),
	}
	s.cache.off = o.NoThreadCache
	s.mail = o.Mail
	if s.mail == nil {
		s.mail = service.NewNotifier(svc, nil, "", o.BaseURL, nil)
	}
	s.metrics = newMetrics(s)
	s.origins.refresh(context.Background(), svc)
	s.done.Add(1)
	go s.housekeeping()
	return s
}

// Close stops the housekeeping goroutine and ends open event streams (so a
// graceful shutdown need not wait for them). It is safe to call twice.
func (s *Server) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.done.Wait()
}

// HandleEvent keeps the API's caches in step with the event log, whichever
// instance wrote the event: it is a handler of the dispatcher
// (events.Broker), which calls it for every event, after the service's own
// (which forgets a changed site), before the event reaches this instance's
// streams and before the write that recorded it returns on this instance.
// An event of a page drops the page's cached responses; a site.updated
// drops those of every page of the site and reloads the site's allowed
// origins, so a reader whose stream says site.updated reads the change, and
// an origin just added is allowed at once.
func (s *Server) HandleEvent(ev parley.Event) {
	if ev.PageID != 0 {
		s.cache.invalidate(ev.PageID)
	}
	if ev.Type == parley.EventSiteUpdated && ev.SiteID != "" {
		s.cache.invalidateSite(ev.SiteID)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.origins.refreshSite(ctx, s.svc, ev.SiteID)
		cancel()
	}
}

// housekeeping runs until Close: it sweeps rate limiters and reloads the
// allowed origins every few seconds, the fallback should a site's change
// not reach HandleEvent (an event missed).
func (s *Server) housekeeping() {
	defer s.done.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			for _, p := range []limitPair{s.postLimits, s.actionLimits} {
				p.reader.sweep(now)
				p.ip.sweep(now)
			}
			s.loginLimits.sweep(now)
			s.oidcLimits.sweep(now)
			s.staffLimits.sweep(now)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.origins.refresh(ctx, s.svc)
			cancel()
		}
	}
}

// originSet is the set of origins allowed to call the API from a browser:
// every site's origins (Parley's own is allowed apart). It is reloaded
// whole every few seconds and one site at a time when a site changes.
type originSet struct {
	// reload serialises the reloads, so that they take effect in the order
	// they read the store: a reload of every site that read the store
	// before a reload of one site cannot put back, after it, the origins
	// that one replaced.
	reload sync.Mutex

	mu    sync.RWMutex
	sites map[string][]string // each site's origins
	count map[string]int      // origin → how many sites allow it
}

func newOriginSet() *originSet {
	return &originSet{sites: make(map[string][]string), count: make(map[string]int)}
}

// refresh reloads the origins of every site.
func (o *originSet) refresh(ctx context.Context, svc *service.Service) {
	o.reload.Lock()
	defer o.reload.Unlock()
	all, err := svc.Sites(ctx)
	if err != nil {
		return // keep the last good set
	}
	sites := make(map[string][]string, len(all))
	count := make(map[string]int)
	for _, site := range all {
		sites[site.ID] = site.Origins
		for _, origin := range site.Origins {
			count[origin]++
		}
	}
	o.mu.Lock()
	o.sites, o.count = sites, count
	o.mu.Unlock()
}

// refreshSite reloads the origins of one site, after it changed.
func (o *originSet) refreshSite(ctx context.Context, svc *service.Service, id string) {
	o.reload.Lock()
	defer o.reload.Unlock()
	var origins []string
	site, err := svc.Site(ctx, id)
	switch {
	case err == nil:
		origins = site.Origins
	case parley.ErrorCode(err) == parley.ENotFound:
		// No such site: it allows nothing.
	default:
		return // keep what we have; the periodic reload tries again
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, origin := range o.sites[id] {
		if o.count[origin]--; o.count[origin] <= 0 {
			delete(o.count, origin)
		}
	}
	delete(o.sites, id)
	if len(origins) > 0 {
		o.sites[id] = origins
	}
	for _, origin := range origins {
		o.count[origin]++
	}
}

func (o *originSet) allowed(origin string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.count[strings.ToLower(origin)] > 0
}

func originOf(base string) string {
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.IndexByte(base[i+3:], '/'); j >= 0 {
			return strings.ToLower(base[:i+3+j])
		}
	}
	return strings.ToLower(base)
}

// reader returns the user of the request's reader session, nil without one.
// A session of a deleted user counts as none, and so does one the reader
// revoked by signing out everywhere, or that a ban or suspension ended.
func (s *Server) reader(r *http.Request) (*parley.User, error) {
	if tok := auth.BearerToken(r); isSSOToken(tok) {
		return s.bearerReader(r, tok)
	}
	sess := s.sessions.ReaderSession(r)
	if sess.UserID == "" {
		return nil, nil
	}
	u, err := s.svc.SessionUser(r.Context(), sess)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, nil
	}
	return u, err
}

// signInReader gives the reader a new session cookie after a sign-in (SSO,
// OpenID Connect, an e-mail link), and ends the session the request came
// with, whoever's it was: the old session id stops working on the server,
// so a cookie planted or copied before the sign-in is worthless.
func (s *Server) signInReader(w http.ResponseWriter, r *http.Request, userID string) error {
	if err := s.svc.EndReaderSession(r.Context(), s.sessions.ReaderSession(r)); err != nil {
		return err
	}
	s.sessions.SetReader(w, userID)
	return nil
}

// actor identifies the caller of a write.
func (s *Server) actor(r *http.Request) (service.Actor, error) {
	a := service.Actor{IP: s.clientIP(r)}
	if tok := auth.BearerToken(r); tok != "" && !isSSOToken(tok) {
		if !auth.TokenEqual(tok, s.adminToken) {
			return a, parley.Errorf(parley.EUnauthorized, "invalid admin token")
		}
		a.Admin = true
		return a, nil
	}
	u, err := s.reader(r)
	if err != nil {
		return a, err
	}
	a.User = u
	return a, nil
}

// ctxKey is the type of this package's context keys.
type ctxKey int

// Request ids are this process's random prefix and a sequence number: the
// log lines of one request share one, and several instances never do. They
// are formatted only when something is logged.
var (
	requestSeq    atomic.Uint64
	requestPrefix = func() string {
		b := make([]byte, 4)
		rand.Read(b)
		return hex.EncodeToString(b)
	}()
)

// requestID returns the id of the request w answers, "" when w is not
// (or does not wrap) the writer logRequests made.
func requestID(w http.ResponseWriter) string {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return x.requestID()
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return ""
		}
	}
}

func (w *statusWriter) requestID() string {
	return requestPrefix + "-" + strconv.FormatUint(w.id, 10)
}
