package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// DemoSite is the slug of the site `serve --demo` creates.
const DemoSite = "demo"

// loadConfig builds the configuration from defaults, PARLEY_* and flags.
func loadConfig(name string, args []string, stderr io.Writer) (*config.Config, *flagSetResult, error) {
	cfg := config.Default()
	if err := cfg.FromEnv(os.Getenv); err != nil {
		return nil, nil, err
	}
	fs := newFlagSet(name, stderr)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return &cfg, &flagSetResult{args: fs.Args()}, nil
}

type flagSetResult struct{ args []string }

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runServe runs the HTTP server until ctx is cancelled (SIGINT/SIGTERM),
// then shuts down gracefully: in-flight requests finish, the store flushes.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	if err := cfg.EnsureDataDir(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// With ":0" the real port is known only now.
	if cfg.BaseURL == "http://"+cfg.Addr || cfg.BaseURL == "http://localhost"+cfg.Addr {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}

	st, err := openStoreLog(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()

	key, err := signingKey(cfg)
	if err != nil {
		return err
	}
	sessions, err := auth.NewSessions(key, cfg.Secure())
	if err != nil {
		return err
	}
	if cfg.AdminToken == "" {
		tok, created, err := auth.LoadOrCreateToken(filepath.Join(cfg.DataDir, "admin-token"))
		if err != nil {
			return err
		}
		cfg.AdminToken = tok
		if created {
			fmt.Fprintf(stdout, "Admin token (saved in %s): %s\n", filepath.Join(cfg.DataDir, "admin-token"), tok)
		}
	}

	svc := service.New(st, render.New())
	svc.EditWindow = cfg.EditWindow
	svc.IPKey = key
	svc.NoFlood = !cfg.RateLimit
	svc.Logger = logger
	if !cfg.NoModel {
		scorer, err := loadScorer(cfg.ModelPath)
		if err != nil {
			return err
		}
		svc.Scorer = scorer
		// Per-site models tuned on each site's moderator decisions sit on
		// top of the base model: DATA/models/SITE.site, re-read when they
		// change and, with --auto-tune, retrained on a schedule.
		sites := newSiteModels(filepath.Join(cfg.DataDir, "models"), scorer, logger)
		svc.SiteScorer = sites.Scorer
		tuneCtx, stopTune := context.WithCancel(context.Background())
		tuneDone := make(chan struct{})
		go func() { sites.run(tuneCtx, st, cfg.AutoTune); close(tuneDone) }()
		defer func() { stopTune(); <-tuneDone }()
	}

	opts := httpapi.Options{
		AdminToken: cfg.AdminToken,
		BaseURL:    cfg.BaseURL,
		TrustProxy: cfg.TrustProxy,
		RateLimit:  cfg.RateLimit,
		PostRate:   cfg.PostRate,
		ActionRate: cfg.ActionRate,
		Logger:     logger,
		// Off only when measuring the uncached read path.
		NoThreadCache: !cfg.ThreadCache,
	}
	if cfg.Demo {
		created, err := ensureDemoSite(ctx, svc, cfg.BaseURL)
		if err != nil {
			return err
		}
		opts.DemoSite = DemoSite
		if created && cfg.DemoData {
			posted, held, err := seedDemo(ctx, svc, cfg.BaseURL+"/demo")
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Demo discussion: %d comments, %d held for the moderators\n", posted, held)
		}
		if cfg.DemoData {
			email, password, err := ensureDemoModerator(ctx, svc, cfg.DataDir)
			if err != nil {
				return err
			}
			if email != "" {
				fmt.Fprintf(stdout, "Demo moderator (saved in %s): %s / %s\n", filepath.Join(cfg.DataDir, "demo-login"), email, password)
			}
		}
	}
	broker := events.New(st)
	broker.Logger = logger
	// Where the log ends, read before the API loads the sites' origins: a
	// site changed on another instance from here on reaches this one.
	if err := broker.Begin(ctx); err != nil {
		return err
	}
	opts.Broker = broker
	api := httpapi.New(svc, sessions, opts)
	defer api.Close()
	// Writes on this instance drop the page's cached responses at once and
	// wake the broker; writes on other instances arrive through the log. A
	// site's change (site.updated) makes the service forget the site, which
	// then drops the cached responses of all its pages (OnSiteChange).
	broker.OnEvent = func(ev parley.Event) {
		svc.Observe(ev)
		if ev.PageID != 0 {
			api.Invalidate(ev.PageID)
		}
	}
	svc.OnChange = func(pageID int64) {
		api.Invalidate(pageID)
		broker.Notify()
	}
	svc.OnSiteChange = api.InvalidateSite
	brokerCtx, stopBroker := context.WithCancel(context.Background())
	brokerDone := make(chan struct{})
	go func() { broker.Run(brokerCtx); close(brokerDone) }()
	defer func() { stopBroker(); <-brokerDone }()
	// With PostgreSQL, other instances' writes announce themselves with
	// NOTIFY; the broker also polls, so a lost notification only delays.
	if l, ok := st.(interface{ Listen(context.Context, func()) }); ok {
		listenDone := make(chan struct{})
		go func() { l.Listen(brokerCtx, broker.Notify); close(listenDone) }()
		defer func() { stopBroker(); <-listenDone }()
	}

	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(api.Close) // end event streams so shutdown need not wait for them
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "Parley %s listening on %s\n", version(), cfg.BaseURL)
	if cfg.Demo {
		fmt.Fprintf(stdout, "Demo article: %s/demo\n", cfg.BaseURL)
		if cfg.DemoData {
			fmt.Fprintf(stdout, "Moderation: %s/admin\n", cfg.BaseURL)
		}
	}
	logger.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", storeKind(cfg))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func storeKind(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// ensureDemoSite creates the demo site, allowing the server's own origin,
// and reports whether it did.
func ensureDemoSite(ctx context.Context, svc *service.Service, baseURL string) (bool, error) {
	_, err := svc.Store().Site(ctx, DemoSite)
	if err == nil {
		return false, nil
	} else if parley.ErrorCode(err) != parley.ENotFound {
		return false, err
	}
	site := &parley.Site{
		ID:        DemoSite,
		Name:      "Parley demo",
		Origins:   demoOrigins(baseURL),
		PolicyURL: "/demo/policy",
	}
	if err := svc.CreateSite(ctx, site); parley.ErrorCode(err) == parley.EConflict {
		return false, nil // another instance made it first
	} else if err != nil {
		return false, fmt.Errorf("create demo site: %w", err)
	}
	return true, nil
}

// openStore opens the configured backend for an offline command.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return openStoreLog(ctx, cfg, nil)
}

// openStoreLog opens the configured backend: PostgreSQL when a database URL
// is set, else SQLite in the data directory.
func openStoreLog(ctx context.Context, cfg *config.Config, logger *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg.DatabaseURL, logger)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return openSQLite(ctx, cfg.DBPath())
}

// configFlags registers the database flags that every offline subcommand
// shares with serve, over the environment's configuration.
func configFlags(fs *flag.FlagSet) *config.Config {
	cfg := config.Default()
	cfg.FromEnv(os.Getenv)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (PARLEY_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database", cfg.DatabaseURL, "postgres://… (PARLEY_DATABASE_URL)")
	fs.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "public base URL (PARLEY_BASE_URL)")
	return &cfg
}

// signingKey returns the key that signs reader cookies and keys IP hashes:
// PARLEY_SECRET_KEY when set (several instances must share it), else a key
// generated once and kept in the data directory.
func signingKey(cfg *config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		key, err := hex.DecodeString(cfg.SecretKey)
		if err != nil || len(key) < 32 {
			return nil, errors.New("PARLEY_SECRET_KEY must be at least 64 hex characters (32 bytes), e.g. from: openssl rand -hex 32")
		}
		return key, nil
	}
	return auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, "secret.key"))
}
