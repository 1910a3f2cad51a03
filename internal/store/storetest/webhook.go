package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// newWebhook stores an endpoint of the fixture's site.
func (f *fixture) newWebhook(url string, events ...string) *store.Webhook {
	f.t.Helper()
	wh := &store.Webhook{SiteID: f.site.ID, URL: url, Secret: "whsec_test", Events: events, Format: "json"}
	if err := f.s.CreateWebhook(f.ctx, wh); err != nil {
		f.t.Fatalf("CreateWebhook(%s): %v", url, err)
	}
	return wh
}

// queue adds deliveries in one unit of work and returns how many were stored.
func (f *fixture) queue(ds ...*store.Delivery) (int, error) {
	var added int
	_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
		var err error
		added, err = tx.AddDeliveries(ds...)
		return err
	})
	return added, err
}

var webhookTests = []test{
	{"endpoints round-trip, per site and in all, and are deleted", func(t *testing.T, f *fixture) {
		at := ms(2026, 12, 7, 12, 0, 0, 125)
		a := &store.Webhook{SiteID: "news", URL: "https://hooks.example.com/a", Secret: "s1",
			Events: []string{"comment.created", "report.created"}, Format: "slack", Created: at}
		if err := f.s.CreateWebhook(f.ctx, a); err != nil || a.ID == 0 {
			t.Fatalf("CreateWebhook: id %d, %v", a.ID, err)
		}
		f.newSite("blog")
		b := &store.Webhook{SiteID: "blog", URL: "https://hooks.example.com/b", Secret: "s2", Format: "json"}
		if err := f.s.CreateWebhook(f.ctx, b); err != nil {
			t.Fatalf("CreateWebhook(blog): %v", err)
		}
		wantCode(t, f.s.CreateWebhook(f.ctx, &store.Webhook{SiteID: "nope", URL: "https://x.example", Secret: "s", Format: "json"}),
			parley.ENotFound, "CreateWebhook on an unknown site")

		got, err := f.s.Webhook(f.ctx, a.ID)
		if err != nil || got.SiteID != "news" || got.URL != a.URL || got.Secret != "s1" || got.Format != "slack" ||
			!slices.Equal(got.Events, a.Events) {
			t.Fatalf("Webhook(%d): got %+v, %v; want %+v", a.ID, got, err, a)
		}
		wantTime(t, "Created", got.Created, at)
		if !got.Wants("report.created") || got.Wants("page.closed") {
			t.Errorf("Wants: an endpoint of comment.created and report.created got %v", got.Events)
		}
		if gb, _ := f.s.Webhook(f.ctx, b.ID); gb == nil || gb.Events != nil || !gb.Wants("page.closed") {
			t.Errorf("an endpoint without event types: got %+v, want Events nil and every type wanted", gb)
		}
		_, err = f.s.Webhook(f.ctx, b.ID+100)
		wantCode(t, err, parley.ENotFound, "Webhook of an unknown id")

		news, err := f.s.Webhooks(f.ctx, "news")
		if err != nil || len(news) != 1 || news[0].ID != a.ID {
			t.Errorf("Webhooks(news): got %v, %v; want endpoint %d alone", news, err, a.ID)
		}
		all, err := f.s.Webhooks(f.ctx, "")
		if err != nil || len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
			t.Errorf("Webhooks(\"\"): got %v, %v; want %d and %d by id", all, err, a.ID, b.ID)
		}

		if err := f.s.DeleteWebhook(f.ctx, a.ID); err != nil {
			t.Fatalf("DeleteWebhook: %v", err)
		}
		wantCode(t, f.s.DeleteWebhook(f.ctx, a.ID), parley.ENotFound, "DeleteWebhook again")
		_, err = f.s.Webhook(f.ctx, a.ID)
		wantCode(t, err, parley.ENotFound, "Webhook after DeleteWebhook")
	}},

	{"a delivery is queued once per event and endpoint", func(t *testing.T, f *fixture) {
		wh := f.newWebhook("https://hooks.example.com/")
		other := f.newWebhook("https://other.example.com/")
		mk := func(hook, ev int64) *store.Delivery {
			return &store.Delivery{WebhookID: hook, EventID: ev, Type: "comment.created", Body: []byte(`{"n":1}`)}
		}
		first := []*store.Delivery{mk(wh.ID, 7), mk(other.ID, 7), mk(wh.ID, 8)}
		if n, err := f.queue(first...); err != nil || n != 3 {
			t.Fatalf("AddDeliveries: %d, %v; want 3", n, err)
		}
		for _, d := range first {
			if d.ID == 0 || d.State != store.DeliveryPending || d.Created.IsZero() || !d.NextAttempt.Equal(d.Created) {
				t.Errorf("queued delivery: got %+v, want an id, pending, due when created", d)
			}
		}
		// The same batch of events consumed again (a crash before the
		// consumer stored its position) queues nothing new.
		again := []*store.Delivery{mk(wh.ID, 7), mk(other.ID, 7), mk(wh.ID, 9)}
		if n, err := f.queue(again...); err != nil || n != 1 || again[0].ID != 0 || again[2].ID == 0 {
			t.Fatalf("AddDeliveries again: %d (%+v), %v; want only event 9 stored", n, again, err)
		}
		// Test events (no event id) are never duplicates of each other.
		if n, err := f.queue(mk(wh.ID, 0), mk(wh.ID, 0)); err != nil || n != 2 {
			t.Errorf("two test deliveries: %d, %v; want 2", n, err)
		}
		_, err := f.queue(mk(other.ID+100, 1))
		wantCode(t, err, parley.ENotFound, "AddDeliveries to an unknown endpoint")

		log, err := f.s.Deliveries(f.ctx, wh.ID, 0)
		if err != nil || len(log) != 5 {
			t.Fatalf("Deliveries: got %d, %v; want 5", len(log), err)
		}
		for i := 1; i < len(log); i++ {
			if log[i-1].ID < log[i].ID {
				t.Errorf("Deliveries not newest first: %d before %d", log[i-1].ID, log[i].ID)
			}
		}
		if log[0].EventID != 0 || log[4].EventID != 7 || string(log[4].Body) != `{"n":1}` || log[4].Type != "comment.created" {
			t.Errorf("Deliveries: newest %+v, oldest %+v", log[0], log[4])
		}
		if lim, _ := f.s.Deliveries(f.ctx, wh.ID, 2); len(lim) != 2 {
			t.Errorf("Deliveries limit 2: got %d", len(lim))
		}
	}},

	{"claims are exclusive until they lapse; outcomes are kept", func(t *testing.T, f *fixture) {
		wh := f.newWebhook("https://hooks.example.com/")
		t0 := ms(2026, 12, 7, 12, 0, 0, 0)
		ds := []*store.Delivery{
			{WebhookID: wh.ID, EventID: 1, Type: "a", Body: []byte("1"), Created: t0, NextAttempt: t0.Add(2 * time.Second)},
			{WebhookID: wh.ID, EventID: 2, Type: "b", Body: []byte("2"), Created: t0, NextAttempt: t0.Add(time.Second)},
			{WebhookID: wh.ID, EventID: 3, Type: "c", Body: []byte("3"), Created: t0, NextAttempt: t0.Add(time.Hour)},
		}
		if _, err := f.queue(ds...); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		until := now.Add(30 * time.Second)
		got, err := f.s.ClaimDeliveries(f.ctx, now, until, 10)
		if err != nil || len(got) != 2 || got[0].ID != ds[0].ID || got[1].ID != ds[1].ID {
			t.Fatalf("ClaimDeliveries: got %v, %v; want deliveries %d and %d by id, not the one due in an hour",
				got, err, ds[0].ID, ds[1].ID)
		}
		wantTime(t, "claimed NextAttempt", got[0].NextAttempt, until)
		if again, err := f.s.ClaimDeliveries(f.ctx, now, until, 10); err != nil || len(again) != 0 {
			t.Errorf("ClaimDeliveries while claimed: got %d, %v; want none", len(again), err)
		}
		if one, _ := f.s.ClaimDeliveries(f.ctx, until, until.Add(time.Minute), 1); len(one) != 1 {
			t.Errorf("ClaimDeliveries after the claim lapsed, limit 1: got %d, want 1", len(one))
		}

		// The first attempt fails: pending again, due at next.
		next := until.Add(10 * time.Minute)
		fail := store.DeliveryResult{ID: ds[1].ID, State: store.DeliveryPending, Status: 503, Error: "503 Service Unavailable",
			Latency: 1500 * time.Microsecond, At: now, Next: next}
		if err := f.s.FinishDelivery(f.ctx, fail); err != nil {
			t.Fatalf("FinishDelivery (retry): %v", err)
		}
		// The other is delivered.
		okAt := now.Add(time.Second)
		if err := f.s.FinishDelivery(f.ctx, store.DeliveryResult{ID: ds[0].ID, State: store.DeliveryDelivered, Status: 204,
			Latency: 2 * time.Millisecond, At: okAt}); err != nil {
			t.Fatalf("FinishDelivery (delivered): %v", err)
		}
		wantCode(t, f.s.FinishDelivery(f.ctx, store.DeliveryResult{ID: ds[2].ID + 100, State: store.DeliveryFailed, At: now}),
			parley.ENotFound, "FinishDelivery of an unknown delivery")

		log, err := f.s.Deliveries(f.ctx, wh.ID, 10)
		if err != nil || len(log) != 3 {
			t.Fatalf("Deliveries: %d, %v", len(log), err)
		}
		byID := map[int64]*store.Delivery{}
		for _, d := range log {
			byID[d.ID] = d
		}
		r := byID[ds[1].ID]
		if r.State != store.DeliveryPending || r.Attempts != 1 || r.LastStatus != 503 || r.LastError != fail.Error ||
			r.LastLatency != fail.Latency || !r.Finished.IsZero() {
			t.Errorf("after a failed attempt: got %+v", r)
		}
		wantTime(t, "NextAttempt after a failed attempt", r.NextAttempt, next)
		d := byID[ds[0].ID]
		if d.State != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 204 || d.LastLatency != 2*time.Millisecond {
			t.Errorf("after delivery: got %+v", d)
		}
		wantTime(t, "Finished", d.Finished, okAt)
		// Only the pending ones are ever claimed again.
		late, err := f.s.ClaimDeliveries(f.ctx, next.Add(time.Hour), next.Add(2*time.Hour), 10)
		if err != nil || len(late) != 2 || late[0].ID == ds[0].ID || late[1].ID == ds[0].ID {
			t.Errorf("ClaimDeliveries later: got %v, %v; want the two pending ones", late, err)
		}

		// Pruning deletes finished deliveries older than the time, never
		// a pending one.
		if n, err := f.s.PruneDeliveries(f.ctx, okAt); err != nil || n != 0 {
			t.Errorf("PruneDeliveries(at the delivery): %d, %v; want 0 (not before it)", n, err)
		}
		if n, err := f.s.PruneDeliveries(f.ctx, okAt.Add(time.Millisecond)); err != nil || n != 1 {
			t.Errorf("PruneDeliveries(after the delivery): %d, %v; want 1", n, err)
		}
		if log, _ := f.s.Deliveries(f.ctx, wh.ID, 10); len(log) != 2 {
			t.Errorf("after pruning: %d deliveries, want the 2 pending", len(log))
		}
		if n, err := f.s.PruneDeliveries(f.ctx, next.Add(1000*time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneDeliveries with only pending ones: %d, %v; want 0", n, err)
		}

		// Deleting the endpoint deletes its log.
		if err := f.s.DeleteWebhook(f.ctx, wh.ID); err != nil {
			t.Fatal(err)
		}
		if log, err := f.s.Deliveries(f.ctx, wh.ID, 10); err != nil || len(log) != 0 {
			t.Errorf("Deliveries of a deleted endpoint: %d, %v", len(log), err)
		}
		wantCode(t, f.s.FinishDelivery(f.ctx, store.DeliveryResult{ID: ds[1].ID, State: store.DeliveryFailed, At: now}),
			parley.ENotFound, "FinishDelivery after the endpoint was deleted")
	}},

	{"events name the reader they concern", func(t *testing.T, f *fixture) {
		at := f.lastEvent()
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			return tx.Record(parley.Event{Type: parley.EventReaderBanned, SiteID: "news", UserID: "mallory"},
				parley.Event{Type: parley.EventPageClosed, SiteID: "news", PageID: f.page.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		evs := f.eventsAfter(at)
		if len(evs) != 2 || evs[0].UserID != "mallory" || evs[0].Type != parley.EventReaderBanned || evs[1].UserID != "" || evs[1].PageID != f.page.ID {
			t.Errorf("EventsSince: got %+v, want reader.banned of mallory, then page.closed", evs)
		}
	}},
}
