package webhook

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// ConsumerName is the durable consumer's name in the consumers table.
const ConsumerName = "webhooks"

// QueueStore is what Queue needs of the store.
type QueueStore interface {
	Reads
	Webhooks(ctx context.Context, siteID string) ([]*store.Webhook, error)
	Update(ctx context.Context, fn func(tx store.Tx) error) (int64, error)
}

// Queue turns events of the log into deliveries: its Consume is the
// durable consumer (events.Broker.Durable(ConsumerName, q.Consume)).
type Queue struct {
	Store QueueStore
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Queued, when set, is called after deliveries were queued (to wake
	// this instance's Sender).
	Queued func()
	// Logger receives a line for each event that could not be told
	// (what it concerns is gone); nil discards.
	Logger *slog.Logger

	// The endpoints of every site, read when loaded is false; Consume is
	// called by one goroutine at a time (the broker's, for this consumer).
	hooks  []*store.Webhook
	loaded bool
}

// Consume queues the deliveries of a batch of events in one unit of work.
// An error leaves the batch to come again (the broker retries it); the
// store queues each event once per endpoint however often it comes.
//
// The endpoints are read once and kept: every addition or deletion records
// parley.EventWebhooksChanged in the log, in its transaction, so the events
// before it in the log go to the endpoints kept and those after it to the
// endpoints read again then, on every instance.
func (q *Queue) Consume(ctx context.Context, evs []parley.Event) error {
	var at time.Time // read once, when a delivery is to be queued
	var ds []*store.Delivery
	for _, ev := range evs {
		if ev.Type == parley.EventWebhooksChanged {
			q.loaded = false
			continue
		}
		if !wanted(ev.Type) {
			continue
		}
		if !q.loaded {
			hooks, err := q.Store.Webhooks(ctx, "")
			if err != nil {
				return err
			}
			q.hooks, q.loaded = hooks, true
		}
		bodies := map[string][]byte{} // by site and format
		for _, wh := range q.hooks {
			if (ev.SiteID != "" && wh.SiteID != ev.SiteID) || !wh.Wants(ev.Type) {
				continue
			}
			if at.IsZero() {
				at = time.Now()
				if q.Now != nil {
					at = q.Now()
				}
			}
			key := wh.SiteID + "\x00" + wh.Format
			body, ok := bodies[key]
			if !ok {
				env, err := Build(ctx, q.Store, ev, wh.SiteID, at)
				if parley.ErrorCode(err) == parley.ENotFound {
					q.logger().Warn("webhooks: event concerns something gone; not told", "event_id", ev.ID, "type", ev.Type, "error", err.Error())
					break
				} else if err != nil {
					return err
				}
				if body, err = Body(env, wh.Format); err != nil {
					return err
				}
				bodies[key] = body
			}
			ds = append(ds, &store.Delivery{WebhookID: wh.ID, EventID: ev.ID, Type: ev.Type, Body: body, Created: at})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	_, err := q.Store.Update(ctx, func(tx store.Tx) error {
		for _, d := range ds {
			d.ID = 0 // a second run of the unit assigns again
		}
		// ENotFound when an endpoint was deleted since it was read (its
		// site deleted with it, say): the broker hands the batch again,
		// and the endpoints are read again for it.
		_, err := tx.AddDeliveries(ds...)
		return err
	})
	if err != nil {
		q.loaded = false
		return err
	}
	if q.Queued != nil {
		q.Queued()
	}
	return nil
}

func (q *Queue) logger() *slog.Logger {
	if q.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return q.Logger
}

// wanted reports whether events of the type are told to webhooks.
func wanted(typ string) bool {
	for _, t := range Types {
		if t == typ {
			return true
		}
	}
	return false
}
