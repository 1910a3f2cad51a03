package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// OpenStore opens the configured backend: PostgreSQL when cfg has a database
// URL, else SQLite in the data directory (created if need be). The offline
// subcommands open their store with it too, so every command reads the same
// database `parley serve` would. logger may be nil.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg.DatabaseURL, logger)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	path := cfg.DBPath()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// openPostgres opens the PostgreSQL store. The URL may hold a password, so
// errors never repeat it.
func openPostgres(ctx context.Context, url string, logger *slog.Logger) (store.Store, error) {
	db := postgres.New(url)
	if logger != nil {
		db.Logger = logger
	}
	if err := db.Open(ctx); err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	return db, nil
}

// storeKind names the configured backend for the log.
func storeKind(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}
