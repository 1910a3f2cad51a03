package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// canonicalArticle is articleURL as Parley keys its page.
const canonicalArticle = "https://news.example.com/2026/11/article"

func TestAdminPages(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if err := e.svc.CreateSite(ctx, &parley.Site{ID: "sport", Name: "Sport"}); err != nil {
		t.Fatal(err)
	}
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	e.addStaff(parley.RoleModerator, "sport", "sport@example.com")
	mod, foreign := e.signIn("mod@example.com"), e.signIn("sport@example.com")
	ann := e.reader("Ann")
	if res := ann.post("the first comment", nil); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}

	pages := "/api/v1/admin/sites/news/pages"
	policy := "/api/v1/admin/sites/news/pages/policy?url=" + url.QueryEscape(articleURL)
	for _, tc := range []struct {
		name   string
		who    *moderator
		method string
		path   string
		body   any
		csrf   bool
		status int
		want   []string
	}{
		{"list", mod, "GET", pages, nil, false, 200, []string{`"url":"` + canonicalArticle + `"`, `"title":"Article"`, `"count":1`, `"closed":false`, `"override":false`, `"activity":"`, `"cursor":""`}},
		{"search", mod, "GET", pages + "?q=ARTICLE", nil, false, 200, []string{canonicalArticle}},
		{"search without a match", mod, "GET", pages + "?q=budget", nil, false, 200, []string{`"pages":[]`}},
		{"bad limit", mod, "GET", pages + "?limit=0", nil, false, 400, []string{"limit must be a number between 1 and 200"}},
		{"bad cursor", mod, "GET", pages + "?cursor=xyz", nil, false, 400, []string{"cursor"}},
		{"list of another site", foreign, "GET", pages, nil, false, 403, []string{`You may not moderate site \"news\"`}},
		{"list of an unknown site", mod, "GET", "/api/v1/admin/sites/nope/pages", nil, false, 404, []string{"not_found"}},
		{"one page", mod, "GET", policy, nil, false, 200, []string{`"page":{"id":`, `"policy":{}`, `"site_policy":{"mode":"post"`, `"effective":{"mode":"post"`}},
		{"one page by id", mod, "GET", "/api/v1/admin/sites/news/pages/policy?id=1", nil, false, 200, []string{canonicalArticle}},
		{"unknown page", mod, "GET", "/api/v1/admin/sites/news/pages/policy?url=" + url.QueryEscape("https://news.example.com/never"), nil, false, 404, []string{"once someone has commented"}},
		{"unknown page by id", mod, "GET", "/api/v1/admin/sites/news/pages/policy?id=999", nil, false, 404, []string{"not_found"}},
		{"no url", mod, "GET", "/api/v1/admin/sites/news/pages/policy", nil, false, 400, []string{"url (or id) is required"}},
		{"bad id", mod, "GET", "/api/v1/admin/sites/news/pages/policy?id=x", nil, false, 400, []string{"id must be a page id"}},
		{"bad url", mod, "GET", "/api/v1/admin/sites/news/pages/policy?url=notaurl", nil, false, 400, []string{"invalid"}},
		{"page of another site", foreign, "GET", policy, nil, false, 403, []string{"forbidden"}},
		{"close without the CSRF token", mod, "PUT", policy, map[string]any{"closed": true}, false, 403, []string{"CSRF"}},
		{"close on another site", foreign, "PUT", policy, map[string]any{"closed": true}, true, 403, []string{"forbidden"}},
		{"override out of range", mod, "PUT", policy, map[string]any{"policy": map[string]any{"max_links": 5000}}, true, 400, []string{"max_links must be between -1 (no limit) and 1000, not 5000"}},
		{"override with an unknown setting", mod, "PUT", policy, map[string]any{"policy": map[string]any{"hold_all": true}}, true, 400, []string{`unknown field \"hold_all\"`}},
		{"override of the wrong type", mod, "PUT", policy, map[string]any{"policy": map[string]any{"mode": 3}}, true, 400, []string{`policy.mode`}},
		{"override that closes", mod, "PUT", policy, map[string]any{"policy": map[string]any{"closed": true}}, true, 400, []string{"closed is set beside the policy override"}},
		{"nothing to change", mod, "PUT", policy, map[string]any{"note": "why"}, true, 400, []string{`give \"closed\", \"policy\" or both`}},
		{"not JSON", mod, "PUT", policy, "closed", true, 400, []string{"malformed JSON"}},
		{"unknown page", mod, "PUT", "/api/v1/admin/sites/news/pages/policy?url=" + url.QueryEscape("https://news.example.com/never"), map[string]any{"closed": true}, true, 404, []string{"not_found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res resp
			if tc.csrf {
				res = tc.who.act(tc.method, tc.path, tc.body)
			} else {
				res = tc.who.do(tc.method, tc.path, tc.body)
			}
			if res.status != tc.status {
				t.Fatalf("got %d %s, want %d", res.status, res.body, tc.status)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(res.body), want) {
					t.Errorf("body %s lacks %s", res.body, want)
				}
			}
			if tc.status >= 400 {
				errCode(t, res) // a JSON error with a message
			}
		})
	}

	// A reader has the thread open (and cached) and a live stream on it.
	if th := ann.thread(""); th["page"].(map[string]any)["closed"] != false {
		t.Fatalf("thread before closing: %v", th["page"])
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := openStream(t, sctx, e, "")
	next(t, stream, 5*time.Second, "ready")

	// The moderator closes the page: the thread says so at once, the open
	// stream is told, and a new comment is refused.
	res := mod.act("PUT", policy, map[string]any{"closed": true, "note": "court case"})
	if res.status != 200 || !strings.Contains(string(res.body), `"closed":true`) {
		t.Fatalf("close: %d %s", res.status, res.body)
	}
	if th := ann.thread(""); th["page"].(map[string]any)["closed"] != true {
		t.Errorf("thread right after closing: page %v, want closed", th["page"])
	}
	next(t, stream, 5*time.Second, "page.updated")
	if res := e.reader("Bob").post("a late comment", nil); res.status != 403 || !strings.Contains(string(res.body), "closed") {
		t.Errorf("post on a closed page: %d %s, want 403", res.status, res.body)
	}
	res = e.reader("").do("GET", pages, nil, bearer...)
	if !strings.Contains(string(res.body), `"closed":true`) {
		t.Errorf("list after closing: %s", res.body)
	}

	// Reopened with an override that holds every comment: the next comment
	// waits for a moderator, and the page shows its override.
	res = mod.act("PUT", policy, map[string]any{"closed": false, "policy": map[string]any{"mode": "pre_all"}})
	if res.status != 200 || !strings.Contains(string(res.body), `"policy":{"mode":"pre_all"}`) || !strings.Contains(string(res.body), `"effective":{"mode":"pre_all"`) ||
		!strings.Contains(string(res.body), `"site_policy":{"mode":"post"`) || !strings.Contains(string(res.body), `"override":true`) {
		t.Fatalf("reopen with an override: %d %s", res.status, res.body)
	}
	res = e.reader("Cy").post("held for review", nil)
	if res.status != 201 || res.json(t)["status"] != "pending" {
		t.Errorf("post under pre_all: %d %s, want 201 pending", res.status, res.body)
	}

	// "policy":{} clears the override; "closed" left out stays as it is.
	res = mod.act("PUT", policy, map[string]any{"policy": map[string]any{}})
	if res.status != 200 || !strings.Contains(string(res.body), `"policy":{}`) || !strings.Contains(string(res.body), `"closed":false`) {
		t.Fatalf("clear the override: %d %s", res.status, res.body)
	}
	res = e.reader("Di").post("published again", nil)
	if res.status != 201 || res.json(t)["status"] != "approved" {
		t.Errorf("post after clearing: %d %s, want 201 approved", res.status, res.body)
	}

	// The changes are in the site's audit trail, by the moderator.
	acts, err := e.db.Actions(ctx, store.ActionQuery{SiteID: "news"})
	if err != nil || len(acts) != 3 {
		t.Fatalf("audit: %d entries, %v; want 3", len(acts), err)
	}
	if a := acts[2]; a.Action != "page" || a.ActorName != "Staff mod@example.com" || a.Note != "court case" || !strings.Contains(string(a.After), `"closed":true`) {
		t.Errorf("audit of the closing: %+v %s", a, a.After)
	}

	// Comments can be closed on an article before anyone comments on it.
	early := "/api/v1/admin/sites/news/pages/policy?url=" + url.QueryEscape("https://news.example.com/2026/11/embargo")
	if res := mod.act("PUT", early, map[string]any{"closed": true, "create": true}); res.status != 200 {
		t.Fatalf("close in advance: %d %s", res.status, res.body)
	}
	if res := e.reader("Ed").post("first!", map[string]any{"url": "https://news.example.com/2026/11/embargo"}); res.status != 403 {
		t.Errorf("first comment on a page closed in advance: %d %s, want 403", res.status, res.body)
	}
}
