package store

import (
	"cmp"
	"slices"
	"time"
)

// Webhook is one endpoint of a site that is told of the site's events (see
// internal/webhook): where to post, the secret that signs the posts, which
// event types it wants and in which format.
type Webhook struct {
	ID      int64
	SiteID  string
	URL     string
	Secret  string   // the HMAC-SHA256 key of the Parley-Signature header
	Events  []string // the webhook event types it wants; none means all
	Format  string   // "json" (Parley's envelope) or "slack" (a Slack-compatible {"text": …})
	Created time.Time
}

// Wants reports whether the endpoint subscribes to the event type.
func (w *Webhook) Wants(typ string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == typ {
			return true
		}
	}
	return false
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // given up: no 2xx within the retry period
)

// Delivery is one post of one event to one webhook, with the outcome of its
// latest attempt: the per-endpoint delivery log. The body is built when the
// delivery is queued, so every retry posts the same bytes (signed afresh).
type Delivery struct {
	ID          int64
	WebhookID   int64
	EventID     int64 // the event of the log it tells of; 0 for a test event
	Type        string
	Body        []byte
	State       string
	Attempts    int
	NextAttempt time.Time // when a pending delivery is due (or its claim lapses)
	Created     time.Time
	LastStatus  int // HTTP status of the latest attempt, 0 when none was received
	LastError   string
	LastLatency time.Duration
	Finished    time.Time // when it was delivered or given up; zero while pending
}

// DeliveryResult is the outcome of one attempt, for FinishDelivery.
type DeliveryResult struct {
	ID      int64
	State   string // the delivery's new state
	Status  int
	Error   string
	Latency time.Duration
	At      time.Time // when the attempt ended
	Next    time.Time // the next attempt, for a pending delivery
}

// SortDue orders deliveries as ClaimDeliveries returns them: by NextAttempt
// (which the claim made the same), then by id. Backends whose RETURNING gives rows in any order call it.
func SortDue(ds []*Delivery) {
	slices.SortFunc(ds, func(a, b *Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
