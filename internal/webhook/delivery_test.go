package webhook_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/webhook"
)

// receiver is a webhook endpoint on loopback: it verifies every post's
// signature with its secret, fails each delivery's first failFirst
// attempts with a 503, and keeps what it was sent.
type receiver struct {
	*httptest.Server
	secret    []byte
	failFirst int

	mu       sync.Mutex
	attempts map[string][]time.Time // by Parley-Delivery
	bad      []string               // why a post was refused
	events   []webhook.Envelope     // accepted JSON posts
	slack    []string               // accepted Slack texts
}

func newReceiver(t *testing.T, secret string, failFirst int) *receiver {
	rc := &receiver{secret: []byte(secret), failFirst: failFirst, attempts: map[string][]time.Time{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := webhook.Verify(rc.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		rc.bad = append(rc.bad, fmt.Sprintf("%s %s: %v", r.Header.Get(webhook.EventHeader), r.Header.Get(webhook.DeliveryHeader), err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(webhook.DeliveryHeader)
	rc.attempts[id] = append(rc.attempts[id], time.Now())
	if len(rc.attempts[id]) <= rc.failFirst {
		http.Error(w, "not yet", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/slack" {
		var m struct{ Text string }
		json.Unmarshal(body, &m)
		rc.slack = append(rc.slack, m.Text)
	} else {
		var env webhook.Envelope
		if err := json.Unmarshal(body, &env); err != nil || env.Type != r.Header.Get(webhook.EventHeader) {
			rc.bad = append(rc.bad, fmt.Sprintf("body %s: %v", body, err))
		}
		rc.events = append(rc.events, env)
	}
	w.WriteHeader(http.StatusNoContent)
}

// byType returns the accepted events of a type.
func (rc *receiver) byType(typ string) []webhook.Envelope {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []webhook.Envelope
	for _, e := range rc.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// api sends an admin API request and decodes the JSON answer into out.
func api(t *testing.T, srv *server.Server, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.URL()+path, body)
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, b, err)
		}
	}
	return res.StatusCode
}

const testSecret = "whsec_0123456789abcdef0123456789"

// TestDeliveriesSignedRetriedAndLogged runs Parley with a receiver on
// loopback (allowed by --outbound-allow) that verifies every signature and
// fails each delivery's first two attempts: every event type arrives,
// signed, after exactly three attempts spaced by the doubling backoff; the
// Slack-format endpoint gets text; the delivery log says what happened; the
// test event goes out too.
// It runs on SQLite and on PostgreSQL (PARLEY_TEST_POSTGRES).
func TestDeliveriesSignedRetriedAndLogged(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDeliveries(t, server.Options{BrokerPoll: 20 * time.Millisecond}) })
	t.Run("postgres", func(t *testing.T) {
		dsn, schema := testenv.PostgresSchema(t, "parley_webhook_")
		db := postgres.New(dsn)
		db.Schema = schema
		if err := db.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testDeliveries(t, server.Options{Store: db, BrokerPoll: 20 * time.Millisecond})
	})
}

func testDeliveries(t *testing.T, opts server.Options) {
	rc := newReceiver(t, testSecret, 2)
	const retry = 150 * time.Millisecond
	cfg := servertest.Config(t, "--outbound-allow", "127.0.0.1", "--webhook-retry", retry.String(), "--webhook-timeout", "2s", "--no-model")
	srv := servertest.Start(t, cfg, opts)
	svc, ctx := srv.Service(), t.Context()
	if err := svc.CreateSite(ctx, &parley.Site{ID: "news", Name: "News", Origins: []string{"https://news.example.com"}}); err != nil {
		t.Fatal(err)
	}

	var hook struct {
		ID     int64
		Secret string
	}
	if code := api(t, srv, "POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": rc.URL + "/hook", "secret": testSecret}, &hook); code != http.StatusCreated || hook.Secret != testSecret {
		t.Fatalf("add webhook: %d %+v", code, hook)
	}
	var slack struct{ ID int64 }
	if code := api(t, srv, "POST", "/api/v1/admin/sites/news/webhooks",
		map[string]any{"url": rc.URL + "/slack", "secret": testSecret, "format": "slack", "events": []string{"comment.created"}}, &slack); code != http.StatusCreated {
		t.Fatalf("add slack webhook: %d", code)
	}

	// One of each event type.
	const page = "https://news.example.com/2026/webhooks"
	post := func(name, text string, as service.Actor) *service.PostResult {
		res, err := svc.Post(ctx, as, service.PostInput{SiteID: "news", URL: page, Title: "Webhooks <&> you", Text: text, Name: name})
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		return res
	}
	first := post("Alice <b>", "The first comment, with *markdown* & <html>.", service.Actor{IP: "203.0.113.1"})
	if first.Comment.Status != parley.StatusApproved {
		t.Fatalf("first comment %s, want approved", first.Comment.Status)
	}
	second := post("Bob", "A second comment.", service.Actor{IP: "203.0.113.2"})
	admin := service.Actor{Admin: true}
	if _, err := svc.Decide(ctx, admin, first.Comment.ID, service.DecideInput{Action: service.ActionFeature}); err != nil {
		t.Fatal(err) // comment.updated
	}
	if _, err := svc.Report(ctx, service.Actor{User: second.NewUser, IP: "203.0.113.2"}, first.Comment.ID, service.ReportInput{Reason: "spam"}); err != nil {
		t.Fatal(err) // report.created
	}
	if _, err := svc.Decide(ctx, admin, second.Comment.ID, service.DecideInput{Action: service.ActionReject}); err != nil {
		t.Fatal(err) // comment.moderated
	}
	if _, err := svc.Sanction(ctx, admin, second.NewUser.ID, service.SanctionInput{SiteID: "news", Action: service.SanctionBan}); err != nil {
		t.Fatal(err) // reader.banned
	}
	closed := true
	if _, err := svc.UpdatePage(ctx, admin, service.PageRef{SiteID: "news", URL: page}, service.PageUpdate{Closed: &closed}); err != nil {
		t.Fatal(err) // page.closed
	}
	var queued struct{ ID int64 }
	if code := api(t, srv, "POST", fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d/test", hook.ID), nil, &queued); code != http.StatusAccepted || queued.ID == 0 {
		t.Fatalf("test event: %d %+v", code, queued)
	}

	want := map[string]int{webhook.TypeCommentCreated: 2, webhook.TypeCommentUpdated: 1, webhook.TypeReportCreated: 1,
		webhook.TypeCommentModerated: 1, webhook.TypeReaderBanned: 1, webhook.TypePageClosed: 1, webhook.TypeTest: 1}
	waitFor(t, "every event type, delivered", func() bool {
		for typ, n := range want {
			if len(rc.byType(typ)) < n {
				return false
			}
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.slack) >= 2
	})

	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("the receiver refused posts: %q", rc.bad)
	}
	for id, at := range rc.attempts {
		if len(at) != 3 {
			t.Errorf("delivery %s: %d attempts, want 3 (two refused, one accepted)", id, len(at))
			continue
		}
		// The waits double; on a busy machine they are only ever longer.
		if d1, d2 := at[1].Sub(at[0]), at[2].Sub(at[1]); d1 < retry || d2 < 2*retry {
			t.Errorf("delivery %s: retried after %v and %v, want at least %v and %v", id, d1, d2, retry, 2*retry)
		}
	}
	slackTexts := strings.Join(rc.slack, "\n")
	rc.mu.Unlock()
	if !strings.Contains(slackTexts, "New comment by *Alice &lt;b&gt;* on <https://news.example.com/2026/webhooks|Webhooks &lt;&amp;&gt; you>") {
		t.Errorf("Slack texts, escaped as Slack wants:\n%s", slackTexts)
	}

	// What the envelopes say.
	var created []webhook.Envelope
	for _, e := range rc.byType(webhook.TypeCommentCreated) {
		if e.Data.Comment != nil && e.Data.Comment.ID == first.Comment.ID {
			created = append(created, e) // the two comments' posts come in any order
		}
	}
	if len(created) != 1 {
		t.Fatalf("comment.created of comment %d: %d posts accepted, want 1", first.Comment.ID, len(created))
	}
	if c := created[0].Data.Comment; c.Author.Name != "Alice <b>" || created[0].Site != "news" ||
		created[0].Data.Page == nil || created[0].Data.Page.URL != page || !strings.Contains(c.HTML, "<em>markdown</em>") {
		t.Errorf("comment.created: got %+v, comment %+v, page %+v", created[0], created[0].Data.Comment, created[0].Data.Page)
	}
	if r := rc.byType(webhook.TypeReportCreated)[0].Data.Report; r == nil || r.Reason != "spam" || r.Reports != 1 {
		t.Errorf("report.created: report %+v, want spam, 1", r)
	}
	if c := rc.byType(webhook.TypeCommentModerated)[0].Data.Comment; c == nil || c.ID != second.Comment.ID || c.Status != parley.StatusRejected {
		t.Errorf("comment.moderated: comment %+v, want %d rejected", c, second.Comment.ID)
	}
	if r := rc.byType(webhook.TypeReaderBanned)[0].Data.Reader; r == nil || r.ID != second.NewUser.ID || r.Until == nil {
		t.Errorf("reader.banned: reader %+v, want %s with an end", r, second.NewUser.ID)
	}
	if p := rc.byType(webhook.TypePageClosed)[0].Data.Page; p == nil || !p.Closed || p.URL != page {
		t.Errorf("page.closed: page %+v", p)
	}

	// The delivery log, once the last outcomes are stored.
	var log struct {
		Deliveries []struct {
			Event     string
			State     string
			Attempts  int
			Status    int
			Error     string
			LatencyMS float64 `json:"latency_ms"`
		}
	}
	waitFor(t, "the delivery log to show every delivery delivered", func() bool {
		api(t, srv, "GET", fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d/deliveries", hook.ID), nil, &log)
		for _, d := range log.Deliveries {
			if d.State != "delivered" {
				return false
			}
		}
		return len(log.Deliveries) == 8
	})
	for _, d := range log.Deliveries {
		if d.Attempts != 3 || d.Status != http.StatusNoContent || d.LatencyMS <= 0 {
			t.Errorf("delivery log entry %+v: want 3 attempts, status 204, a latency", d)
		}
	}

	// The list hides the secret; the wrong site or a bad id is a clear 4xx.
	var list struct {
		Webhooks []struct {
			ID     int64
			Secret string
			Hint   string `json:"secret_hint"`
		}
	}
	if code := api(t, srv, "GET", "/api/v1/admin/sites/news/webhooks", nil, &list); code != 200 || len(list.Webhooks) != 2 || list.Webhooks[0].Secret != "" || !strings.HasPrefix(list.Webhooks[0].Hint, "whsec_") {
		t.Errorf("list: %d %+v", code, list)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "ftp://x.example/"}, 400},
		{"POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "https://x.example/", "events": []string{"comment.deleted"}}, 400},
		{"POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "https://x.example/", "format": "xml"}, 400},
		{"POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "https://x.example/", "secret": "short"}, 400},
		{"POST", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "http://10.1.2.3/hook"}, 400},
		{"POST", "/api/v1/admin/sites/nope/webhooks", map[string]any{"url": "https://x.example/"}, 404},
		{"GET", "/api/v1/admin/sites/news/webhooks/abc/deliveries", nil, 400},
		{"GET", fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d/deliveries?limit=0", hook.ID), nil, 400},
		{"DELETE", "/api/v1/admin/sites/news/webhooks/99999", nil, 404},
	} {
		var e struct{ Error struct{ Message string } }
		if code := api(t, srv, tc.method, tc.path, tc.body, &e); code != tc.want {
			t.Errorf("%s %s %v: %d (%+v), want %d", tc.method, tc.path, tc.body, code, e, tc.want)
		}
	}
	if code := api(t, srv, "DELETE", fmt.Sprintf("/api/v1/admin/sites/news/webhooks/%d", slack.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
}
