package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

const (
	adminToken = "test-admin-token-0123456789"
	siteOrigin = "https://news.example.com"
	articleURL = "https://news.example.com/2026/11/article?utm_source=x"
)

// env is a real Parley instance over a real SQLite file (or a store the
// test opened), started through server.Open as `parley serve` starts it.
// These tests are an external package because server imports httpapi.
type env struct {
	t   testing.TB
	srv *server.Server
	url string // where srv listens
	svc *service.Service
	db  store.Store // the store the test opened, for reading what the API wrote
	now time.Time
}

type envOpts struct {
	logger    *slog.Logger // the API's; slog.Default() when nil
	rateLimit bool
	flood     bool // keep the policy's per-minute flood rules (all test readers share one IP)

	trustProxy                  config.Proxies
	maxStreams, maxStreamsPerIP int
	demo                        bool   // serve --demo: the demo site and its /demo pages
	outboundAllow               string // hosts the server may fetch from (a JWKS on loopback)
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newEnvOn(t, db, o)
}

// newEnvOn is newEnv over db, which several envs may share: each is one
// Parley instance with its own service, caches and broker. The service's
// clock is e.now, which the test moves; the broker polls the log every
// 50 ms. The site "news" is created unless it exists.
func newEnvOn(t testing.TB, db store.Store, o envOpts) *env {
	t.Helper()
	e := &env{t: t, db: db, now: time.Now()}
	cfg := servertest.Config(t, "--no-model")
	cfg.AdminToken = adminToken
	cfg.BaseURL = "http://parley.test"
	cfg.SecretKey = hex.EncodeToString([]byte(strings.Repeat("s", 32)))
	cfg.RateLimit = o.rateLimit
	cfg.PostRate = config.Rate{N: 10, Per: time.Minute, Burst: 3}
	cfg.ActionRate = config.Rate{N: 60, Per: time.Minute, Burst: 20}
	cfg.TrustProxy = o.trustProxy
	if o.maxStreams > 0 {
		cfg.MaxStreams = o.maxStreams
	}
	if o.maxStreamsPerIP > 0 {
		cfg.MaxStreamsPerIP = o.maxStreamsPerIP
	}
	// The demo site and its /demo pages, without the seeded discussion.
	cfg.Demo, cfg.DemoData = o.demo, false
	if o.outboundAllow != "" {
		if err := cfg.OutboundAllow.Set(o.outboundAllow); err != nil {
			t.Fatal(err)
		}
	}
	e.srv = servertest.Start(t, cfg, server.Options{
		Store:      db,
		Now:        func() time.Time { return e.now },
		BrokerPoll: 50 * time.Millisecond,
		Logger:     o.logger,
	})
	e.url, e.svc = e.srv.URL(), e.srv.Service()
	e.svc.NoFlood = !o.flood // set before the first request
	err := e.svc.CreateSite(context.Background(), &parley.Site{ID: "news", Name: "News", Origins: []string{siteOrigin}, PolicyURL: "https://news.example.com/policy"})
	if err != nil && parley.ErrorCode(err) != parley.EConflict {
		t.Fatal(err)
	}
	return e
}

// reader is a browser: it keeps its cookies.
type reader struct {
	e      *env
	client *http.Client
	name   string
}

func (e *env) reader(name string) *reader {
	jar, _ := cookiejar.New(nil)
	return &reader{e: e, client: &http.Client{Jar: jar}, name: name}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (r *reader) do(method, path string, body any, hdr ...string) resp {
	r.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, r.e.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := r.client.Do(req)
	if err != nil {
		r.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (r *reader) post(text string, extra map[string]any) resp {
	body := map[string]any{"site": "news", "url": articleURL, "title": "Article", "text": text, "name": r.name}
	for k, v := range extra {
		body[k] = v
	}
	return r.do("POST", "/api/v1/comments", body)
}

func (r *reader) thread(query string) map[string]any {
	r.e.t.Helper()
	res := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL)+query, nil)
	if res.status != 200 {
		r.e.t.Fatalf("thread: %d %s", res.status, res.body)
	}
	return res.json(r.e.t)
}

func escape(s string) string {
	return strings.NewReplacer("?", "%3F", "&", "%26", "=", "%3D").Replace(s)
}

func commentsOf(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range m["comments"].([]any) {
		out = append(out, c.(map[string]any))
	}
	return out
}

func errCode(t testing.TB, r resp) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without message: %s", r.body)
	}
	return e["code"].(string)
}

func TestPostReadReplyQuote(t *testing.T) {
	e := newEnv(t, envOpts{})
	ann, bob := e.reader("Ann"), e.reader("Bob")

	res := ann.post("Hello **world**, see https://example.org", nil)
	if res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	if c := res.header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("session cookie %q: want HttpOnly, SameSite=Lax on http", c)
	}
	first := res.json(t)
	c1 := first["comment"].(map[string]any)
	if first["status"] != "approved" || c1["number"].(float64) != 1 {
		t.Fatalf("first comment: %s", res.body)
	}
	if reasons := first["reasons"].([]any); len(reasons) != 0 {
		t.Errorf("approved comment has reasons %v", reasons)
	}
	id1 := int64(c1["id"].(float64))

	res = bob.post("I disagree with you, Ann.", map[string]any{"parent": id1, "quote": id1})
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	c2 := res.json(t)["comment"].(map[string]any)
	if c2["number"].(float64) != 2 || c2["parent"].(float64) != float64(id1) {
		t.Fatalf("reply: %s", res.body)
	}
	if q := c2["quote"].(map[string]any); q["removed"] == true || q["number"].(float64) != 1 {
		t.Fatalf("reply's quote in the POST response: %v", q)
	}

	th := e.reader("").thread("")
	page := th["page"].(map[string]any)
	if page["count"].(float64) != 2 || page["title"] != "Article" || page["policy_url"] != "https://news.example.com/policy" {
		t.Errorf("page = %v", page)
	}
	if page["url"] != "https://news.example.com/2026/11/article" {
		t.Errorf("canonical url = %v", page["url"])
	}
	cs := commentsOf(th)
	if len(cs) != 2 {
		t.Fatalf("thread has %d comments, want 2", len(cs))
	}
	if !strings.Contains(cs[0]["html"].(string), "<strong>world</strong>") ||
		!strings.Contains(cs[0]["html"].(string), `rel="nofollow ugc noopener"`) {
		t.Errorf("html = %v", cs[0]["html"])
	}
	if cs[0]["replies"].(float64) != 1 {
		t.Errorf("replies = %v, want 1", cs[0]["replies"])
	}
	q := cs[1]["quote"].(map[string]any)
	if q["number"].(float64) != 1 || !strings.Contains(q["html"].(string), "world") {
		t.Errorf("quote = %v", q)
	}
	if a := cs[0]["author"].(map[string]any); a["name"] != "Ann" {
		t.Errorf("author = %v", a)
	}
	for _, k := range []string{"email", "ip", "ip_hash", "text"} {
		if bytes.Contains(res.body, []byte(`"`+k+`"`)) {
			t.Errorf("public response leaks %q: %s", k, res.body)
		}
	}

	// Report, vote and counts.
	carol := e.reader("Carol")
	for i := 0; i < 2; i++ {
		if res := carol.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", id1), map[string]any{"reason": "abuse", "note": "rude"}); res.status != 202 {
			t.Fatalf("report: %d %s", res.status, res.body)
		}
	}
	if res := carol.do("POST", fmt.Sprintf("/api/v1/comments/%d/vote", id1), map[string]any{"value": 1}); res.status != 200 || res.json(t)["score"].(float64) != 1 {
		t.Fatalf("vote: %d %s", res.status, res.body)
	}
	if res := ann.do("POST", fmt.Sprintf("/api/v1/comments/%d/vote", id1), map[string]any{"value": 1}); res.status != 403 {
		t.Errorf("self-vote: %d, want 403", res.status)
	}
	me := carol.do("GET", "/api/v1/me?site=news&url="+escape(articleURL), nil).json(t)["me"].(map[string]any)
	if me["votes"].(map[string]any)[fmt.Sprint(id1)].(float64) != 1 {
		t.Errorf("me = %v", me)
	}
	counts := carol.do("GET", "/api/v1/counts?site=news&url="+escape(articleURL)+"&url=https%3A%2F%2Fnews.example.com%2Fnone", nil).json(t)["counts"].(map[string]any)
	if counts[articleURL].(float64) != 2 || counts["https://news.example.com/none"].(float64) != 0 {
		t.Errorf("counts = %v", counts)
	}

	// The moderator sees the report once and rejects the comment.
	admin := e.reader("")
	queue := admin.do("GET", "/api/v1/admin/queue?site=news&status=reported", nil, "Authorization", "Bearer "+adminToken)
	if queue.status != 200 {
		t.Fatalf("queue: %d %s", queue.status, queue.body)
	}
	items := queue.json(t)["comments"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["reporters"].(float64) != 1 {
		t.Fatalf("reported queue = %s", queue.body)
	}
	dec := admin.do("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id1), map[string]any{"action": "reject", "note": "abusive"}, "Authorization", "Bearer "+adminToken)
	if dec.status != 200 {
		t.Fatalf("decision: %d %s", dec.status, dec.body)
	}

	th = e.reader("").thread("")
	cs = commentsOf(th)
	if th["page"].(map[string]any)["count"].(float64) != 1 || len(cs) != 2 {
		t.Fatalf("after reject: %v", th)
	}
	if cs[0]["status"] != "deleted" || cs[0]["html"] != "" || cs[0]["author"] != nil {
		t.Errorf("rejected parent should be a bare placeholder: %v", cs[0])
	}
	q = cs[1]["quote"].(map[string]any)
	if q["removed"] != true || q["html"] != nil || q["number"].(float64) != 1 {
		t.Errorf("quote of rejected comment = %v", q)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	ok := map[string]any{"site": "news", "url": articleURL, "text": "fine", "name": "Ann"}
	big := strings.Repeat("a", 70<<10)
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		ctype    string
		status   int
		code     string
		contains string
	}{
		{"not json", "POST", "/api/v1/comments", "{nope", "", 400, "invalid", "malformed"},
		{"wrong type", "POST", "/api/v1/comments", `{"site":"news","url":"` + articleURL + `","text":"x","parent":"abc"}`, "", 400, "invalid", "parent"},
		{"unknown field", "POST", "/api/v1/comments", `{"site":"news","url":"` + articleURL + `","text":"x","admin":true}`, "", 400, "invalid", "admin"},
		{"array body", "POST", "/api/v1/comments", `[1,2]`, "", 400, "invalid", "object"},
		{"two objects", "POST", "/api/v1/comments", `{"site":"news"} {"x":1}`, "", 400, "invalid", "one JSON object"},
		{"invalid utf8", "POST", "/api/v1/comments", []byte("{\"site\":\"news\",\"url\":\"" + articleURL + "\",\"text\":\"\xff\xfe\",\"name\":\"A\"}"), "", 400, "invalid", "UTF-8"},
		{"too large", "POST", "/api/v1/comments", `{"site":"news","url":"` + articleURL + `","name":"A","text":"` + big + `"}`, "", 413, "too_large", "bytes"},
		{"text plain", "POST", "/api/v1/comments", ok, "text/plain", 415, "unsupported_media_type", "application/json"},
		{"form", "POST", "/api/v1/comments", "text=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"},
		{"unknown site", "POST", "/api/v1/comments", map[string]any{"site": "nope", "url": articleURL, "text": "x", "name": "A"}, "", 404, "not_found", ""},
		{"empty text", "POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": " \u200b\n", "name": "A"}, "", 400, "invalid", "empty"},
		{"missing name", "POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "hi"}, "", 400, "invalid", "name"},
		{"javascript url", "POST", "/api/v1/comments", map[string]any{"site": "news", "url": "javascript:alert(1)", "text": "hi", "name": "A"}, "", 400, "invalid", ""},
		{"parent elsewhere", "POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "hi", "name": "A", "parent": 999}, "", 400, "invalid", "parent"},
		{"bad report reason", "POST", "/api/v1/comments/1/report", map[string]any{"reason": "meh"}, "", 400, "invalid", "reason"},
		{"bad vote", "POST", "/api/v1/comments/1/vote", map[string]any{"value": 2}, "", 400, "invalid", "value"},
		{"vote as string", "POST", "/api/v1/comments/1/vote", `{"value":"1"}`, "", 400, "invalid", "value"},
		{"bad id", "POST", "/api/v1/comments/abc/vote", map[string]any{"value": 1}, "", 400, "invalid", "abc"},
		{"missing comment", "POST", "/api/v1/comments/424242/vote", map[string]any{"value": 1}, "", 404, "not_found", ""},
		{"thread without url", "GET", "/api/v1/threads?site=news", nil, "", 400, "invalid", "url"},
		{"thread bad limit", "GET", "/api/v1/threads?site=news&url=https://a.example/x&limit=5000", nil, "", 400, "invalid", "limit"},
		{"thread bad sort", "GET", "/api/v1/threads?site=news&url=https://a.example/x&sort=random", nil, "", 400, "invalid", "sort"},
		{"thread bad cursor", "GET", "/api/v1/threads?site=news&url=https://a.example/x&cursor=zzz", nil, "", 400, "invalid", "cursor"},
		{"no endpoint", "GET", "/api/v1/nope", nil, "", 404, "not_found", ""},
		{"admin without token", "GET", "/api/v1/admin/queue?site=news", nil, "", 401, "unauthorized", ""},
	}
	// Comment 1 exists for the report and vote cases.
	if res := r.post("first", nil); res.status != 201 {
		t.Fatal(string(res.body))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.ctype != "" {
				hdr = []string{"Content-Type", tt.ctype}
			}
			res := e.reader("X").do(tt.method, tt.path, tt.body, hdr...)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			if got := errCode(t, res); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			if !strings.Contains(strings.ToLower(string(res.body)), strings.ToLower(tt.contains)) {
				t.Errorf("body %s does not mention %q", res.body, tt.contains)
			}
		})
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	for i := 0; i < 23; i++ {
		res := r.post(fmt.Sprintf("top %d", i), nil)
		if res.status != 201 {
			t.Fatal(string(res.body))
		}
		if i%3 == 0 {
			id := res.json(t)["comment"].(map[string]any)["id"]
			e.reader("Bob").post(fmt.Sprintf("reply to %d", i), map[string]any{"parent": id})
		}
	}
	for _, sort := range []string{"oldest", "newest", "top"} {
		before := map[float64]bool{}
		for _, c := range commentsOf(r.thread("&limit=1000")) {
			before[c["id"].(float64)] = true
		}
		seen := map[float64]bool{}
		cursor, pages := "", 0
		for {
			th := r.thread("&sort=" + sort + "&limit=5&cursor=" + cursor)
			for _, c := range commentsOf(th) {
				id := c["id"].(float64)
				if seen[id] {
					t.Fatalf("%s: comment %v repeated", sort, id)
				}
				seen[id] = true
			}
			pages++
			cursor = th["cursor"].(string)
			if cursor == "" {
				break
			}
			// A comment arriving meanwhile must not shift the pages.
			e.reader("Late").post("late "+sort+fmt.Sprint(pages), nil)
		}
		for id := range before {
			if !seen[id] {
				t.Errorf("%s: comment %v was lost while paging", sort, id)
			}
		}
		if pages < 5 || len(before) < 31 {
			t.Errorf("%s: %d pages over %d comments; want at least 5 pages over 31", sort, pages, len(before))
		}
	}
}

func TestConditionalAndGzip(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	r.post("hello", nil)
	req, _ := http.NewRequest("GET", e.url+"/api/v1/threads?site=news&url="+escape(articleURL), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", res.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Contains(plain, []byte("hello")) {
		t.Fatalf("gzipped body: %s", plain)
	}
	// A shared cache must keep apart what differs by encoding and by
	// origin (the CORS headers), with or without an Origin header.
	if vary := strings.Join(res.Header.Values("Vary"), ","); !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Accept-Encoding") {
		t.Fatalf("Vary = %q, want Origin and Accept-Encoding", vary)
	}
	withOrigin := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "Origin", siteOrigin)
	if vary := strings.Join(withOrigin.header.Values("Vary"), ","); withOrigin.header.Get("Access-Control-Allow-Origin") != siteOrigin ||
		!strings.Contains(vary, "Origin") || !strings.Contains(vary, "Accept-Encoding") {
		t.Fatalf("with Origin: ACAO %q, Vary %q", withOrigin.header.Get("Access-Control-Allow-Origin"), vary)
	}
	etag := res.Header.Get("ETag")
	lm := res.Header.Get("Last-Modified")
	if lm == "" || res.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(res.Header.Get("CDN-Cache-Control"), "max-age") {
		t.Fatalf("want Last-Modified and CDN-friendly Cache-Control: %v", res.Header)
	}
	later := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
	if ims := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "If-Modified-Since", later); ims.status != 304 {
		t.Fatalf("If-Modified-Since after Last-Modified %s: %d, want 304", lm, ims.status)
	}
	if ims := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "If-Modified-Since", lm); ims.status != 200 {
		t.Fatalf("If-Modified-Since within the second the response was built must not be trusted: %d", ims.status)
	}
	again := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "If-None-Match", etag)
	if again.status != 304 {
		t.Fatalf("If-None-Match: %d, want 304", again.status)
	}
	r.post("second", nil)
	after := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "If-None-Match", etag)
	if after.status != 200 || !bytes.Contains(after.body, []byte("second")) {
		t.Fatalf("after a write the cached page must change: %d %s", after.status, after.body)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: true})
	r := e.reader("Ann")
	var last resp
	for i := 0; i < 4; i++ {
		last = r.post(fmt.Sprintf("comment %d", i), nil)
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("4th post in a burst of 3: %d %v %s", last.status, last.header, last.body)
	}
	if errCode(t, last) != "rate_limited" {
		t.Fatal("want rate_limited")
	}
}

func TestCORSAndCSRF(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	pre := r.do("OPTIONS", "/api/v1/comments", nil, "Origin", siteOrigin, "Access-Control-Request-Method", "POST")
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != siteOrigin || pre.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the site: %d %v", pre.status, pre.header)
	}
	evil := r.do("OPTIONS", "/api/v1/comments", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if evil.status != 403 || evil.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from elsewhere: %d %v", evil.status, evil.header)
	}
	post := r.do("POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "hi", "name": "A"}, "Origin", "https://evil.example")
	if post.status != 403 {
		t.Fatalf("cross-site POST: %d, want 403", post.status)
	}
	get := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "Origin", "https://evil.example")
	if get.status != 200 || get.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET from elsewhere is readable by nobody's script: %d %v", get.status, get.header)
	}
}

func TestClosedPageAndBan(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	r := e.reader("Ann")
	res := r.post("first", nil)
	if res.status != 201 {
		t.Fatal(string(res.body))
	}
	st := e.db
	page, err := st.Page(ctx, "news", "https://news.example.com/2026/11/article")
	if err != nil {
		t.Fatal(err)
	}
	authorID := res.json(t)["comment"].(map[string]any)["author"].(map[string]any)["id"].(string)
	u, _ := st.User(ctx, authorID)
	u.BannedUntil = e.now.Add(24 * time.Hour)
	st.UpdateUser(ctx, u)
	if res := r.post("again", nil); res.status != 403 || !strings.Contains(string(res.body), "suspended") {
		t.Errorf("suspended reader: %d %s", res.status, res.body)
	}
	page.Closed = true
	st.UpdatePage(ctx, page)
	if res := e.reader("Bob").post("late", nil); res.status != 403 || !strings.Contains(string(res.body), "closed") {
		t.Errorf("closed page: %d %s", res.status, res.body)
	}
}

func TestEditAndDelete(t *testing.T) {
	e := newEnv(t, envOpts{})
	ann, bob := e.reader("Ann"), e.reader("Bob")
	id := int64(ann.post("tpyo", nil).json(t)["comment"].(map[string]any)["id"].(float64))
	bob.post("reply", map[string]any{"parent": id})
	path := fmt.Sprintf("/api/v1/comments/%d", id)
	if res := bob.do("PATCH", path, map[string]any{"text": "hijack"}); res.status != 403 {
		t.Errorf("edit by another reader: %d", res.status)
	}
	res := ann.do("PATCH", path, map[string]any{"text": "typo *fixed*"})
	if res.status != 200 || !strings.Contains(string(res.body), "<em>fixed</em>") || res.json(t)["comment"].(map[string]any)["edited"] == nil {
		t.Fatalf("edit: %d %s", res.status, res.body)
	}
	e.now = e.now.Add(11 * time.Minute)
	if res := ann.do("PATCH", path, map[string]any{"text": "too late"}); res.status != 403 {
		t.Errorf("edit after the window: %d", res.status)
	}
	if res := bob.do("DELETE", path, nil); res.status != 403 {
		t.Errorf("delete by another reader: %d", res.status)
	}
	if res := ann.do("DELETE", path, nil); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	cs := commentsOf(e.reader("").thread(""))
	if len(cs) != 2 || cs[0]["status"] != "deleted" || cs[0]["html"] != "" || cs[1]["html"] == "" {
		t.Errorf("deleted comment with a reply should stay as a placeholder: %v", cs)
	}
}

func TestPolicyAndPendingVisibility(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	auth := []string{"Authorization", "Bearer " + adminToken}
	got := admin.do("GET", "/api/v1/admin/sites/news/policy", nil, auth...)
	if got.status != 200 || got.json(t)["mode"] != "post" {
		t.Fatalf("default policy: %d %s", got.status, got.body)
	}
	bad := admin.do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "sometimes"}, auth...)
	if bad.status != 400 {
		t.Fatalf("invalid mode: %d %s", bad.status, bad.body)
	}
	put := admin.do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "pre_all", "banned_words": []string{"idiot"}}, auth...)
	if put.status != 200 {
		t.Fatalf("patch policy: %d %s", put.status, put.body)
	}
	if p := admin.do("GET", "/api/v1/admin/sites/news/policy", nil, auth...).json(t); p["mode"] != "pre_all" || p["max_length"].(float64) == 0 {
		t.Fatalf("stored policy %v: want pre_all with defaults for the rest", p)
	}

	ann := e.reader("Ann")
	res := ann.post("A thoughtful comment.", nil)
	body := res.json(t)
	if res.status != 201 || body["status"] != "pending" || !strings.Contains(body["message"].(string), "review") {
		t.Fatalf("pre_all post: %d %s", res.status, res.body)
	}
	rej := ann.post("You absolute 1d10t.", nil)
	rb := rej.json(t)
	if rej.status != 201 || rb["status"] != "rejected" {
		t.Fatalf("banned word: %d %s", rej.status, rej.body)
	}
	// The author is told the policy point, never the evidence: which
	// words tripped the list would teach them what to disguise.
	reason := rb["reasons"].([]any)[0].(map[string]any)
	if reason["rule"] != "banned_word" || reason["point"] != "words" || reason["spans"] != nil || reason["message"] != nil {
		t.Fatalf("reasons for the author: %v, want the rule and its point only", rb["reasons"])
	}
	if strings.Contains(string(rej.body), "idiot") {
		t.Errorf("the author's answer names the banned word: %s", rej.body)
	}
	pc := ann.do("POST", "/api/v1/comments/precheck", map[string]any{"site": "news", "url": articleURL, "text": "You absolute 1d10t."})
	if pc.status != 200 || strings.Contains(string(pc.body), "idiot") || strings.Contains(string(pc.body), "spans") || !strings.Contains(string(pc.body), `"point":"words"`) {
		t.Errorf("precheck for the author: %d %s, want the point without the evidence", pc.status, pc.body)
	}

	mine := commentsOf(ann.thread(""))
	if len(mine) != 1 || mine[0]["status"] != "pending" {
		t.Fatalf("author should see their pending comment: %v", mine)
	}
	if others := commentsOf(e.reader("Bob").thread("")); len(others) != 0 {
		t.Fatalf("others must not see pending comments: %v", others)
	}
	if anon := commentsOf(e.reader("").thread("")); len(anon) != 0 {
		t.Fatalf("anonymous readers must not see pending comments: %v", anon)
	}
	pre := ann.do("POST", "/api/v1/comments/precheck", map[string]any{"site": "news", "url": articleURL, "text": "what an idiot"})
	if pre.status != 200 || pre.json(t)["status"] != "rejected" {
		t.Fatalf("precheck: %d %s", pre.status, pre.body)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	r.post("hello", nil)
	r.thread("")
	r.thread("")
	if res := r.do("GET", "/healthz", nil); res.status != 200 {
		t.Fatalf("healthz: %d", res.status)
	}
	m := r.do("GET", "/metrics", nil)
	if m.status != 200 {
		t.Fatalf("metrics: %d", m.status)
	}
	for _, want := range []string{
		`parley_http_requests_total{code="201",method="POST",route="POST /api/v1/comments"} 1`,
		`parley_thread_cache_total{result="hit"} 1`,
		`parley_open_streams 0`,
		`parley_queue_size{queue="approved",site="news"}`,
		`parley_http_request_duration_seconds_bucket{route="GET /api/v1/threads"`,
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(m.body), "route=\"/api/v1/comments/1") {
		t.Error("metrics must be labelled by route pattern, not path")
	}
}

// TestSiteClosedByPolicy closes every page of a site with its policy's
// "closed" setting: posts (and prechecks) are refused on pages with and
// without comments, the cached thread says so at once, and reopening
// takes effect as quickly.
func TestSiteClosedByPolicy(t *testing.T) {
	e := newEnv(t, envOpts{})
	r := e.reader("Ann")
	if res := r.post("before closing", nil); res.status != 201 {
		t.Fatal(string(res.body))
	}
	threadQuery := "site=news&url=" + escape(articleURL)
	if closed := r.thread(threadQuery)["page"].(map[string]any)["closed"]; closed != false {
		t.Fatalf("open site: page.closed = %v", closed)
	}
	admin := []string{"Authorization", "Bearer " + adminToken}
	setClosed := func(closed bool) {
		t.Helper()
		get := r.do("GET", "/api/v1/admin/sites/news/policy", nil, admin...)
		if get.status != 200 {
			t.Fatalf("GET policy: %d %s", get.status, get.body)
		}
		p := get.json(t)
		p["closed"] = closed
		if put := r.do("PUT", "/api/v1/admin/sites/news/policy", p, admin...); put.status != 200 {
			t.Fatalf("PUT policy: %d %s", put.status, put.body)
		}
	}
	setClosed(true)
	if closed := r.thread(threadQuery)["page"].(map[string]any)["closed"]; closed != true {
		t.Errorf("closed site: cached thread still says page.closed = %v", closed)
	}
	other := "https://news.example.com/2026/11/never-commented"
	for _, u := range []string{articleURL, other} {
		body := map[string]any{"site": "news", "url": u, "title": "T", "text": "after closing", "name": "Bob"}
		if res := e.reader("Bob").do("POST", "/api/v1/comments", body); res.status != 403 || !strings.Contains(string(res.body), "closed") {
			t.Errorf("post on %s of a closed site: %d %s", u, res.status, res.body)
		}
		if res := e.reader("Bob").do("POST", "/api/v1/comments/precheck", body); res.status != 403 {
			t.Errorf("precheck on %s of a closed site: %d %s", u, res.status, res.body)
		}
	}
	if closed := r.thread("site=news&url=" + escape(other))["page"].(map[string]any)["closed"]; closed != true {
		t.Errorf("closed site, page without comments: page.closed = %v", closed)
	}
	setClosed(false)
	if res := r.post("after reopening", nil); res.status != 201 {
		t.Errorf("reopened site: %d %s", res.status, res.body)
	}
	if closed := r.thread(threadQuery)["page"].(map[string]any)["closed"]; closed != false {
		t.Errorf("reopened site: page.closed = %v", closed)
	}
}
