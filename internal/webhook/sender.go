package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
)

// Defaults of a Sender.
const (
	DefaultRetry    = 30 * time.Second // the first retry's wait
	MaxRetryWait    = time.Hour        // no wait between attempts is longer
	RetryFor        = 24 * time.Hour   // a delivery is given up this long after it was queued
	DefaultAttempts = 25               // or after this many failed attempts (about 20 h at the default waits)
	DefaultWorkers  = 4
	DefaultPoll     = time.Second
	DefaultTimeout  = 10 * time.Second
	maxErrorRunes   = 300
	claimPerWorker  = 4
	finishTimeout   = 10 * time.Second
	responsePreview = 512
)

// KeepLog is how long a finished delivery stays in an endpoint's log.
const KeepLog = 30 * 24 * time.Hour

// pruneEvery is how often a sender prunes the log.
const pruneEvery = time.Hour

// SenderStore is what a Sender needs of the store.
type SenderStore interface {
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
	Webhook(ctx context.Context, id int64) (*store.Webhook, error)
	ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*store.Delivery, error)
	FinishDelivery(ctx context.Context, r store.DeliveryResult) error
}

// Sender posts due deliveries. Any number of instances may run one on the
// same database: each delivery is claimed by one of them at a time.
type Sender struct {
	store  SenderStore
	client *http.Client

	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Retry is the wait before the first retry (DefaultRetry when 0);
	// each later one waits twice as long, at most MaxRetryWait.
	Retry time.Duration
	// Timeout is the longest a post may take; a claim lasts three times
	// as long (DefaultTimeout when 0). The client should have the same
	// time limit.
	Timeout time.Duration
	// MaxAttempts is how many failed attempts give a delivery up
	// (DefaultAttempts when 0), unless RetryFor ends it first. A delivery
	// given up is failed: the dead letters of the endpoint's log, which a
	// site admin may queue again (Tx.RetryDelivery).
	MaxAttempts int
	// Workers is how many posts are in flight at once (DefaultWorkers).
	Workers int
	// Poll is how often the sender looks for due deliveries when nobody
	// woke it (DefaultPoll).
	Poll time.Duration
	// Logger receives a line for each failed attempt; nil discards.
	Logger *slog.Logger

	wake chan struct{}
}

// NewSender returns a Sender posting through client, which must be the
// guarded outbound client (internal/outbound).
func NewSender(st SenderStore, client *http.Client) *Sender {
	return &Sender{store: st, client: client, wake: make(chan struct{}, 1)}
}

// Wake tells the sender that deliveries may be due. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Run posts due deliveries until ctx is done; it returns once the posts in
// flight have ended (they are cut short by ctx, and their claims lapse).
func (s *Sender) Run(ctx context.Context) {
	workers := orDefault(s.Workers, DefaultWorkers)
	poll := orDefault(s.Poll, DefaultPoll)
	lease := 3 * orDefault(s.Timeout, DefaultTimeout)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(poll)
	defer t.Stop()
	var pruned time.Time
	for {
		now := s.now()
		if now.Sub(pruned) >= pruneEvery {
			pruned = now
			if _, err := s.store.PruneDeliveries(ctx, now.Add(-KeepLog)); err != nil && ctx.Err() == nil {
				s.logger().Warn("webhooks: cannot prune the delivery log", "error", err.Error())
			}
		}
		ds, err := s.store.ClaimDeliveries(ctx, now, now.Add(lease), workers*claimPerWorker)
		if err != nil && ctx.Err() == nil {
			s.logger().Warn("webhooks: cannot claim deliveries", "error", err.Error())
		}
		for _, d := range ds {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() { // exits when the post and its record are done
				defer func() { <-sem }()
				s.attempt(ctx, d)
			})
		}
		if len(ds) == workers*claimPerWorker {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// attempt posts one delivery and stores the outcome.
func (s *Sender) attempt(ctx context.Context, d *store.Delivery) {
	wh, err := s.store.Webhook(ctx, d.WebhookID)
	if err != nil {
		if parley.ErrorCode(err) != parley.ENotFound && ctx.Err() == nil {
			s.logger().Warn("webhooks: cannot read an endpoint", "webhook_id", d.WebhookID, "error", err.Error())
		}
		return // a deleted endpoint's deliveries went with it; otherwise the claim lapses
	}
	start := time.Now()
	status, perr := s.post(ctx, wh, d)
	latency := time.Since(start)
	if ctx.Err() != nil {
		return // shutting down: the claim lapses and the delivery is posted again
	}
	at := s.now()
	r := store.DeliveryResult{ID: d.ID, Status: status, Latency: latency, At: at, State: store.DeliveryDelivered}
	if perr != nil {
		r.Error = truncate(perr.Error())
		r.State = store.DeliveryPending
		r.Next = at.Add(s.Backoff(d.Attempts + 1))
		var blocked *outbound.BlockedError
		if r.Next.Sub(d.Created) > RetryFor || d.Attempts+1 >= orDefault(s.MaxAttempts, DefaultAttempts) {
			r.State, r.Next = store.DeliveryFailed, time.Time{}
		} else if errors.As(perr, &blocked) {
			// The endpoint resolves to an address outbound requests may
			// not reach: trying again for 24 hours reaches nothing. The
			// log says why; the operator allows the address
			// (--outbound-allow) or fixes the URL, and retries.
			r.State, r.Next = store.DeliveryFailed, time.Time{}
			r.Error = truncate(perr.Error() + " (not retried: allow the address with --outbound-allow, or change the endpoint's URL)")
		}
		s.logger().Info("webhooks: delivery failed", "webhook_id", wh.ID, "delivery_id", d.ID, "attempt", d.Attempts+1,
			"status", status, "error", r.Error, "state", r.State)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := s.store.FinishDelivery(fctx, r); err != nil && parley.ErrorCode(err) != parley.ENotFound {
		s.logger().Warn("webhooks: cannot store a delivery's outcome; it will be posted again", "delivery_id", d.ID, "error", err.Error())
	}
}

// Backoff is the wait after the nth failed attempt: Retry, doubled for each
// attempt after the first, at most MaxRetryWait.
func (s *Sender) Backoff(n int) time.Duration {
	w := orDefault(s.Retry, DefaultRetry)
	for i := 1; i < n && w < MaxRetryWait; i++ {
		w *= 2
	}
	return min(w, MaxRetryWait)
}

// post sends d to wh, signed now, and returns the response status; an
// error for anything but a 2xx.
func (s *Sender) post(ctx context.Context, wh *store.Webhook, d *store.Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign([]byte(wh.Secret), s.now(), d.Body))
	req.Header.Set(EventHeader, d.Type)
	req.Header.Set(DeliveryHeader, strconv.FormatInt(d.ID, 10))
	resp, err := s.client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // the *url.Error's cause, without the URL (which may hold a token)
		}
		return 0, err
	}
	defer resp.Body.Close()
	preview, _ := io.ReadAll(io.LimitReader(resp.Body, responsePreview))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := resp.Status
		if len(bytes.TrimSpace(preview)) > 0 {
			msg += ": " + string(bytes.TrimSpace(preview))
		}
		return resp.StatusCode, fmt.Errorf("%s", msg)
	}
	return resp.StatusCode, nil
}

func truncate(s string) string {
	if r := []rune(s); len(r) > maxErrorRunes {
		return string(r[:maxErrorRunes-1]) + "…"
	}
	return s
}
