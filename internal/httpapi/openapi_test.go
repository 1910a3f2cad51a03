package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// routeTableOf returns the patterns an API server registers.
func routeTableOf(t *testing.T) []string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sessions, err := auth.NewSessions([]byte(strings.Repeat("k", 32)), false)
	if err != nil {
		t.Fatal(err)
	}
	s := httpapi.New(service.New(db, render.New()), sessions, httpapi.Options{AdminToken: adminToken, BaseURL: "http://parley.test"})
	t.Cleanup(s.Close)
	s.Handler()
	return s.Routes()
}

// documented turns a mux pattern into the OpenAPI path and method it is
// described under: "GET /{$}" is "/", get; a subtree pattern is described
// by its prefix.
func documented(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return strings.ToLower(method), strings.TrimSuffix(path, "{$}")
}

// loadOpenAPI parses and validates the embedded document as OpenAPI 3.1.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPI())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if doc.OpenAPIMajorMinor() != "3.1" {
		t.Fatalf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}
	return doc
}

// TestOpenAPIDescribesEveryRoute checks the description against the route
// table read from the mux registrations: every route is described and
// every described operation is routed. The one pattern without a method,
// "/api/", is the JSON 404 for anything else under /api/.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := routeTableOf(t)
	if len(routes) < 50 {
		t.Fatalf("only %d routes recorded: %v", len(routes), routes)
	}
	routed := map[string]bool{}
	for _, p := range routes {
		if p == "/api/" {
			continue
		}
		m, path := documented(p)
		if m == "" || path == "" {
			t.Errorf("pattern %q has no method: describe it or give it one", p)
			continue
		}
		routed[m+" "+path] = true
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(strings.ToUpper(m)) == nil {
			t.Errorf("route %q is not described in openapi.json (paths[%q].%s)", p, path, m)
		}
	}
	var described []string
	for path, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			described = append(described, strings.ToLower(m)+" "+path)
		}
	}
	sort.Strings(described)
	for _, d := range described {
		if !routed[d] {
			t.Errorf("openapi.json describes %q, which no route serves", d)
		}
	}
}

// TestOpenAPIExamplesValidate checks every example of a request or
// response body against its schema, with the JSON Schema 2020-12 validator
// that OpenAPI 3.1 calls for, and that every operation has a summary, an
// operationId and, for each JSON response, a schema and an example.
func TestOpenAPIExamplesValidate(t *testing.T) {
	doc := loadOpenAPI(t)
	checked := 0
	check := func(where string, mt *openapi3.MediaType) {
		if mt.Schema == nil {
			t.Errorf("%s: no schema", where)
			return
		}
		if mt.Example == nil {
			t.Errorf("%s: no example", where)
			return
		}
		checked++
		if err := doc.ValidateSchemaJSON(mt.Schema.Value, mt.Example, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: the example does not validate against the schema: %v", where, err)
		}
	}
	for path, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			where := m + " " + path
			if op.Summary == "" || op.OperationID == "" || len(op.Tags) == 0 {
				t.Errorf("%s: needs a summary, an operationId and a tag", where)
			}
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					check(where+" request "+ct, mt)
				}
			}
			for code, r := range op.Responses.Map() {
				for ct, mt := range r.Value.Content {
					check(where+" "+code+" "+ct, mt)
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d examples checked", checked)
	}

	// The check can fail: a wrong example is refused.
	bad := map[string]any{"comment": map[string]any{"id": "seven"}, "status": "approved", "reasons": []any{}}
	if err := doc.ValidateSchemaJSON(doc.Components.Schemas["Posted"].Value, bad, openapi3.EnableJSONSchema2020()); err == nil {
		t.Errorf("a Posted whose comment id is a string validated")
	}
}

// TestOpenAPIServed checks /api/v1/openapi.json and the page at /api/docs,
// which lists every operation and loads nothing from elsewhere.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, envOpts{})
	res, err := http.Get(e.url + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc map[string]any
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /api/v1/openapi.json: %d %s %.100s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, err = http.Get(e.url + "/api/docs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/docs: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	html := string(page)
	for _, want := range []string{"<h3 id=\"post-api-v1-comments\"", "POST</span> /api/v1/admin/sites/{site}/webhooks", "Parley-Signature", "<code>Thread</code>"} {
		if !strings.Contains(html, want) {
			t.Errorf("/api/docs lacks %q", want)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "src=\"http") || strings.Contains(html, "href=\"http") {
		t.Errorf("/api/docs loads a script or something from elsewhere")
	}
}

// TestOpenAPIMatchesAnswers sends real requests, one or more for most JSON
// operations, and validates each answer against the schema the description
// gives for its operation and status: the description says what the
// server does, not only what its own examples say.
func TestOpenAPIMatchesAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newEnv(t, envOpts{})
	alice, bob, admin := e.reader("Alice"), e.reader("Bob"), e.reader("Admin")
	posted := alice.post("A comment to describe.", nil)
	if posted.status != 201 {
		t.Fatalf("post: %d %s", posted.status, posted.body)
	}
	id := int64(posted.json(t)["comment"].(map[string]any)["id"].(float64))
	bob.post("A reply.", map[string]any{"parent": id})
	ids := func(s string) string { return strings.ReplaceAll(s, "ID", strconv.FormatInt(id, 10)) }
	users := alice.do("GET", "/api/v1/me", nil).json(t)
	author := users["me"].(map[string]any)["id"].(string)
	carol, dave := e.reader("Carol"), e.reader("Dave") // erased below, by themselves and by an admin
	carol.post("Soon gone.", nil)
	dave.post("Soon gone too.", nil)
	daveID := dave.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)["id"].(string)
	key := []string{"Idempotency-Key", "3f2c9a7e-openapi-key-0001"}
	u := escape(articleURL)

	tests := []struct {
		who          *reader
		method, tmpl string // tmpl: the documented path
		path         string
		body         any
		admin        bool
		hdr          []string
	}{
		{alice, "GET", "/api/v1/threads", "/api/v1/threads?site=news&url=" + u, nil, false, nil},
		{alice, "GET", "/api/v1/threads", "/api/v1/threads?site=nope&url=" + u, nil, false, nil},
		{alice, "GET", "/api/v1/counts", "/api/v1/counts?site=news&url=" + u, nil, false, nil},
		{alice, "GET", "/api/v1/me", "/api/v1/me?site=news&url=" + u, nil, false, nil},
		{e.reader("x"), "GET", "/api/v1/me", "/api/v1/me", nil, false, nil},
		{alice, "POST", "/api/v1/comments", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "", "name": "Alice"}, false, nil},
		{alice, "POST", "/api/v1/comments/precheck", "/api/v1/comments/precheck", map[string]any{"site": "news", "url": articleURL, "text": "Fine words.", "name": "Alice"}, false, nil},
		{bob, "POST", "/api/v1/comments/{id}/vote", ids("/api/v1/comments/ID/vote"), map[string]any{"value": 1}, false, nil},
		{bob, "POST", "/api/v1/comments/{id}/report", ids("/api/v1/comments/ID/report"), map[string]any{"reason": "spam"}, false, nil},
		{alice, "PATCH", "/api/v1/comments/{id}", ids("/api/v1/comments/ID"), map[string]any{"text": "Edited."}, false, nil},
		{admin, "GET", "/api/v1/admin/sites", "/api/v1/admin/sites", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites", "/api/v1/admin/sites", nil, false, nil},
		{admin, "GET", "/api/v1/admin/queue", "/api/v1/admin/queue?site=news&status=reported", nil, true, nil},
		{admin, "GET", "/api/v1/admin/counts", "/api/v1/admin/counts?site=news", nil, true, nil},
		{admin, "POST", "/api/v1/admin/comments/{id}/decision", ids("/api/v1/admin/comments/ID/decision"), map[string]any{"action": "approve"}, true, nil},
		{admin, "POST", "/api/v1/admin/comments/bulk", "/api/v1/admin/comments/bulk", map[string]any{"ids": []int64{id, 999999}, "action": "approve"}, true, nil},
		{admin, "GET", "/api/v1/admin/comments/{id}/audit", ids("/api/v1/admin/comments/ID/audit"), nil, true, nil},
		{admin, "GET", "/api/v1/admin/users/{id}", "/api/v1/admin/users/" + author + "?site=news", nil, true, nil},
		{admin, "POST", "/api/v1/admin/users/{id}/notes", "/api/v1/admin/users/" + author + "/notes", map[string]any{"site": "news", "text": "A note."}, true, nil},
		{admin, "POST", "/api/v1/admin/users/{id}/sanction", "/api/v1/admin/users/" + author + "/sanction", map[string]any{"site": "news", "action": "premoderate"}, true, nil},
		{admin, "POST", "/api/v1/admin/users/{id}/reject-pending", "/api/v1/admin/users/" + author + "/reject-pending", map[string]any{"site": "news"}, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/policy", "/api/v1/admin/sites/news/policy", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/pages", "/api/v1/admin/sites/news/pages", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/pages/policy", "/api/v1/admin/sites/news/pages/policy?url=" + u, nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/sso", "/api/v1/admin/sites/news/sso", nil, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/webhooks", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "https://hooks.example.com/x"}, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/webhooks", "/api/v1/admin/sites/news/webhooks", map[string]any{"url": "http://10.0.0.1/"}, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/webhooks", "/api/v1/admin/sites/news/webhooks", nil, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/webhooks/{id}/test", "/api/v1/admin/sites/news/webhooks/1/test", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/webhooks/{id}/deliveries", "/api/v1/admin/sites/news/webhooks/1/deliveries", nil, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/webhooks/{id}/deliveries/{delivery}/retry", "/api/v1/admin/sites/news/webhooks/1/deliveries/1/retry", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/audit", "/api/v1/admin/sites/news/audit", nil, true, nil},
		{admin, "GET", "/healthz", "/healthz", nil, false, nil},
		{alice, "POST", "/api/v1/comments", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "Once.", "name": "Alice"}, false, key},
		{alice, "POST", "/api/v1/comments", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "Once.", "name": "Alice"}, false, key},
		{alice, "POST", "/api/v1/comments", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "Twice?", "name": "Alice"}, false, key},
		{alice, "POST", "/api/v1/comments", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "text": "Short key.", "name": "Alice"}, false, []string{"Idempotency-Key", "abc"}},
		{bob, "POST", "/api/v1/comments/{id}/vote", ids("/api/v1/comments/ID/vote"), map[string]any{"value": -1}, false, []string{"Idempotency-Key", "3f2c9a7e-openapi-key-0002"}},

		// E-mail.
		{alice, "GET", "/api/v1/me/mail", "/api/v1/me/mail", nil, false, nil},
		{e.reader("y"), "GET", "/api/v1/me/mail", "/api/v1/me/mail", nil, false, nil},
		{alice, "PATCH", "/api/v1/me/mail", "/api/v1/me/mail", map[string]any{"replies": false}, false, nil},
		{alice, "PATCH", "/api/v1/me/mail", "/api/v1/me/mail", map[string]any{"email": "alice@example.com"}, false, nil},
		{e.reader("z"), "PATCH", "/api/v1/me/mail", "/api/v1/me/mail", map[string]any{"replies": false}, false, nil},
		{alice, "POST", "/api/v1/auth/email", "/api/v1/auth/email", map[string]any{"email": "alice@example.com", "site": "news"}, false, nil},
		{alice, "POST", "/api/v1/auth/email", "/api/v1/auth/email", "not json", false, nil},
		{admin, "GET", "/api/v1/admin/me/mail", "/api/v1/admin/me/mail", nil, true, nil},
		{admin, "PATCH", "/api/v1/admin/me/mail", "/api/v1/admin/me/mail", map[string]any{"digest": true}, true, nil},
		{admin, "GET", "/api/v1/admin/me/mail", "/api/v1/admin/me/mail", nil, false, nil},

		// OpenID Connect.
		{alice, "GET", "/api/v1/auth/oidc", "/api/v1/auth/oidc?site=news", nil, false, nil},
		{alice, "GET", "/api/v1/auth/oidc", "/api/v1/auth/oidc", nil, false, nil},
		{alice, "POST", "/api/v1/auth/oidc/ticket", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": "no-such-ticket"}, false, nil},
		{alice, "POST", "/api/v1/auth/oidc/ticket", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": ""}, false, nil},
		{alice, "GET", "/api/v1/auth/oidc/callback", "/api/v1/auth/oidc/callback?state=x&code=y", nil, false, nil},
		{admin, "GET", "/api/v1/admin/oidc", "/api/v1/admin/oidc", nil, false, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/oidc", "/api/v1/admin/sites/news/oidc", nil, true, nil},
		{admin, "PATCH", "/api/v1/admin/sites/{site}/oidc", "/api/v1/admin/sites/news/oidc", map[string]any{"issuer": "https://id.example.com", "client_id": "parley", "provider_name": "News ID"}, true, nil},
		{admin, "PATCH", "/api/v1/admin/sites/{site}/oidc", "/api/v1/admin/sites/news/oidc", map[string]any{"issuer": "id.example.com"}, true, nil},
		{admin, "GET", "/api/v1/auth/oidc", "/api/v1/auth/oidc?site=news", nil, false, nil},

		// A reader's data.
		{alice, "GET", "/api/v1/me/export", "/api/v1/me/export", nil, false, nil},
		{e.reader("w"), "GET", "/api/v1/me/export", "/api/v1/me/export", nil, false, nil},
		{admin, "GET", "/api/v1/admin/users/{id}/export", "/api/v1/admin/users/" + author + "/export", nil, true, nil},
		{admin, "GET", "/api/v1/admin/users/{id}/export", "/api/v1/admin/users/u_nope/export", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/erasure", "/api/v1/admin/sites/news/erasure", nil, true, nil},
		{admin, "PUT", "/api/v1/admin/sites/{site}/erasure", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "anonymise"}, true, nil},
		{admin, "PUT", "/api/v1/admin/sites/{site}/erasure", "/api/v1/admin/sites/news/erasure", map[string]any{"erasure": "shred"}, true, nil},
		{alice, "PATCH", "/api/v1/me", "/api/v1/me", map[string]any{"site": "news", "name": "Alice B."}, false, nil},
		{alice, "PATCH", "/api/v1/me", "/api/v1/me", map[string]any{"site": "news", "name": "Admin"}, false, nil},
		{e.reader("u"), "PATCH", "/api/v1/me", "/api/v1/me", map[string]any{"site": "news", "name": "Nobody"}, false, nil},
		{e.reader("u"), "DELETE", "/api/v1/me/sessions", "/api/v1/me/sessions", nil, false, nil},
		{alice, "GET", "/api/v1/avatar", "/api/v1/avatar?user=" + author, nil, false, nil},
		{carol, "DELETE", "/api/v1/me", "/api/v1/me", map[string]any{"confirm": "yes"}, false, nil},
		{carol, "DELETE", "/api/v1/me", "/api/v1/me", map[string]any{"confirm": "erase"}, false, nil},
		{e.reader("v"), "DELETE", "/api/v1/me", "/api/v1/me", map[string]any{"confirm": "erase"}, false, nil},
		{admin, "DELETE", "/api/v1/admin/users/{id}", "/api/v1/admin/users/" + daveID, nil, true, nil},
		{admin, "DELETE", "/api/v1/admin/users/{id}", "/api/v1/admin/users/u_nope", nil, true, nil},

		// Running a site.
		{admin, "GET", "/api/v1/admin/sites/{site}/settings", "/api/v1/admin/sites/news/settings", nil, true, nil},
		{admin, "PATCH", "/api/v1/admin/sites/{site}/settings", "/api/v1/admin/sites/news/settings", map[string]any{"name": "News"}, true, nil},
		{admin, "PATCH", "/api/v1/admin/sites/{site}/settings", "/api/v1/admin/sites/news/settings", map[string]any{"colour": "red"}, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/settings", "/api/v1/admin/sites/nope/settings", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/stats", "/api/v1/admin/sites/news/stats?days=7", nil, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/stats", "/api/v1/admin/sites/news/stats?days=0", nil, true, nil},
		{admin, "GET", "/api/v1/admin/search", "/api/v1/admin/search?site=news&text=comment", nil, true, nil},
		{admin, "GET", "/api/v1/admin/search", "/api/v1/admin/search?site=news", nil, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/moderators", "/api/v1/admin/sites/news/moderators", map[string]any{"name": "Mo", "email": "mo@example.com"}, true, nil},
		{admin, "POST", "/api/v1/admin/sites/{site}/moderators", "/api/v1/admin/sites/news/moderators", map[string]any{"name": "Mo", "email": "mo@example.com"}, true, nil},
		{admin, "GET", "/api/v1/admin/sites/{site}/moderators", "/api/v1/admin/sites/news/moderators", nil, true, nil},
		{admin, "PUT", "/api/v1/admin/moderators/{id}", "/api/v1/admin/moderators/" + author, map[string]any{"role": "moderator", "site": "news"}, true, nil},
		{admin, "PUT", "/api/v1/admin/moderators/{id}", "/api/v1/admin/moderators/" + author, map[string]any{"role": "boss"}, true, nil},
		{admin, "DELETE", "/api/v1/admin/moderators/{id}", "/api/v1/admin/moderators/u_nope", nil, true, nil},
	}
	replays := 0
	for _, tt := range tests {
		var hdr []string
		if tt.admin {
			hdr = []string{"Authorization", "Bearer " + adminToken}
		}
		hdr = append(hdr, tt.hdr...)
		res := tt.who.do(tt.method, tt.path, tt.body, hdr...)
		where := fmt.Sprintf("%s %s → %d", tt.method, tt.path, res.status)
		op := doc.Paths.Find(tt.tmpl).GetOperation(tt.method)
		r := op.Responses.Status(res.status)
		if r == nil {
			t.Errorf("%s: status %d is not described: %s", where, res.status, res.body)
			continue
		}
		if res.header.Get("Idempotent-Replayed") != "" {
			replays++
			if r.Value.Headers["Idempotent-Replayed"] == nil {
				t.Errorf("%s: answered with Idempotent-Replayed, which is not described", where)
			}
		}
		mt := r.Value.Content.Get("application/json")
		if mt == nil {
			if len(res.body) > 0 && res.status != 204 {
				t.Errorf("%s: a body where none is described: %.200s", where, res.body)
			}
			continue
		}
		var v any
		if err := json.Unmarshal(res.body, &v); err != nil {
			t.Errorf("%s: not JSON: %.200s", where, res.body)
			continue
		}
		if err := doc.ValidateSchemaJSON(mt.Schema.Value, v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: the answer does not match the described schema: %v\n%.500s", where, err, res.body)
		}
	}
	if replays == 0 {
		t.Errorf("no answer was an idempotent replay: the Idempotent-Replayed check checked nothing")
	}
}
