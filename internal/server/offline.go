package server

import (
	"context"
	"io"
	"log/slog"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// OfflineService returns the service over st for a command that works on
// the database beside a running server or without one (import, export,
// site, page, user). It publishes its writes' events to the log, which the
// servers' brokers tail, so running servers apply them within their poll.
// With scoring (and the model not turned off) it scores comments as serve
// does: the configured model, and each site's tuned model over it.
func OfflineService(ctx context.Context, cfg config.Config, st store.Store, scoring bool) (*service.Service, error) {
	svc := service.New(st, render.New())
	if !scoring || cfg.NoModel {
		return svc, nil
	}
	base, err := baseModel(cfg)
	if err != nil {
		return nil, err
	}
	svc.Scorer = base
	svc.SiteModels = service.NewSiteModels(st, base)
	if err := svc.SiteModels.Refresh(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// NewLogger returns the logger cfg asks for (PARLEY_LOG_LEVEL,
// PARLEY_LOG_FORMAT), writing to w.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated with the config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
