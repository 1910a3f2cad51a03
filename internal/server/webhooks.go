package server

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/webhook"
)

// wireWebhooks registers the webhook queue as a durable consumer of the
// event log (before the broker runs) and starts the sender, which posts
// through its own guarded outbound client until Close cancels bgCtx.
func (s *Server) wireWebhooks(bgCtx context.Context, broker *events.Broker) {
	cfg, svc := s.cfg, s.svc
	client := outbound.NewClient(outbound.Options{Allow: cfg.OutboundAllow, Timeout: cfg.WebhookTimeout, MaxResponseBytes: 64 << 10})
	sender := webhook.NewSender(s.store, client)
	sender.Retry, sender.Timeout, sender.Logger = cfg.WebhookRetry, cfg.WebhookTimeout, s.logger
	sender.MaxAttempts = cfg.WebhookAttempts
	queue := &webhook.Queue{Store: s.store, Queued: sender.Wake, Logger: s.logger,
		Now: func() time.Time { return svc.Now() }}
	broker.Durable(webhook.ConsumerName, queue.Consume)
	svc.OutboundAllow = cfg.OutboundAllow
	svc.WebhookQueued = sender.Wake
	s.bg.Go(func() { sender.Run(bgCtx) }) // exits when Close cancels bgCtx
}
