package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/webhook"
)

// Limits of a webhook endpoint.
const (
	MaxWebhookURL      = 2000
	MinWebhookSecret   = 16
	MaxWebhookSecret   = 200
	MaxWebhooksPerSite = 20
	MaxDeliveryLog     = 200
)

// WebhookInput is a new endpoint of a site.
type WebhookInput struct {
	SiteID string
	URL    string
	Events []string // a subset of webhook.Types; none for all
	Format string   // webhook.FormatJSON (default) or webhook.FormatSlack
	Secret string   // generated when empty
}

// AddWebhook adds an endpoint to a site and returns it with its secret
// (the only answer that holds it in full besides the CLI's). Site admins
// only (as for the policy). EInvalid for a URL that is not absolute
// http(s), that names a refused literal address (see outbound.CheckHost),
// an unknown event type or format, or a short secret; ENotFound for an
// unknown site.
func (s *Service) AddWebhook(ctx context.Context, a Actor, in WebhookInput) (*store.Webhook, error) {
	if _, err := s.Site(ctx, in.SiteID); err != nil {
		return nil, err
	}
	if err := mayChangePolicy(a, in.SiteID); err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(in.URL))
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return nil, parley.Errorf(parley.EInvalid, "The webhook URL must be an absolute http:// or https:// URL.")
	case u.User != nil:
		return nil, parley.Errorf(parley.EInvalid, "The webhook URL must not hold a user name or password; the signature authenticates Parley.")
	case len(in.URL) > MaxWebhookURL:
		return nil, parley.Errorf(parley.EInvalid, "The webhook URL is longer than %d characters.", MaxWebhookURL)
	}
	if err := s.OutboundAllow.CheckHost(u.Hostname()); err != nil {
		return nil, parley.Errorf(parley.EInvalid, "Webhooks may not post to %s: %v. An operator can allow it with --outbound-allow.", u.Hostname(), err)
	}
	events := []string{}
	for _, e := range in.Events {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if !slices.Contains(webhook.Types, e) {
			return nil, parley.Errorf(parley.EInvalid, "Unknown webhook event %q; the events are %s.", e, strings.Join(webhook.Types, ", "))
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(events) == 0 || len(events) == len(webhook.Types) {
		events = nil
	}
	format := in.Format
	switch format {
	case "":
		format = webhook.FormatJSON
	case webhook.FormatJSON, webhook.FormatSlack:
	default:
		return nil, parley.Errorf(parley.EInvalid, "Unknown webhook format %q; it is %q or %q.", format, webhook.FormatJSON, webhook.FormatSlack)
	}
	secret := in.Secret
	if secret == "" {
		b := make([]byte, 24)
		rand.Read(b)
		secret = "whsec_" + hex.EncodeToString(b)
	} else if n := len(secret); n < MinWebhookSecret || n > MaxWebhookSecret || strings.ContainsAny(secret, "\r\n") {
		return nil, parley.Errorf(parley.EInvalid, "A webhook secret has %d to %d characters on one line.", MinWebhookSecret, MaxWebhookSecret)
	}
	wh, _, err := once(ctx, s, a, in.SiteID, "webhook", in, func(k *keyed) (*store.Webhook, error) {
		have, err := s.store.Webhooks(ctx, in.SiteID)
		if err != nil {
			return nil, err
		}
		if len(have) >= MaxWebhooksPerSite {
			return nil, parley.Errorf(parley.EConflict, "Site %q has %d webhooks, the most it may have.", in.SiteID, MaxWebhooksPerSite)
		}
		wh := &store.Webhook{SiteID: in.SiteID, URL: u.String(), Secret: secret, Events: events, Format: format, Created: s.now()}
		err = s.update(ctx, func(tx store.Tx) error {
			wh.ID = 0 // a second run of the unit assigns again
			if err := tx.CreateWebhook(wh); err != nil {
				return err
			}
			e, err := s.entry(a, store.Action{Action: AuditWebhookAdd, SiteID: in.SiteID}, nil, auditedWebhook(wh))
			if err != nil {
				return err
			}
			if err := tx.AddAction(e); err != nil {
				return err
			}
			return k.save(tx, wh, nil)
		})
		return wh, err
	})
	if err != nil {
		return nil, err
	}
	return wh, nil
}

// Audit actions of webhooks: an endpoint added or deleted, a given-up
// delivery queued again. The entries name the endpoint, never its secret.
const (
	AuditWebhookAdd    = "webhook_add"
	AuditWebhookDelete = "webhook_delete"
	AuditWebhookRetry  = "webhook_retry"
)

// auditedWebhook is what the audit log keeps of an endpoint: no secret.
func auditedWebhook(wh *store.Webhook) map[string]any {
	events := wh.Events
	if events == nil {
		events = []string{}
	}
	return map[string]any{"webhook_id": wh.ID, "url": wh.URL, "events": events, "format": wh.Format}
}

// Webhooks lists a site's endpoints. Site admins only.
func (s *Service) Webhooks(ctx context.Context, a Actor, siteID string) ([]*store.Webhook, error) {
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := mayChangePolicy(a, siteID); err != nil {
		return nil, err
	}
	return s.store.Webhooks(ctx, siteID)
}

// siteWebhook returns an endpoint of siteID that a may manage; ENotFound
// for an endpoint of another site.
func (s *Service) siteWebhook(ctx context.Context, a Actor, siteID string, id int64) (*store.Webhook, error) {
	if err := mayChangePolicy(a, siteID); err != nil {
		return nil, err
	}
	wh, err := s.store.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if wh.SiteID != siteID {
		return nil, parley.Errorf(parley.ENotFound, "Site %q has no webhook %d.", siteID, id)
	}
	return wh, nil
}

// DeleteWebhook deletes an endpoint of a site and its delivery log, with an
// entry in the site's audit log.
func (s *Service) DeleteWebhook(ctx context.Context, a Actor, siteID string, id int64) error {
	wh, err := s.siteWebhook(ctx, a, siteID, id)
	if err != nil {
		return err
	}
	e, err := s.entry(a, store.Action{Action: AuditWebhookDelete, SiteID: siteID}, auditedWebhook(wh), nil)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteWebhook(id); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
}

// RetryWebhookDelivery queues a delivery that was given up (failed: every
// attempt of its retry period failed) again, due now, with a retry period
// of its own, and records it in the site's audit log. ENotFound for a
// delivery of another endpoint, EConflict for one not failed.
func (s *Service) RetryWebhookDelivery(ctx context.Context, a Actor, siteID string, webhookID, deliveryID int64) (*store.Delivery, error) {
	if _, err := s.siteWebhook(ctx, a, siteID, webhookID); err != nil {
		return nil, err
	}
	e, err := s.entry(a, store.Action{Action: AuditWebhookRetry, SiteID: siteID}, nil, map[string]any{"webhook_id": webhookID, "delivery_id": deliveryID})
	if err != nil {
		return nil, err
	}
	at := s.now()
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.RetryDelivery(webhookID, deliveryID, at); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
	if err != nil {
		return nil, err
	}
	if s.WebhookQueued != nil {
		s.WebhookQueued()
	}
	ds, err := s.store.Deliveries(ctx, webhookID, MaxDeliveryLog)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.ID == deliveryID {
			return d, nil
		}
	}
	return &store.Delivery{ID: deliveryID, WebhookID: webhookID, State: store.DeliveryPending, NextAttempt: at, Created: at}, nil
}

// SiteAudit lists the audit entries of a site, newest first (at most
// limit, 100 by default): its moderators' decisions and the changes of
// its settings (policy, webhooks). Site admins only.
func (s *Service) SiteAudit(ctx context.Context, a Actor, siteID string, limit int) ([]*store.Action, error) {
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := mayChangePolicy(a, siteID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.Actions(ctx, store.ActionQuery{SiteID: siteID, Limit: limit})
}

// WebhookDeliveries returns an endpoint's delivery log, newest first.
func (s *Service) WebhookDeliveries(ctx context.Context, a Actor, siteID string, id int64, limit int) ([]*store.Delivery, error) {
	if _, err := s.siteWebhook(ctx, a, siteID, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxDeliveryLog {
		limit = 50
	}
	return s.store.Deliveries(ctx, id, limit)
}

// TestWebhook queues a test event (webhook.TypeTest) for an endpoint and
// returns its delivery, which the sender posts like any other.
func (s *Service) TestWebhook(ctx context.Context, a Actor, siteID string, id int64) (*store.Delivery, error) {
	wh, err := s.siteWebhook(ctx, a, siteID, id)
	if err != nil {
		return nil, err
	}
	body, err := webhook.Body(webhook.TestEnvelope(siteID, s.now()), wh.Format)
	if err != nil {
		return nil, err
	}
	d := &store.Delivery{WebhookID: wh.ID, Type: webhook.TypeTest, Body: body, Created: s.now()}
	err = s.update(ctx, func(tx store.Tx) error {
		d.ID = 0
		_, err := tx.AddDeliveries(d)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.WebhookQueued != nil {
		s.WebhookQueued()
	}
	return d, nil
}
