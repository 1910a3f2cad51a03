// Package server is Parley as a value: Open wires one instance together
// from a config.Config (store, model, service, live-update broker, HTTP
// API, and with --demo the demo site), Serve answers HTTP on its listener,
// and Close stops every goroutine Open and Serve started and waits for them.
//
// `parley serve` is flag parsing around these three calls; tests start
// Parley in-process the same way (see servertest), and StartProcess runs it
// as a child process where a test or the bench is about the process. The
// offline subcommands take their pieces from here too: OpenStore opens the
// database serve would, and OfflineService builds the service over it.
package server

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/toxicity"
)

// shutdownTimeout bounds how long Close waits for in-flight requests.
const shutdownTimeout = 20 * time.Second

// Options are the optional parts of a Server; the zero value serves as
// `parley serve` does, without per-site models and without logging.
type Options struct {
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// Store, when set, is served instead of the one the configuration
	// names, and the caller closes it after Close: tests run several
	// instances on one database, or on a PostgreSQL schema of their own.
	Store store.Store
	// Now is the service's clock; nil is time.Now.
	Now func() time.Time
	// BrokerPoll is how often the broker looks for events nobody announced
	// (written by other instances); 0 keeps the broker's default.
	BrokerPoll time.Duration
	// MailTLS, when set, is the TLS configuration of the SMTP client
	// (tests trust their own server's certificate with it).
	MailTLS *tls.Config
}

// Startup is what Open did that the operator should be told: the lines
// `parley serve` prints before it says where it listens.
type Startup struct {
	// AdminTokenFile is where the admin token was saved when Open generated
	// it; "" when the configuration gave one or an earlier start made it.
	AdminTokenFile string
	// DemoSeeded reports that Open seeded the demo discussion, with
	// DemoPosted comments of which DemoHeld were held for the moderators.
	DemoSeeded           bool
	DemoPosted, DemoHeld int
	// DemoLoginFile, DemoEmail and DemoPassword are set when Open created
	// the demo moderator account.
	DemoLoginFile, DemoEmail, DemoPassword string
}

// Server is one running Parley instance. Open creates it; Close stops it.
type Server struct {
	cfg     config.Config
	logger  *slog.Logger
	startup Startup

	ln        net.Listener
	store     store.Store
	ownsStore bool // opened from the configuration, so closed by Close
	svc       *service.Service
	mail      *service.Notifier
	broker    *events.Broker
	api       *httpapi.Server
	http      *http.Server

	// stop ends the background goroutines (broker, LISTEN, site models);
	// bg counts them.
	stop context.CancelFunc
	bg   sync.WaitGroup

	closeOnce sync.Once
	closed    chan struct{} // closed when Close has finished
	closeErr  error
}

// Open listens on cfg.Addr, opens the store and wires one Parley instance:
// what `parley serve` runs. The background goroutines (live updates, their
// PostgreSQL notifications, per-site models) run from here until Close;
// HTTP requests are answered once Serve is called (connections made before
// wait in the listener's backlog). cfg must have been validated.
func Open(ctx context.Context, cfg config.Config, opts Options) (_ *Server, err error) {
	s := &Server{cfg: cfg, logger: opts.Logger, closed: make(chan struct{})}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	bgCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	defer func() {
		if err != nil {
			s.Close() // releases whatever was opened so far
		}
	}()
	if err := s.cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	s.ln, err = net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	// With ":0" the real port is known only now.
	if s.cfg.BaseURL == "http://"+s.cfg.Addr || s.cfg.BaseURL == "http://localhost"+s.cfg.Addr {
		s.cfg.BaseURL = "http://" + s.ln.Addr().String()
	}
	if opts.Store != nil {
		s.store = opts.Store
	} else {
		if s.store, err = OpenStore(ctx, s.cfg, s.logger); err != nil {
			return nil, err
		}
		s.ownsStore = true
	}
	if err := s.wire(ctx, bgCtx, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// wire builds the instance over the open store, in the order `parley serve`
// has always used, and starts the background goroutines.
func (s *Server) wire(ctx, bgCtx context.Context, opts Options) error {
	cfg, st, logger := &s.cfg, s.store, s.logger

	// Reader cookies and IP hashes are keyed with the signing key; the
	// admin API with the admin token, generated on the first start.
	key, err := signingKey(*cfg)
	if err != nil {
		return err
	}
	sessions, err := auth.NewSessions(key, cfg.Secure())
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		path := filepath.Join(cfg.DataDir, "admin-token")
		tok, created, err := auth.LoadOrCreateToken(path)
		if err != nil {
			return err
		}
		cfg.AdminToken = tok
		if created {
			s.startup.AdminTokenFile = path
		}
	}

	// The service: the use cases over the store, with the toxicity model.
	svc := service.New(st, render.New())
	svc.EditWindow = cfg.EditWindow
	svc.IPKey = key
	svc.NoFlood = !cfg.RateLimit
	svc.Logger = logger
	// Sites whose publishers sign with RS256, ES256 or EdDSA publish their
	// keys at a JWKS URL, fetched through the guarded outbound client.
	jwks := auth.NewJWKS(outbound.NewClient(outbound.Options{Allow: cfg.OutboundAllow}))
	jwks.Logger = logger
	jwks.Now = func() time.Time { return svc.Now() } // the service's clock, read when used
	svc.JWKS = jwks
	// Sites' OpenID Connect providers: discovery, keys, tokens and
	// userinfo through the guarded outbound client too.
	oidc := auth.NewOIDC(outbound.NewClient(outbound.Options{Allow: cfg.OutboundAllow}))
	oidc.Logger = logger
	oidc.Now = func() time.Time { return svc.Now() }
	svc.OIDC = oidc
	// Reader sessions are stamped by the same clock that stamps their
	// revocation (sign out everywhere, bans), and compared with it.
	sessions.Now = func() time.Time { return svc.Now() }
	// Readers' pictures are fetched by Parley and served from its own
	// origin, so the widget requests nothing from another host.
	svc.Avatars = outbound.NewClient(outbound.Options{Allow: cfg.OutboundAllow, MaxResponseBytes: service.MaxAvatarBytes, Timeout: 5 * time.Second})
	if opts.Now != nil {
		svc.Now = opts.Now
	}
	if !cfg.NoModel {
		base, err := baseModel(*cfg)
		if err != nil {
			return err
		}
		svc.Scorer = base
		// Per-site models tuned on each site's moderators' decisions sit on
		// top of the base model. They live in the database, so every
		// instance scores a site alike: DATA/models/SITE.site files of
		// older versions are imported once; a retrain anywhere reaches this
		// instance through its site.model event (svc.Observe) or the
		// version check; with --auto-tune this instance retrains too.
		svc.SiteModels = service.NewSiteModels(st, base)
		svc.SiteModels.Logger = logger
		if err := svc.SiteModels.Load(ctx, filepath.Join(cfg.DataDir, "models")); err != nil {
			return err
		}
		s.bg.Go(func() { svc.RunSiteModels(bgCtx, cfg.AutoTune) }) // exits when Close cancels bgCtx
	}
	s.svc = svc
	s.mail = s.notifier(svc, key, opts.MailTLS)
	if cfg.BackupEvery > 0 && cfg.DatabaseURL == "" {
		b := &sqlite.Backups{DB: cfg.DBPath(), Dir: filepath.Join(cfg.DataDir, "backups"), Keep: cfg.BackupKeep, Logger: logger}
		s.bg.Go(func() { b.Run(bgCtx, cfg.BackupEvery) }) // exits when Close cancels bgCtx
	}

	apiOpts := httpapi.Options{
		Mail:       s.mail,
		AdminToken: cfg.AdminToken,
		BaseURL:    cfg.BaseURL,
		TrustProxy: cfg.TrustProxy,
		RateLimit:  cfg.RateLimit,
		PostRate:   cfg.PostRate,
		ActionRate: cfg.ActionRate,
		Logger:     logger,

		MaxStreams:      cfg.MaxStreams,
		MaxStreamsPerIP: cfg.MaxStreamsPerIP,
		// Off only when measuring the uncached read path.
		NoThreadCache: !cfg.ThreadCache,
	}
	if cfg.Demo {
		if err := s.demo(ctx); err != nil {
			return err
		}
		apiOpts.DemoSite = DemoSite
		apiOpts.DemoPublisher = demoPublisher(svc)
	}

	broker := events.New(st)
	broker.Logger = logger
	if opts.BrokerPoll > 0 {
		broker.Poll = opts.BrokerPoll
	}
	// Where the log ends, read before the API loads the sites' origins: a
	// site changed on another instance from here on reaches this one.
	if err := broker.Begin(ctx); err != nil {
		return err
	}
	api := httpapi.New(svc, sessions, apiOpts)
	s.broker, s.api = broker, api
	// The outbox: the one path from a committed write to its effects.
	// Every write records its events in its transaction; the broker tails
	// that log and delivers each event, on every instance, to the
	// service's caches, then the API's (svc and api are events.Handlers,
	// in that order), then to the live streams and durable consumers. The
	// service waits on it (svc.Outbox) until this instance has delivered
	// its write's events, so the writer's next read here sees the write.
	broker.Handle(svc)
	broker.Handle(api)
	svc.Outbox = broker
	s.wireWebhooks(bgCtx, broker)
	// E-mail is a durable consumer: it queues what the events tell
	// someone (replies, alerts), resuming where it stopped; the sender
	// delivers the queue.
	broker.Durable("mail", s.mail.Consume)
	s.bg.Go(func() { s.mail.Run(bgCtx) }) // exits when Close cancels bgCtx
	// Begin above fixed where the broker starts, so nothing recorded
	// since is missed.
	s.bg.Go(func() { broker.Run(bgCtx) }) // exits when Close cancels bgCtx
	// With PostgreSQL, other instances' writes announce themselves with
	// NOTIFY; the broker also polls, so a lost notification only delays.
	// A notification names the newest event: one this instance delivered
	// already (its own write, which it waited for) costs no read.
	if l, ok := st.(interface {
		ListenThrough(context.Context, func(int64))
	}); ok {
		s.bg.Go(func() { l.ListenThrough(bgCtx, broker.NotifyThrough) }) // exits when Close cancels bgCtx
	} else if l, ok := st.(interface{ Listen(context.Context, func()) }); ok {
		s.bg.Go(func() { l.Listen(bgCtx, broker.Notify) }) // exits when Close cancels bgCtx
	}

	s.http = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: cfg.HeaderTimeout,
		ReadTimeout:       config.ReadTimeout,
		WriteTimeout:      config.WriteTimeout,
		IdleTimeout:       config.IdleTimeout,
		MaxHeaderBytes:    config.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(api.Close) // end event streams so shutdown need not wait for them
	return nil
}

// Serve answers HTTP on the server's listener until ctx is done or Close is
// called, then shuts down gracefully (in-flight requests finish) and returns
// once Close has stopped everything: nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context) error {
	// Runs Close in a goroutine of its own when ctx is done; Serve waits
	// for Close below, so that goroutine ends before Serve returns.
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	s.logger.Info("serving", "addr", s.ln.Addr().String(), "base_url", s.cfg.BaseURL, "database", storeKind(s.cfg))
	err := s.http.Serve(s.ln)
	if !errors.Is(err, http.ErrServerClosed) {
		s.Close()
		return fmt.Errorf("serve: %w", err)
	}
	<-s.closed
	return s.closeErr
}

// Close stops the server: it stops accepting, lets in-flight requests finish
// (for up to 20 s), ends the event streams, stops the broker, the
// PostgreSQL listener and the site models and waits for them, and closes the
// store it opened. It is safe to call more than once and from several
// goroutines; every call returns the first call's result once it is done.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		defer close(s.closed)
		var errs []error
		if s.http != nil {
			s.logger.Info("shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shutdown: %w", err))
			}
			cancel()
		}
		if s.ln != nil {
			s.ln.Close() // when Serve never ran; otherwise already closed
		}
		if s.api != nil {
			s.api.Close()
		}
		s.stop()
		s.bg.Wait()
		if s.ownsStore && s.store != nil {
			if err := s.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close store: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	<-s.closed
	return s.closeErr
}

// URL is where the server listens, e.g. http://127.0.0.1:41234: the address
// to send requests to, which is the public base URL unless one was set.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Addr is the listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Config is the configuration the server runs with, with what Open derived
// filled in: the base URL of a ":0" address, a generated admin token.
func (s *Server) Config() config.Config { return s.cfg }

// AdminToken is the admin API's bearer token.
func (s *Server) AdminToken() string { return s.cfg.AdminToken }

// Startup reports what Open did that the operator should be told.
func (s *Server) Startup() Startup { return s.startup }

// Service is the instance's service, for tests that seed data or set its
// fields (before the first request).
func (s *Server) Service() *service.Service { return s.svc }

// Mail is the instance's e-mail notifier.
func (s *Server) Mail() *service.Notifier { return s.mail }

// Broker is the instance's live-update broker.
func (s *Server) Broker() *events.Broker { return s.broker }

// Handler is the instance's HTTP handler, for benchmarks that call it
// without a network in between.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// baseModel returns the configured toxicity model: the publisher's file, or
// the embedded default.
func baseModel(cfg config.Config) (*toxicity.Model, error) {
	if cfg.ModelPath == "" {
		return toxicity.Default()
	}
	return toxicity.LoadFile(cfg.ModelPath)
}

// signingKey returns the key that signs reader cookies and keys IP hashes:
// PARLEY_SECRET_KEY when set (several instances must share it), else a key
// generated once and kept in the data directory.
func signingKey(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		key, err := hex.DecodeString(cfg.SecretKey)
		if err != nil || len(key) < 32 {
			return nil, errors.New("PARLEY_SECRET_KEY must be at least 64 hex characters (32 bytes), e.g. from: openssl rand -hex 32")
		}
		return key, nil
	}
	return auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, "secret.key"))
}
