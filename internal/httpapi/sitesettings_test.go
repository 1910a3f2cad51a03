package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// TestAdminRunsASite: an admin changes the site's name, policy URL and
// origins (merge semantics, audited, the new origin allowed at once), reads
// the embed snippet for this server, and invites, changes and removes a
// moderator; a moderator reads but may not change any of it.
func TestAdminRunsASite(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	e.addStaff(parley.RoleAdmin, "", "boss@example.com")
	boss, mod := e.signIn("boss@example.com"), e.signIn("mod@example.com")
	const settings = "/api/v1/admin/sites/news/settings"

	got := mod.do("GET", settings, nil)
	if got.status != 200 || !strings.Contains(string(got.body), `src=\"http://parley.test/embed.js\" data-site=\"news\"`) {
		t.Fatalf("moderator's GET: %d %s, want the snippet for the base URL", got.status, got.body)
	}
	for _, tc := range []struct {
		name   string
		who    *moderator
		body   any
		status int
		want   string
	}{
		{"a moderator may not", mod, map[string]any{"name": "Mine"}, 403, "Only an admin"},
		{"a bad origin", boss, map[string]any{"origins": []string{"news.example.org/path"}}, 400, "origin"},
		{"a bad policy URL", boss, map[string]any{"policy_url": "javascript:alert(1)"}, 400, "policy URL"},
		{"the name alone", boss, map[string]any{"name": "The News"}, 200, `"policy_url":"https://news.example.com/policy"`},
		{"an origin added", boss, map[string]any{"origins": []string{"https://news.example.com", "https://M.News.example.com/"}}, 200, `"origins":["https://news.example.com","https://m.news.example.com"]`},
	} {
		res := tc.who.act("PATCH", settings, tc.body)
		if res.status != tc.status || !strings.Contains(string(res.body), tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, res.status, res.body, tc.status, tc.want)
		}
	}
	// The new origin may embed the thread at once.
	r := e.reader("Ann")
	if res := r.do("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil, "Origin", "https://m.news.example.com"); res.status != 200 ||
		res.header.Get("Access-Control-Allow-Origin") != "https://m.news.example.com" {
		t.Errorf("thread from the new origin: %d, CORS %q", res.status, res.header.Get("Access-Control-Allow-Origin"))
	}
	entries, err := e.db.Actions(context.Background(), store.ActionQuery{SiteID: "news"})
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, a := range entries {
		if a.Action == "site" {
			audited = append(audited, string(a.After))
		}
	}
	if len(audited) != 2 || !strings.Contains(audited[1], `"name":"The News"`) || !strings.Contains(audited[0], "m.news.example.com") {
		t.Errorf("audit of the site's changes: %v", audited)
	}

	// Search by text, author (part of the name) and page, for moderators.
	postID(t, e.reader("Rita Reader"), "The night bus TIMETABLE is a scandal", nil)
	postID(t, e.reader("Sam"), "Lovely weather", nil)
	for _, tc := range []struct{ query, want, not string }{
		{"text=timetable", "night bus", "Lovely"},
		{"author=rita", "night bus", "Lovely"},
		{"text=weather&author=Sam", "Lovely", "night bus"},
	} {
		res := mod.do("GET", "/api/v1/admin/search?site=news&"+tc.query, nil)
		if res.status != 200 || !strings.Contains(string(res.body), tc.want) || strings.Contains(string(res.body), tc.not) {
			t.Errorf("search %s: %d %s", tc.query, res.status, res.body)
		}
	}
	if res := mod.do("GET", "/api/v1/admin/search?site=news", nil); res.status != 400 {
		t.Errorf("search for nothing: %d %s, want 400", res.status, res.body)
	}
	if res := mod.do("GET", "/api/v1/admin/search?site=sport&text=x", nil); res.status != 403 && res.status != 404 {
		t.Errorf("search of another site: %d %s", res.status, res.body)
	}

	// Statistics: a published comment rejected is an overturn.
	id, _ := postID(t, e.reader("Tom"), "One more comment", nil)
	if res := mod.act("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": "reject"}); res.status != 200 {
		t.Fatalf("reject: %d %s", res.status, res.body)
	}
	st := mod.do("GET", "/api/v1/admin/sites/news/stats?days=7", nil)
	if st.status != 200 {
		t.Fatalf("stats: %d %s", st.status, st.body)
	}
	sb := st.json(t)
	days := sb["days"].([]any)
	if len(days) != 1 || days[0].(map[string]any)["comments"] != 3.0 || days[0].(map[string]any)["decisions"] != 1.0 ||
		days[0].(map[string]any)["overturns"] != 1.0 || sb["overturn_rate"] != 1.0 || sb["pending"] != 0.0 {
		t.Errorf("stats: %s", st.body)
	}
	if res := mod.do("GET", "/api/v1/admin/sites/news/stats?days=0", nil); res.status != 400 {
		t.Errorf("stats of 0 days: %d", res.status)
	}

	// Moderators: invite, change, remove.
	const mods = "/api/v1/admin/sites/news/moderators"
	if res := mod.act("POST", mods, map[string]any{"name": "New Mod", "email": "new@example.com"}); res.status != 403 {
		t.Errorf("a moderator's invitation: %d %s", res.status, res.body)
	}
	inv := boss.act("POST", mods, map[string]any{"name": "New Mod", "email": "New@Example.com"})
	if inv.status != 201 {
		t.Fatalf("invite: %d %s", inv.status, inv.body)
	}
	body := inv.json(t)
	password, _ := body["password"].(string)
	newID := body["moderator"].(map[string]any)["id"].(string)
	if len(password) < 20 {
		t.Fatalf("one-time password %q", password)
	}
	if res := e.reader("").do("POST", "/api/v1/admin/login", map[string]any{"email": "new@example.com", "password": password}); res.status != 200 {
		t.Errorf("the invited moderator's sign-in: %d %s", res.status, res.body)
	}
	list := boss.do("GET", mods, nil)
	if !strings.Contains(string(list.body), "new@example.com") || !strings.Contains(string(list.body), "mod@example.com") {
		t.Errorf("moderators: %s", list.body)
	}
	if res := boss.act("PUT", "/api/v1/admin/moderators/"+newID, map[string]any{"role": "admin"}); res.status != 200 || !strings.Contains(string(res.body), `"role":"admin"`) {
		t.Errorf("make admin: %d %s", res.status, res.body)
	}
	if res := boss.act("DELETE", "/api/v1/admin/moderators/"+newID, nil); res.status != 200 || !strings.Contains(string(res.body), `"role":"reader"`) {
		t.Errorf("remove: %d %s", res.status, res.body)
	}
	if res := e.reader("").do("POST", "/api/v1/admin/login", map[string]any{"email": "new@example.com", "password": password}); res.status != 401 {
		t.Errorf("a removed moderator's sign-in: %d %s, want 401", res.status, res.body)
	}
	entries, _ = e.db.Actions(context.Background(), store.ActionQuery{UserID: newID})
	var acts []string
	for _, a := range entries {
		acts = append(acts, a.Action)
	}
	if strings.Join(acts, ",") != "staff_remove,staff_role,staff_add" {
		t.Errorf("audit of the moderator: %v", acts)
	}
}
