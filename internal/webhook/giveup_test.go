package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/webhook"
)

// TestGivesUpAfter24Hours shows the end of the retry period: a delivery
// queued more than 24 hours before its next attempt would fall is marked
// failed after the attempt, while a young one stays pending, due after
// the backoff, with the receiver's answer in the log.
func TestGivesUpAfter24Hours(t *testing.T) {
	ctx := t.Context()
	st := newSiteStore(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusInternalServerError)
	}))
	defer down.Close()
	wh := &store.Webhook{SiteID: "news", URL: down.URL, Secret: testSecret, Format: webhook.FormatJSON}
	if err := st.CreateWebhook(ctx, wh); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := &store.Delivery{WebhookID: wh.ID, EventID: 1, Type: webhook.TypeTest, Body: []byte(`{}`), Created: now.Add(-webhook.RetryFor + time.Minute), NextAttempt: now.Add(-time.Second)}
	young := &store.Delivery{WebhookID: wh.ID, EventID: 2, Type: webhook.TypeTest, Body: []byte(`{}`), Created: now.Add(-time.Hour), NextAttempt: now.Add(-time.Second)}
	if _, err := st.Update(ctx, func(tx store.Tx) error { _, err := tx.AddDeliveries(old, young); return err }); err != nil {
		t.Fatal(err)
	}
	allow, _ := outbound.ParseAllowlist("127.0.0.1")
	s := webhook.NewSender(st, outbound.NewClient(outbound.Options{Allow: allow}))
	s.Retry, s.Poll = 5*time.Minute, 20*time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	var log []*store.Delivery
	var err error
	for {
		if log, err = st.Deliveries(ctx, wh.ID, 10); err != nil {
			t.Fatal(err)
		}
		if len(log) == 2 && log[0].Attempts == 1 && log[1].Attempts == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempts: %+v", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	y, o := log[0], log[1] // newest first
	if o.State != store.DeliveryFailed || o.Finished.IsZero() || o.LastStatus != 500 || !strings.Contains(o.LastError, "maintenance") {
		t.Errorf("the 24-hour-old delivery: %+v, want failed with the 500 and its text", o)
	}
	if y.State != store.DeliveryPending || y.LastStatus != 500 || y.NextAttempt.Before(now.Add(4*time.Minute)) {
		t.Errorf("the young delivery: %+v, want pending, due in about 5 minutes", y)
	}
}

// TestBlockedEndpointFailsAtOnce: an endpoint whose address the outbound
// guard refuses (here loopback, with no allow-list) is not retried for 24
// hours: the delivery fails on its first attempt, and the log says why
// and what to do.
func TestBlockedEndpointFailsAtOnce(t *testing.T) {
	ctx := t.Context()
	st := newSiteStore(t)
	hit := make(chan struct{}, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer recv.Close()
	wh := &store.Webhook{SiteID: "news", URL: recv.URL, Secret: testSecret, Format: webhook.FormatJSON}
	if err := st.CreateWebhook(ctx, wh); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d := &store.Delivery{WebhookID: wh.ID, EventID: 1, Type: webhook.TypeTest, Body: []byte(`{}`), Created: now, NextAttempt: now.Add(-time.Second)}
	if _, err := st.Update(ctx, func(tx store.Tx) error { _, err := tx.AddDeliveries(d); return err }); err != nil {
		t.Fatal(err)
	}
	s := webhook.NewSender(st, outbound.NewClient(outbound.Options{}))
	s.Retry, s.Poll = time.Millisecond, 20*time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	var log []*store.Delivery
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if log, err = st.Deliveries(ctx, wh.ID, 10); err != nil {
			t.Fatal(err)
		}
		if len(log) == 1 && log[0].Attempts >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt: %+v", log)
		}
	}
	time.Sleep(200 * time.Millisecond) // many retry intervals, were it retried
	if log, err = st.Deliveries(ctx, wh.ID, 10); err != nil {
		t.Fatal(err)
	}
	got := log[0]
	if got.State != store.DeliveryFailed || got.Attempts != 1 || !strings.Contains(got.LastError, "loopback") ||
		!strings.Contains(got.LastError, "--outbound-allow") {
		t.Errorf("the blocked delivery: state %s, %d attempts, error %q; want failed after one attempt, naming the class and the remedy",
			got.State, got.Attempts, got.LastError)
	}
	select {
	case <-hit:
		t.Errorf("the guard let a request reach loopback")
	default:
	}
}
