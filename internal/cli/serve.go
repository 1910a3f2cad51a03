package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/store"
)

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

// runServe runs the HTTP server until ctx is cancelled (SIGINT/SIGTERM),
// then shuts down gracefully: in-flight requests finish, the store flushes.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	srv, err := server.Open(ctx, *cfg, server.Options{Logger: server.NewLogger(*cfg, stderr)})
	if err != nil {
		return err
	}
	defer srv.Close()
	printBanner(stdout, srv)
	return srv.Serve(ctx)
}

// printBanner prints what the operator needs from this start: a generated
// admin token, the demo's seeding and moderator login, and the URLs. Tests
// and the README rely on these lines.
func printBanner(w io.Writer, srv *server.Server) {
	cfg, up := srv.Config(), srv.Startup()
	if up.AdminTokenFile != "" {
		fmt.Fprintf(w, "Admin token (saved in %s): %s\n", up.AdminTokenFile, cfg.AdminToken)
	}
	if up.DemoSeeded {
		fmt.Fprintf(w, "Demo discussion: %d comments, %d held for the moderators\n", up.DemoPosted, up.DemoHeld)
	}
	if up.DemoEmail != "" {
		fmt.Fprintf(w, "Demo moderator (saved in %s): %s / %s\n", up.DemoLoginFile, up.DemoEmail, up.DemoPassword)
	}
	fmt.Fprintf(w, "Parley %s listening on %s\n", version(), cfg.BaseURL)
	if cfg.Demo {
		fmt.Fprintf(w, "Demo article: %s/demo\n", cfg.BaseURL)
		if cfg.DemoData {
			fmt.Fprintf(w, "Moderation: %s/admin\n", cfg.BaseURL)
		}
	}
}

// openStore opens the configured backend for an offline command.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return server.OpenStore(ctx, *cfg, nil)
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
