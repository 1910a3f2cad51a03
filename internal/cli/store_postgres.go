package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
)

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
