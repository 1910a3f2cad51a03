package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// csrfPage is the attacker's page, on another loopback origin (another
// port of 127.0.0.1: the same site for SameSite's purposes, so the
// browser sends the reader's and the moderator's cookies with its
// requests, and only Parley's own checks stand in the way). It tries every
// cookie-authenticated state change of the public and admin API, by
// fetch (simple no-cors requests, which need no preflight, and CORS ones)
// and by plain HTML forms (text/plain, urlencoded, multipart), and reads
// two personal responses; it lists what it could read in window.readable
// and sets document.title to "done".
const csrfPage = `<!doctype html><html><head><meta charset="utf-8"><title>attacker</title></head><body>
<iframe name="sink"></iframe>
<script>
const P = %[1]q, DEMO = %[2]q, TARGET = %[3]d, OWN = %[4]d;
const j = (v) => JSON.stringify(v);
const simple = (method, path, body) => fetch(P + path, { method, mode: "no-cors", credentials: "include", headers: { "Content-Type": "text/plain" }, body }).catch(() => {});
const cors = (method, path, body) => fetch(P + path, { method, credentials: "include", headers: { "Content-Type": "application/json" }, body }).catch(() => {});
const form = (path, enctype, fields) => new Promise((resolve) => {
  const f = document.createElement("form");
  f.method = "POST"; f.action = P + path; f.enctype = enctype; f.target = "sink";
  for (const [k, v] of fields) { const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.append(i); }
  document.body.append(f);
  const sink = document.querySelector("iframe");
  sink.onload = () => resolve();
  setTimeout(resolve, 3000);
  f.submit();
});
window.readable = [];
(async () => {
  const comment = j({ site: "demo", url: DEMO, title: "T", text: "CSRF comment", name: "Mallory" });
  await simple("POST", "/api/v1/comments", comment);
  await cors("POST", "/api/v1/comments", comment);
  await simple("POST", "/api/v1/comments/" + TARGET + "/vote", j({ value: -1 }));
  await simple("POST", "/api/v1/comments/" + TARGET + "/report", j({ reason: "spam" }));
  await cors("PATCH", "/api/v1/comments/" + OWN, j({ text: "CSRF edit" }));
  await cors("DELETE", "/api/v1/comments/" + OWN);
  await simple("POST", "/api/v1/auth/logout", "{}");
  await simple("POST", "/api/v1/admin/comments/" + TARGET + "/decision", j({ action: "reject", note: "CSRF" }));
  await cors("PATCH", "/api/v1/admin/sites/demo/policy", j({ report_threshold: 1 }));
  await simple("POST", "/api/v1/admin/logout", "{}");
  await form("/api/v1/comments", "text/plain", [[comment.slice(0, -1) + ',"pad":"', '"}']]);
  await form("/api/v1/comments", "application/x-www-form-urlencoded", [["site", "demo"], ["url", DEMO], ["text", "CSRF comment"]]);
  await form("/api/v1/comments", "multipart/form-data", [["site", "demo"], ["url", DEMO], ["text", "CSRF comment"]]);
  await form("/api/v1/admin/comments/" + TARGET + "/decision", "text/plain", [['{"action":"reject","pad":"', '"}']]);
  await form("/api/v1/admin/comments/" + TARGET + "/decision", "application/x-www-form-urlencoded", [["action", "reject"]]);
  await form("/api/v1/admin/logout", "application/x-www-form-urlencoded", [["x", "1"]]);
  for (const path of ["/api/v1/me", "/api/v1/admin/me"]) {
    try { const r = await fetch(P + path, { credentials: "include" }); window.readable.push(path + " " + (await r.text()).slice(0, 80)); } catch { }
  }
  document.title = "done";
})();
</script></body></html>`

// TestBrowserCSRF is issue 13's CSRF promise, tested from a second loopback
// origin in Chromium: a reader with a session and a signed-in moderator
// visit the attacker's page, whose every attempt at a cookie-authenticated
// state change of the public and admin API, by fetch or by form, is
// refused by Parley (403, seen in the browser's network log), changes
// nothing, and leaves both signed in; and the page can read neither
// personal response.
func TestBrowserCSRF(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const email, password = "mo@example.com", "correct horse battery staple"
	addModerator(t, dataDir, "demo", "Mo", email, password)

	other := srv.client()
	res, err := other.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": "Demo", "text": "Another reader's comment.", "name": "Ola"})
	var target apiPosted
	if err != nil || res.Status != http.StatusCreated || res.decode(&target) != nil {
		t.Fatalf("post the target: %v %d %s", err, res.Status, res.Body)
	}

	b := newBrowser(t, chrome, "reader and moderator")
	b.open(demo)
	own := awaitEval[float64](b, "the reader's own comment", `fetch("/api/v1/comments", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({site: "demo", url: location.href, title: "Demo", text: "The reader's own comment.", name: "Rae"})}).then((r) => r.json()).then((r) => r.comment.id)`)
	reader := awaitEval[string](b, "the reader's id", `fetch("/api/v1/me").then((r) => r.json()).then((r) => r.me.id)`)
	signIn(b, srv, email, password)

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, csrfPage, srv.URL, demo, target.Comment.ID, int64(own))
	}))
	t.Cleanup(evil.Close)
	if evil.URL == srv.URL || !strings.HasPrefix(evil.URL, "http://127.0.0.1:") {
		t.Fatalf("the attacker's origin %s must be another loopback origin than %s", evil.URL, srv.URL)
	}

	// Parley's answers to the attacker page's requests, from the network log.
	var mu sync.Mutex
	methods := map[network.RequestID]string{}
	var answers []string
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev, err := range chromedp.Events(b.ctx, network.RequestWillBeSent) {
			if err != nil {
				return
			}
			mu.Lock()
			methods[ev.RequestID] = ev.Request.Method
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(b.ctx, network.ResponseReceived) {
			if err != nil {
				return
			}
			if strings.HasPrefix(ev.Response.URL, srv.URL+"/api/") {
				mu.Lock()
				answers = append(answers, fmt.Sprintf("%s %s %d", methods[ev.RequestID], strings.TrimPrefix(ev.Response.URL, srv.URL), ev.Response.Status))
				mu.Unlock()
			}
		}
	}()
	b.do("open the attacker's page", chromedp.Navigate(evil.URL+"/"))
	waitFor[bool](b, "the attacks to end", `document.title === "done"`)
	readable := eval[[]string](b, "what the page could read", `window.readable`)
	if len(readable) > 0 {
		t.Errorf("the attacker's page read personal responses: %q", readable)
	}

	mu.Lock()
	got := append([]string(nil), answers...)
	mu.Unlock()
	refused, unsafe := 0, 0
	for _, a := range got {
		f := strings.Fields(a)
		if len(f) != 3 || f[0] == "GET" {
			continue
		}
		unsafe++
		if f[2] == "403" {
			refused++
		} else {
			t.Errorf("Parley answered the attacker's %s with %s, want 403", f[0]+" "+f[1], f[2])
		}
	}
	// 10 fetches (4 of them preceded by a refused preflight, which the
	// browser then does not follow) and 6 forms reach Parley.
	if unsafe < 12 {
		t.Errorf("only %d state-changing requests of the attacker's page reached Parley: %q", unsafe, got)
	}
	t.Logf("%d state-changing requests from %s, all refused with 403: %v", unsafe, evil.URL, refused == unsafe)

	// Nothing changed, and both are still signed in.
	th, err := other.thread("demo", demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range th.Comments {
		if strings.Contains(c.HTML, "CSRF") {
			t.Errorf("the attacker's write is stored: %+v", c)
		}
		if c.ID == target.Comment.ID && c.Status != "approved" {
			t.Errorf("the target comment is %s", c.Status)
		}
	}
	if len(th.Comments) != 2 {
		t.Errorf("the thread has %d comments, want the 2 posted before the attack", len(th.Comments))
	}
	res, err = other.admin("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", target.Comment.ID), nil)
	if err != nil || res.Status != http.StatusOK || strings.Contains(string(res.Body), "reject") {
		t.Errorf("the target's audit trail: %v %d %s", err, res.Status, res.Body)
	}
	res, err = other.admin("GET", "/api/v1/admin/queue?site=demo&queue=reported", nil)
	if err != nil || res.Status != http.StatusOK || strings.Contains(string(res.Body), fmt.Sprintf(`"id":%d,`, target.Comment.ID)) {
		t.Errorf("the reported queue after the attack: %v %d %.300s; want the target absent", err, res.Status, res.Body)
	}
	b.open(demo)
	if got := awaitEval[string](b, "the reader after the attack", `fetch("/api/v1/me").then((r) => r.json()).then((r) => r.me ? r.me.id : "")`); got != reader {
		t.Errorf("the reader after the attack is %q, want still %q", got, reader)
	}
	if got := awaitEval[string](b, "the moderator after the attack", `fetch("/api/v1/admin/me").then((r) => r.json()).then((r) => r.user ? r.user.name : "")`); got != "Mo" {
		t.Errorf("the moderator after the attack is %q, want still signed in as Mo", got)
	}
	if got := awaitEval[float64](b, "the target's score", `fetch("/api/v1/threads?site=demo&url="+encodeURIComponent(location.href)).then((r) => r.json()).then((r) => r.comments.find((c) => c.id === `+fmt.Sprint(target.Comment.ID)+`).score)`); got != 0 {
		t.Errorf("the target's score is %v after the attack, want 0", got)
	}
	b.checkNoErrors()
	srv.checkAlive()
}

// awaitEval evaluates a JavaScript expression giving a promise, within
// 30 s, into its resolved value.
func awaitEval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	return v
}
