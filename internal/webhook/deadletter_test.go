package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestDeadLetterAndManualRetry runs Parley with --webhook-attempts=3 and a
// receiver on loopback that verifies signatures and answers 503 to each
// delivery's first three attempts: the delivery is given up after the
// third (failed, in the log, with the receiver's answer) and never tried
// again by itself; a site admin's retry queues it again (a retry of a
// delivery that is not failed is a 409), and the fourth attempt delivers
// it. Adding the endpoint, retrying and deleting it are in the site's
// audit log, which never shows the secret. On SQLite and PostgreSQL.
func TestDeadLetterAndManualRetry(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDeadLetter(t, server.Options{BrokerPoll: 20 * time.Millisecond}) })
	t.Run("postgres", func(t *testing.T) {
		dsn, schema := testenv.PostgresSchema(t, "parley_deadletter_")
		db := postgres.New(dsn)
		db.Schema = schema
		if err := db.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testDeadLetter(t, server.Options{Store: db, BrokerPoll: 20 * time.Millisecond})
	})
}

type deliveryLog struct {
	Deliveries []struct {
		ID       int64
		Event    string
		State    string
		Attempts int
		Status   int
		Error    string
	}
}

func testDeadLetter(t *testing.T, opts server.Options) {
	rc := newReceiver(t, testSecret, 3)
	const retry = 50 * time.Millisecond
	cfg := servertest.Config(t, "--outbound-allow", "127.0.0.1", "--webhook-retry", retry.String(), "--webhook-attempts", "3", "--webhook-timeout", "2s", "--no-model")
	srv := servertest.Start(t, cfg, opts)
	svc, ctx := srv.Service(), t.Context()
	for _, id := range []string{"news", "other"} {
		if err := svc.CreateSite(ctx, &parley.Site{ID: id, Name: id, Origins: []string{"https://" + id + ".example.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	var hook struct{ ID int64 }
	if code := api(t, srv, "POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": rc.URL + "/hook", "secret": testSecret, "events": []string{"comment.created"}}, &hook); code != http.StatusCreated {
		t.Fatalf("add webhook: %d", code)
	}
	if _, err := svc.Post(ctx, service.Actor{IP: "203.0.113.1"}, service.PostInput{SiteID: "news", URL: "https://news.example.com/a", Title: "A", Text: "Hello.", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	logPath := fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d/deliveries", hook.ID)
	var log deliveryLog
	waitFor(t, "the delivery given up", func() bool {
		api(t, srv, "GET", logPath, nil, &log)
		return len(log.Deliveries) == 1 && log.Deliveries[0].State == "failed"
	})
	d := log.Deliveries[0]
	if d.Attempts != 3 || d.Status != http.StatusServiceUnavailable || !strings.Contains(d.Error, "not yet") {
		t.Errorf("the given-up delivery: %+v, want 3 attempts, the 503 and its text", d)
	}
	attempts := func() int {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.attempts[fmt.Sprint(d.ID)])
	}
	time.Sleep(20 * retry) // far past the next backoff: nothing comes
	if n := attempts(); n != 3 {
		t.Fatalf("the receiver saw %d attempts of a given-up delivery, want 3", n)
	}

	retryPath := fmt.Sprintf("%s/%d/retry", logPath, d.ID)
	var again struct {
		State    string
		Attempts int
	}
	if code := api(t, srv, "POST", retryPath, nil, &again); code != http.StatusAccepted || again.State != "pending" || again.Attempts != 0 {
		t.Fatalf("retry: %d %+v, want 202, pending, no attempts", code, again)
	}
	waitFor(t, "the retried delivery delivered", func() bool {
		api(t, srv, "GET", logPath, nil, &log)
		return len(log.Deliveries) == 1 && log.Deliveries[0].State == "delivered"
	})
	if d := log.Deliveries[0]; d.Attempts != 1 || d.Status != http.StatusNoContent || attempts() != 4 || len(rc.byType("comment.created")) != 1 {
		t.Errorf("after the retry: %+v, %d attempts at the receiver, %d accepted; want 1 attempt, 204, 4 in all, 1 accepted", d, attempts(), len(rc.byType("comment.created")))
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("the receiver refused posts: %q", rc.bad)
	}
	rc.mu.Unlock()

	for _, tc := range []struct {
		path string
		want int
	}{
		{retryPath, http.StatusConflict}, // delivered: not failed
		{fmt.Sprintf("%s/%d/retry", logPath, d.ID+1000), http.StatusNotFound},
		{fmt.Sprintf("/api/v1/admin/sites/other/webhooks/%d/deliveries/%d/retry", hook.ID, d.ID), http.StatusNotFound},
		{fmt.Sprintf("%s/abc/retry", logPath), http.StatusBadRequest},
	} {
		if code := api(t, srv, "POST", tc.path, nil, nil); code != tc.want {
			t.Errorf("POST %s: %d, want %d", tc.path, code, tc.want)
		}
	}
	if code := api(t, srv, "DELETE", fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d", hook.ID), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}

	var audit struct {
		Actions []struct {
			Actor         struct{ Name string }
			Action, Site  string
			Before, After map[string]any
		}
	}
	if code := api(t, srv, "GET", "/api/v1/admin/sites/news/audit", nil, &audit); code != http.StatusOK {
		t.Fatalf("site audit: %d", code)
	}
	raw, _ := json.Marshal(audit)
	if strings.Contains(string(raw), testSecret) {
		t.Errorf("the audit log shows the secret: %s", raw)
	}
	var got []string
	for _, a := range audit.Actions {
		got = append(got, a.Action)
		if a.Site != "news" || a.Actor.Name != "admin token" {
			t.Errorf("audit entry %+v: want site news, by the admin token", a)
		}
		switch a.Action {
		case service.AuditWebhookAdd:
			if a.After["url"] != rc.URL+"/hook" || a.After["webhook_id"] != float64(hook.ID) {
				t.Errorf("webhook_add: after %v", a.After)
			}
		case service.AuditWebhookRetry:
			if a.After["delivery_id"] != float64(d.ID) || a.After["webhook_id"] != float64(hook.ID) {
				t.Errorf("webhook_retry: after %v", a.After)
			}
		case service.AuditWebhookDelete:
			if a.Before["url"] != rc.URL+"/hook" {
				t.Errorf("webhook_delete: before %v", a.Before)
			}
		}
	}
	if want := []string{service.AuditWebhookDelete, service.AuditWebhookRetry, service.AuditWebhookAdd}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("site audit %q, want %q (newest first)", got, want)
	}
}
