package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
)

// cheapArgon2 keeps password hashing fast in tests; the format and the
// checks are the production ones.
var cheapArgon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const staffPassword = "correct horse battery"

// addStaff creates a staff account on the env's service.
func (e *env) addStaff(role, site, email string) *parley.User {
	e.t.Helper()
	e.svc.PasswordParams = cheapArgon2
	u, err := e.svc.AddStaff(context.Background(), service.StaffInput{Role: role, SiteID: site, Name: "Staff " + email, Email: email, Password: staffPassword})
	if err != nil {
		e.t.Fatalf("AddStaff(%s): %v", email, err)
	}
	return u
}

// moderator is a signed-in moderator's browser with its CSRF token.
type moderator struct {
	*reader
	csrf string
}

func (e *env) signIn(email string) *moderator {
	e.t.Helper()
	b := e.reader("")
	res := b.do("POST", "/api/v1/admin/login", map[string]any{"email": email, "password": staffPassword})
	if res.status != 200 {
		e.t.Fatalf("login %s: %d %s", email, res.status, res.body)
	}
	csrf, _ := res.json(e.t)["csrf"].(string)
	if csrf == "" {
		e.t.Fatalf("login without a csrf token: %s", res.body)
	}
	return &moderator{reader: b, csrf: csrf}
}

// act sends a state-changing request with the CSRF token.
func (m *moderator) act(method, path string, body any) resp {
	m.e.t.Helper()
	return m.do(method, path, body, "X-CSRF-Token", m.csrf)
}

var bearer = []string{"Authorization", "Bearer " + adminToken}

// postID posts a comment and returns its id and author id.
func postID(t *testing.T, r *reader, text string, extra map[string]any) (int64, string) {
	t.Helper()
	res := r.post(text, extra)
	if res.status != 201 {
		t.Fatalf("post %q: %d %s", text, res.status, res.body)
	}
	c := res.json(t)["comment"].(map[string]any)
	return int64(c["id"].(float64)), c["author"].(map[string]any)["id"].(string)
}

func TestStaffSessionAndCSRF(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	id, _ := postID(t, e.reader("Ann"), "a comment", nil)
	decision := fmt.Sprintf("/api/v1/admin/comments/%d/decision", id)
	approve := map[string]any{"action": "approve"}

	anon := e.reader("")
	if res := anon.do("POST", "/api/v1/admin/login", map[string]any{"email": "mod@example.com", "password": "wrong password"}); res.status != 401 || errCode(t, res) != "unauthorized" {
		t.Fatalf("wrong password: %d %s", res.status, res.body)
	}
	if res := anon.do("POST", "/api/v1/admin/login", map[string]any{"email": "nobody@example.com", "password": staffPassword}); res.status != 401 {
		t.Fatalf("unknown address: %d %s", res.status, res.body)
	}
	login := anon.do("POST", "/api/v1/admin/login", map[string]any{"email": "MOD@example.com", "password": staffPassword})
	if login.status != 200 {
		t.Fatalf("login: %d %s", login.status, login.body)
	}
	cookie := login.header.Get("Set-Cookie")
	for _, want := range []string{"parley_staff=", "HttpOnly", "SameSite=Strict", "Path=/api/v1/admin"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("staff cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("staff cookie %q is Secure on a plain-http base URL", cookie)
	}
	body := login.json(t)
	csrf := body["csrf"].(string)
	if u := body["user"].(map[string]any); u["role"] != "moderator" || u["site"] != "news" {
		t.Errorf("login user: %v", u)
	}
	mod := &moderator{reader: anon, csrf: csrf}

	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		hdr    []string
		status int
		want   string
	}{
		{"me with the cookie", "GET", "/api/v1/admin/me", nil, nil, 200, csrf},
		{"reading needs no token", "GET", "/api/v1/admin/queue?site=news&status=unmoderated", nil, nil, 200, `"comments"`},
		{"decision without a token", "POST", decision, approve, nil, 403, "missing or invalid CSRF token"},
		{"decision with a wrong token", "POST", decision, approve, []string{"X-CSRF-Token", csrf + "x"}, 403, "missing or invalid CSRF token"},
		{"decision with another session's kind of token", "POST", decision, approve, []string{"X-CSRF-Token", "abc"}, 403, "CSRF"},
		{"decision with the token", "POST", decision, approve, []string{"X-CSRF-Token", csrf}, 200, `"status":"approved"`},
		{"policy change without a token", "PUT", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "pre_all"}, nil, 403, "CSRF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mod.do(tc.method, tc.path, tc.body, tc.hdr...)
			if res.status != tc.status || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("got %d %s, want %d with %q", res.status, res.body, tc.status, tc.want)
			}
		})
	}

	// The bearer token needs no CSRF token: a browser never sends it by itself.
	if res := e.reader("").do("POST", decision, map[string]any{"action": "reject"}, bearer...); res.status != 200 {
		t.Errorf("bearer decision: %d %s", res.status, res.body)
	}
	// Another site's script may not read the admin API with credentials.
	if res := mod.do("GET", "/api/v1/admin/me", nil, "Origin", siteOrigin); res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin API readable from a site's origin: %v", res.header)
	}

	// Logout revokes the session on the server: the old cookie is dead.
	stolen := &http.Cookie{Name: auth.StaffCookie, Value: cookieValue(t, cookie)}
	if res := mod.act("POST", "/api/v1/admin/logout", nil); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if res := mod.do("GET", "/api/v1/admin/me", nil); res.status != 401 {
		t.Errorf("me after logout: %d %s", res.status, res.body)
	}
	req, _ := http.NewRequest("GET", e.url+"/api/v1/admin/me", nil)
	req.AddCookie(stolen)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("replayed cookie after logout: %d, want 401", res.StatusCode)
	}

	// Sessions expire.
	m2 := e.signIn("mod@example.com")
	e.now = e.now.Add(auth.StaffSessionTTL + time.Minute)
	if res := m2.do("GET", "/api/v1/admin/me", nil); res.status != 401 {
		t.Errorf("me after expiry: %d %s", res.status, res.body)
	}
}

func cookieValue(t *testing.T, setCookie string) string {
	t.Helper()
	v, _, _ := strings.Cut(strings.TrimPrefix(setCookie, auth.StaffCookie+"="), ";")
	if v == "" {
		t.Fatalf("no value in %q", setCookie)
	}
	return v
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff(parley.RoleAdmin, "", "admin@example.com")
	b := e.reader("")
	var last resp
	for i := 0; i < 11; i++ {
		last = b.do("POST", "/api/v1/admin/login", map[string]any{"email": "admin@example.com", "password": fmt.Sprintf("guess number %d", i)})
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" {
		t.Errorf("11th attempt in a minute: %d %s, want 429 with Retry-After", last.status, last.body)
	}
}

// TestStaffWriteRateLimit: a moderator session's state-changing requests
// are limited (a runaway script, a stolen session); reads are not, and
// neither is the admin token.
func TestStaffWriteRateLimit(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: true})
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	m := e.signIn("mod@example.com")
	note := map[string]any{"site": "news", "text": "watch this reader"}
	_, author := postID(t, e.reader("Ann"), "a comment", nil)
	var last resp
	n := 0
	for ; n < 100; n++ {
		if last = m.act("POST", "/api/v1/admin/users/"+author+"/notes", note); last.status != 201 && last.status != 200 {
			break
		}
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" || n < 60 {
		t.Fatalf("after %d notes: %d %s; want 429 with Retry-After after the burst of 60", n, last.status, last.body)
	}
	if res := m.do("GET", "/api/v1/admin/queue?site=news&status=pending", nil); res.status != 200 {
		t.Errorf("a read while limited: %d", res.status)
	}
	admin := e.reader("")
	for range 5 {
		if res := admin.do("POST", "/api/v1/admin/users/"+author+"/notes", note, "Authorization", "Bearer "+adminToken); res.status == 429 {
			t.Fatalf("the admin token was limited")
		}
	}
}

func TestModeratorScope(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if err := e.svc.CreateSite(ctx, &parley.Site{ID: "sport", Name: "Sport", Origins: []string{"https://sport.example.com"}}); err != nil {
		t.Fatal(err)
	}
	e.addStaff(parley.RoleModerator, "news", "news-mod@example.com")
	e.addStaff(parley.RoleModerator, "", "all-mod@example.com")
	newsID, newsAuthor := postID(t, e.reader("Ann"), "on news", nil)
	sportRes := e.reader("Bob").do("POST", "/api/v1/comments", map[string]any{"site": "sport", "url": "https://sport.example.com/match", "text": "on sport", "name": "Bob"})
	if sportRes.status != 201 {
		t.Fatalf("post on sport: %d %s", sportRes.status, sportRes.body)
	}
	sc := sportRes.json(t)["comment"].(map[string]any)
	sportID, sportAuthor := int64(sc["id"].(float64)), sc["author"].(map[string]any)["id"].(string)

	type call struct {
		method, path string
		body         any
	}
	calls := func(site string, id int64, author string) map[string]call {
		return map[string]call{
			"queue":          {"GET", "/api/v1/admin/queue?site=" + site, nil},
			"counts":         {"GET", "/api/v1/admin/counts?site=" + site, nil},
			"decision":       {"POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": "approve"}},
			"audit":          {"GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", id), nil},
			"reader":         {"GET", "/api/v1/admin/users/" + author + "?site=" + site, nil},
			"sanction":       {"POST", "/api/v1/admin/users/" + author + "/sanction", map[string]any{"site": site, "action": "premoderate"}},
			"reject-pending": {"POST", "/api/v1/admin/users/" + author + "/reject-pending", map[string]any{"site": site}},
			"note":           {"POST", "/api/v1/admin/users/" + author + "/notes", map[string]any{"site": site, "text": "watch"}},
			"policy":         {"GET", "/api/v1/admin/sites/" + site + "/policy", nil},
			"policy change":  {"PATCH", "/api/v1/admin/sites/" + site + "/policy", map[string]any{"mode": "post"}},
		}
	}
	newsMod, allMod := e.signIn("news-mod@example.com"), e.signIn("all-mod@example.com")
	for name, c := range calls("sport", sportID, sportAuthor) {
		t.Run("news moderator on sport: "+name, func(t *testing.T) {
			res := newsMod.act(c.method, c.path, c.body)
			if res.status != 403 || errCode(t, res) != "forbidden" {
				t.Errorf("got %d %s, want 403", res.status, res.body)
			}
		})
	}
	for name, c := range calls("news", newsID, newsAuthor) {
		t.Run("news moderator on news: "+name, func(t *testing.T) {
			res := newsMod.act(c.method, c.path, c.body)
			if res.status != 200 && res.status != 201 {
				t.Errorf("got %d %s, want success", res.status, res.body)
			}
		})
	}
	if res := newsMod.do("GET", "/api/v1/admin/stream?site=sport", nil); res.status != 403 {
		t.Errorf("news moderator's stream of sport: %d %s", res.status, res.body)
	}
	// A moderator without a site moderates every site but leaves policies to admins.
	if res := allMod.act("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", sportID), map[string]any{"action": "approve"}); res.status != 200 {
		t.Errorf("all-sites moderator decision on sport: %d %s", res.status, res.body)
	}
	if res := allMod.act("PATCH", "/api/v1/admin/sites/sport/policy", map[string]any{"mode": "post"}); res.status != 403 {
		t.Errorf("all-sites moderator policy change: %d %s", res.status, res.body)
	}
	sites := newsMod.do("GET", "/api/v1/admin/sites", nil)
	if s := string(sites.body); sites.status != 200 || !strings.Contains(s, `"id":"news"`) || strings.Contains(s, `"sport"`) {
		t.Errorf("news moderator's sites: %d %s", sites.status, s)
	}
	// Only an admin bans from every site.
	if res := newsMod.act("POST", "/api/v1/admin/users/"+newsAuthor+"/sanction", map[string]any{"action": "ban"}); res.status != 403 {
		t.Errorf("moderator's global ban: %d %s", res.status, res.body)
	}
}

func TestSanctionsOverHTTP(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if err := e.svc.CreateSite(ctx, &parley.Site{ID: "sport", Name: "Sport", Origins: []string{"https://sport.example.com"}}); err != nil {
		t.Fatal(err)
	}
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	mod := e.signIn("mod@example.com")
	ann, bob := e.reader("Ann"), e.reader("Bob")
	annID, annUser := postID(t, ann, "Ann's first", nil)
	bobID, _ := postID(t, bob, "Bob's first", nil)

	sanction := func(body map[string]any) resp {
		t.Helper()
		return mod.act("POST", "/api/v1/admin/users/"+annUser+"/sanction", body)
	}
	res := sanction(map[string]any{"site": "news", "action": "suspend", "duration": "24h", "note": "insults"})
	if res.status != 200 || !strings.Contains(string(res.body), `"suspended_until":"`) {
		t.Fatalf("suspend: %d %s", res.status, res.body)
	}
	writes := []struct {
		name string
		do   func() resp
	}{
		{"post", func() resp { return ann.post("again", nil) }},
		{"edit", func() resp {
			return ann.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", annID), map[string]any{"text": "edited"})
		}},
		{"vote", func() resp {
			return ann.do("POST", fmt.Sprintf("/api/v1/comments/%d/vote", bobID), map[string]any{"value": 1})
		}},
		{"report", func() resp {
			return ann.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", bobID), map[string]any{"reason": "spam"})
		}},
	}
	for _, w := range writes {
		t.Run("suspended: "+w.name, func(t *testing.T) {
			res := w.do()
			if res.status != 403 || !strings.Contains(string(res.body), "suspended from commenting on this site until") {
				t.Errorf("got %d %s, want 403 with the suspension's end", res.status, res.body)
			}
		})
	}
	// Per site: the suspension on news does not silence Ann on sport.
	if res := ann.do("POST", "/api/v1/comments", map[string]any{"site": "sport", "url": "https://sport.example.com/m", "text": "on sport"}); res.status != 201 {
		t.Errorf("suspended on news, posting on sport: %d %s", res.status, res.body)
	}
	// Expiry (the moderator's session ends too: they sign in again).
	e.now = e.now.Add(25 * time.Hour)
	if res := ann.post("after the suspension", nil); res.status != 201 {
		t.Errorf("after expiry: %d %s", res.status, res.body)
	}
	*mod = *e.signIn("mod@example.com")
	// A site ban, then lifting it.
	if res := sanction(map[string]any{"site": "news", "action": "ban"}); res.status != 200 {
		t.Fatalf("ban: %d %s", res.status, res.body)
	}
	if res := ann.post("banned?", nil); res.status != 403 || !strings.Contains(string(res.body), "banned from commenting on this site") {
		t.Errorf("banned: %d %s", res.status, res.body)
	}
	if res := sanction(map[string]any{"site": "news", "action": "lift"}); res.status != 200 || !strings.Contains(string(res.body), `"suspended_until":null`) {
		t.Fatalf("lift: %d %s", res.status, res.body)
	}
	// Pre-moderation by hand, and release.
	sanction(map[string]any{"site": "news", "action": "premoderate"})
	held := ann.post("held by hand", nil)
	if held.status != 201 || held.json(t)["status"] != "pending" || !strings.Contains(string(held.body), `"rule":"trust"`) {
		t.Errorf("premoderated reader's post: %d %s", held.status, held.body)
	}
	sanction(map[string]any{"site": "news", "action": "release"})
	if res := ann.post("free again", nil); res.json(t)["status"] != "approved" {
		t.Errorf("released reader's post: %s", res.body)
	}
	// A global ban by the admin token.
	if res := e.reader("").do("POST", "/api/v1/admin/users/"+annUser+"/sanction", map[string]any{"action": "ban"}, bearer...); res.status != 200 || !strings.Contains(string(res.body), `"banned_until":"`) {
		t.Fatalf("global ban: %d %s", res.status, res.body)
	}
	if res := ann.do("POST", "/api/v1/comments", map[string]any{"site": "sport", "url": "https://sport.example.com/m", "text": "anywhere"}); res.status != 403 {
		t.Errorf("globally banned on sport: %d %s", res.status, res.body)
	}
	for _, bad := range []map[string]any{
		{"site": "news", "action": "suspend"},
		{"site": "news", "action": "suspend", "duration": "soon"},
		{"site": "news", "action": "exile"},
	} {
		if res := sanction(bad); res.status != 400 {
			t.Errorf("sanction %v: %d %s, want 400", bad, res.status, res.body)
		}
	}
}

func TestAuditTrailAndReaderPanel(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	mod := e.signIn("mod@example.com")
	ann := e.reader("Ann")
	id, annUser := postID(t, ann, "first", nil)
	pending := e.reader("").do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "pre_all"}, bearer...)
	if pending.status != 200 {
		t.Fatalf("policy: %d %s", pending.status, pending.body)
	}
	p1, _ := postID(t, ann, "second, held", nil)
	postID(t, ann, "third, held", nil)

	steps := []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": "feature", "note": "great"}, 200},
		{"POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": "reject", "note": "on second thought"}, 200},
		{"POST", "/api/v1/admin/users/" + annUser + "/notes", map[string]any{"site": "news", "text": "argues in bad faith"}, 201},
		{"POST", "/api/v1/admin/users/" + annUser + "/sanction", map[string]any{"site": "news", "action": "suspend", "duration": "7d", "note": "cool off"}, 200},
		{"POST", "/api/v1/admin/users/" + annUser + "/reject-pending", map[string]any{"site": "news", "note": "spam run"}, 200},
	}
	for _, s := range steps {
		if res := mod.act(s.method, s.path, s.body); res.status != s.status {
			t.Fatalf("%s %s: %d %s", s.method, s.path, res.status, res.body)
		}
	}
	audit := mod.do("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", id), nil).json(t)
	actions := audit["actions"].([]any)
	if len(actions) != 2 {
		t.Fatalf("comment audit: %v", audit)
	}
	rej, feat := actions[0].(map[string]any), actions[1].(map[string]any)
	for _, tc := range []struct {
		name   string
		got    map[string]any
		action string
		before string
		after  string
	}{
		{"reject", rej, "reject", `"status":"approved"`, `"status":"rejected"`},
		{"feature", feat, "feature", `"featured":false`, `"featured":true`},
	} {
		if tc.got["action"] != tc.action || !strings.Contains(jsonString(tc.got["before"]), tc.before) || !strings.Contains(jsonString(tc.got["after"]), tc.after) {
			t.Errorf("%s entry: %v", tc.name, tc.got)
		}
		actor := tc.got["actor"].(map[string]any)
		target := tc.got["target"].(map[string]any)
		if actor["name"] != "Staff mod@example.com" || target["user"] != annUser || tc.got["site"] != "news" {
			t.Errorf("%s entry: actor %v target %v site %v", tc.name, actor, target, tc.got["site"])
		}
	}
	if rej["note"] != "on second thought" {
		t.Errorf("reject note: %v", rej["note"])
	}

	panel := mod.do("GET", "/api/v1/admin/users/"+annUser+"?site=news", nil)
	if panel.status != 200 {
		t.Fatalf("reader panel: %d %s", panel.status, panel.body)
	}
	m := panel.json(t)
	var kinds []string
	for _, a := range m["actions"].([]any) {
		kinds = append(kinds, a.(map[string]any)["action"].(string))
	}
	want := "reject_pending reject reject suspend note reject feature"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("reader's actions, newest first: got %q, want %q", got, want)
	}
	h := m["history"].(map[string]any)
	if h["rejected"].(float64) != 3 || h["pending"].(float64) != 0 {
		t.Errorf("history: %v", h)
	}
	if notes := m["notes"].([]any); len(notes) != 1 || notes[0].(map[string]any)["text"] != "argues in bad faith" {
		t.Errorf("notes: %v", notes)
	}
	if u := m["user"].(map[string]any); u["suspended_until"] == nil {
		t.Errorf("user: %v", u)
	}
	if cs := m["comments"].([]any); len(cs) != 3 || int64(cs[2].(map[string]any)["id"].(float64)) != id {
		t.Errorf("reader's comments, newest first: %v", cs)
	}
	_ = p1
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestQueueItemAndBulk(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	admin.do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "post", "suspect_words": []string{"idiot"}}, bearer...)
	ann, bob := e.reader("Ann"), e.reader("Bob")
	parent, _ := postID(t, ann, "The article is **wrong** about the budget.", nil)
	held, _ := postID(t, bob, "Only an 1d10t would write this.", map[string]any{"parent": parent})
	held2, _ := postID(t, bob, "Another idiot take.", nil)

	q := admin.do("GET", "/api/v1/admin/queue?site=news&status=pending", nil, bearer...)
	if q.status != 200 {
		t.Fatalf("queue: %d %s", q.status, q.body)
	}
	items := q.json(t)["comments"].([]any)
	if len(items) != 2 {
		t.Fatalf("pending queue: %s", q.body)
	}
	var it map[string]any
	for _, x := range items {
		if int64(x.(map[string]any)["id"].(float64)) == held {
			it = x.(map[string]any)
		}
	}
	if it == nil {
		t.Fatalf("comment %d not in %s", held, q.body)
	}
	for _, key := range []string{"text", "page", "parent", "author", "reasons", "toxicity", "reports", "reporters", "report_weight", "brigade", "priority"} {
		if _, ok := it[key]; !ok {
			t.Errorf("queue item lacks %q: %v", key, it)
		}
	}
	if p := it["parent"].(map[string]any); int64(p["id"].(float64)) != parent || p["author"] != "Ann" || !strings.Contains(p["excerpt"].(string), "wrong") {
		t.Errorf("parent: %v", p)
	}
	if a := it["author"].(map[string]any); a["name"] != "Bob" || a["premoderated"] != false {
		t.Errorf("author: %v", a)
	}
	reason := it["reasons"].([]any)[0].(map[string]any)
	if reason["rule"] != "suspect_word" {
		t.Errorf("reason: %v", reason)
	} else if sp := reason["spans"].([]any)[0].(map[string]any); []rune(it["text"].(string))[int(sp["start"].(float64))] != '1' {
		t.Errorf("evidence span %v does not point at the word in %q", sp, it["text"])
	}
	counts := admin.do("GET", "/api/v1/admin/counts?site=news", nil, bearer...).json(t)["counts"].(map[string]any)
	if counts["pending"].(float64) != 2 || counts["unmoderated"].(float64) != 1 {
		t.Errorf("counts: %v", counts)
	}

	bulk := admin.do("POST", "/api/v1/admin/comments/bulk", map[string]any{"ids": []int64{held, held2, 999999}, "action": "approve", "note": "fair enough"}, bearer...)
	if bulk.status != 200 {
		t.Fatalf("bulk: %d %s", bulk.status, bulk.body)
	}
	bm := bulk.json(t)
	failed := bm["failed"].([]any)
	if bm["done"].(float64) != 2 || len(failed) != 1 || int64(failed[0].(map[string]any)["id"].(float64)) != 999999 {
		t.Errorf("bulk result: %s", bulk.body)
	}
	if res := admin.do("POST", "/api/v1/admin/comments/bulk", map[string]any{"ids": []int64{held}, "action": "feature"}, bearer...); res.status != 400 {
		t.Errorf("bulk feature: %d %s", res.status, res.body)
	}
	// Featuring pins the comment for readers.
	admin.do("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", held2), map[string]any{"action": "feature"}, bearer...)
	for _, c := range commentsOf(ann.thread("")) {
		if int64(c["id"].(float64)) == held2 && c["featured"] != true {
			t.Errorf("featured comment in the thread: %v", c)
		}
	}
}

func TestAdminStream(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff(parley.RoleModerator, "news", "mod@example.com")
	mod := e.signIn("mod@example.com")
	e.reader("").do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"mode": "pre_all"}, bearer...)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/admin/stream?site=news", nil)
	res, err := mod.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", res.StatusCode, res.Header)
	}
	lines := bufio.NewScanner(res.Body)
	waitFor := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), prefix) {
				return lines.Text()
			}
		}
		t.Fatalf("stream ended before %q: %v", prefix, lines.Err())
		return ""
	}
	waitFor("event: ready")
	id, _ := postID(t, e.reader("Ann"), "held for review", nil)
	waitFor("event: queue.changed")
	if data := waitFor("data: "); !strings.Contains(data, fmt.Sprintf(`"comment_id":%d`, id)) {
		t.Errorf("queue.changed data: %s", data)
	}
	// A moderator of another site is refused.
	if r := e.reader("").do("GET", "/api/v1/admin/stream?site=nowhere", nil, bearer...); r.status != 404 {
		t.Errorf("stream of an unknown site: %d", r.status)
	}
}

func TestAdminUI(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, path := range []string{"/admin", "/admin/"} {
		res := e.reader("").do("GET", path, nil)
		if res.status != 200 || !strings.Contains(res.header.Get("Content-Type"), "text/html") || res.header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d %v", path, res.status, res.header)
		}
	}
}
