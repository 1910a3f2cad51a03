package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
)

// TestReaderRename: a signed-in reader changes their display name on their
// own page; it is checked like any name (reserved names in disguise, the
// site's policy), shows on their next comments, and survives their next
// sign-in with the publisher's name.
func TestReaderRename(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func(sub, name string, roles ...string) string {
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", sub, name, roles...))
	}
	editor := e.reader("")
	if res := editor.signIn("news", tok("ed", "Jane Editor", "staff")); res.status != 200 {
		t.Fatalf("staff sign in: %d %s", res.status, res.body)
	}
	sam := e.reader("")
	if res := sam.signIn("news", tok("42", "Sam Reader")); res.status != 200 {
		t.Fatalf("sign in: %d %s", res.status, res.body)
	}
	rename := func(r *reader, site, name string) resp {
		return r.do("PATCH", "/api/v1/me", map[string]any{"site": site, "name": name})
	}
	for _, tc := range []struct {
		name, reason string
		status       int
	}{
		{"Jane Editor", service.ReasonNameReserved, 400},
		{"jane  EDITOR", service.ReasonNameReserved, 400},
		{"Jаne Editor", service.ReasonNameReserved, 400}, // Cyrillic а
		{"News", service.ReasonNameReserved, 400},        // the site's name
		{"Admin", service.ReasonNameReserved, 400},
		{"Sa\u200bm", "", 400}, // zero-width
		{"\u202eSam", "", 400}, // bidi override
		{"", "", 400},
		{strings.Repeat("x", 65), "", 400},
	} {
		res := rename(sam, "news", tc.name)
		if res.status != tc.status || (tc.reason != "" && errReason(t, res) != tc.reason) {
			t.Errorf("rename to %q: %d %s; want %d %s", tc.name, res.status, res.body, tc.status, tc.reason)
		}
	}
	if res := rename(sam, "nope", "Sam"); res.status != 404 {
		t.Errorf("rename on an unknown site: %d %s", res.status, res.body)
	}
	if res := rename(e.reader(""), "news", "Nobody"); res.status != 401 {
		t.Errorf("rename without a session: %d %s", res.status, res.body)
	}

	res := rename(sam, "news", "  Samuel   R. ")
	if res.status != 200 {
		t.Fatalf("rename: %d %s", res.status, res.body)
	}
	if me := res.json(t)["me"].(map[string]any); me["name"] != "Samuel R." || me["own_name"] != true {
		t.Errorf("renamed: %v", me)
	}
	if me := sam.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any); me["name"] != "Samuel R." {
		t.Errorf("/me after rename: %v", me)
	}
	if res := sam.post("Under my own name.", map[string]any{"name": ""}); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	// The publisher's next token, with its own name, keeps the reader's.
	phone := e.reader("")
	if res := phone.signIn("news", tok("42", "Sam Reader")); res.status != 200 || res.json(t)["reader"].(map[string]any)["name"] != "Samuel R." {
		t.Errorf("sign-in after rename: %d %s", res.status, res.body)
	}
	cs := commentsOf(sam.thread(""))
	if len(cs) != 1 || cs[0]["author"].(map[string]any)["name"] != "Samuel R." {
		t.Errorf("the comment's author: %v", cs)
	}
	// Another reader cannot take the staff member's name by renaming, but
	// the staff member may rename themselves.
	if res := rename(editor, "news", "Jane E. Editor"); res.status != 200 {
		t.Errorf("staff rename: %d %s", res.status, res.body)
	}
	if res := rename(sam, "news", "jane e. editor"); res.status != 400 || errReason(t, res) != service.ReasonNameReserved {
		t.Errorf("taking the staff member's new name: %d %s", res.status, res.body)
	}
}

// TestSSOPicture: the token's picture is the reader's avatar in the thread
// and on /me, when it is an https URL; anything else is dropped.
func TestSSOPicture(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	withPicture := func(sub, pic string) string {
		c := e.claims("news", sub, "Pat "+sub)
		c["picture"] = pic
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", c)
	}
	authorOf := func(r *reader) map[string]any {
		t.Helper()
		cs := commentsOf(r.thread(""))
		return cs[len(cs)-1]["author"].(map[string]any)
	}
	for i, tc := range []struct{ picture, want string }{
		{"https://cdn.example.com/avatars/pat.png?s=64", "https://cdn.example.com/avatars/pat.png?s=64"},
		{"javascript:alert(1)", ""},
		{"http://cdn.example.com/pat.png", ""},
		{"data:image/png;base64,AAAA", ""},
		{"https://user:pw@cdn.example.com/pat.png", ""},
		{`https://cdn.example.com/x"onerror="alert(1).png`, ""},
		{"//cdn.example.com/pat.png", ""},
		{"https://cdn.example.com/" + strings.Repeat("a", 1100), ""},
	} {
		r := e.reader("")
		sub := string(rune('a' + i))
		if res := r.signIn("news", withPicture(sub, tc.picture)); res.status != 200 {
			t.Fatalf("%q: sign in: %d %s", tc.picture, res.status, res.body)
		}
		if res := r.post("A comment with a face.", map[string]any{"name": ""}); res.status != 201 {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		got, _ := authorOf(r)["picture"].(string)
		if got != tc.want {
			t.Errorf("picture %q: thread shows %q, want %q", tc.picture, got, tc.want)
		}
		me := r.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)
		if me["picture"] != tc.want {
			t.Errorf("picture %q: /me has %v", tc.picture, me["picture"])
		}
	}
	// A new picture at the next sign-in replaces the old; none removes it.
	r := e.reader("")
	r.signIn("news", withPicture("z", "https://cdn.example.com/one.png"))
	r.post("First face.", map[string]any{"name": ""})
	e.now = e.now.Add(time.Second)
	r.signIn("news", withPicture("z", "https://cdn.example.com/two.png"))
	r.post("Second face.", map[string]any{"name": ""})
	if got := authorOf(r)["picture"]; got != "https://cdn.example.com/two.png" {
		t.Errorf("after a new picture: %v", got)
	}
	r.signIn("news", sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", "z", "Pat z")))
	r.post("No face.", map[string]any{"name": ""})
	if got, ok := authorOf(r)["picture"]; ok {
		t.Errorf("after a token without a picture: %v", got)
	}
}

// TestSignOutEverywhere: a reader signed in on two devices signs out
// everywhere from one; neither device's session counts any more, a new
// sign-in does; a ban does the same to every session of the banned reader.
func TestSignOutEverywhere(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func(sub string) string {
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", sub, "Reader "+sub))
	}
	me := func(r *reader) any { return r.do("GET", "/api/v1/me", nil).json(t)["me"] }
	laptop, phone := e.reader(""), e.reader("")
	laptop.signIn("news", tok("7"))
	phone.signIn("news", tok("7"))
	if me(laptop) == nil || me(phone) == nil {
		t.Fatal("not signed in on both devices")
	}
	// A copy of the phone's cookie, as a thief would keep it.
	thief := e.reader("")
	thief.client = &http.Client{Jar: phone.client.Jar} // shares the cookie until the phone's is cleared
	stolen := phone.client.Jar.Cookies(mustURL(t, e.url))
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(mustURL(t, e.url), stolen)
	thief.client = &http.Client{Jar: jar}
	if me(thief) == nil {
		t.Fatal("the copied cookie does not work before")
	}

	e.now = e.now.Add(time.Millisecond)
	res := laptop.do("DELETE", "/api/v1/me/sessions", nil)
	if res.status != 204 || !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out everywhere: %d %s %v", res.status, res.body, res.header)
	}
	for name, r := range map[string]*reader{"phone": phone, "copied cookie": thief} {
		if got := me(r); got != nil {
			t.Errorf("%s still signed in: %v", name, got)
		}
		if res := r.post("Still me?", map[string]any{"name": "Anon"}); res.status == 201 {
			author := res.json(t)["comment"].(map[string]any)["author"].(map[string]any)
			if strings.HasPrefix(author["id"].(string), "sso") {
				t.Errorf("%s posted as the signed-out reader: %v", name, author)
			}
		}
	}
	if res := e.reader("").do("DELETE", "/api/v1/me/sessions", nil); res.status != 401 {
		t.Errorf("without a session: %d %s", res.status, res.body)
	}
	// A guest's cookie is their only way in: not revoked, by them or a ban.
	guest := e.reader("Gus")
	guest.post("A guest's words.", nil)
	gid, _ := me(guest).(map[string]any)["id"].(string)
	if res := guest.do("DELETE", "/api/v1/me/sessions", nil); res.status != 400 || me(guest) == nil {
		t.Errorf("a guest signing out everywhere: %d %s", res.status, res.body)
	}
	e.now = e.now.Add(time.Millisecond)
	if _, err := e.svc.Sanction(context.Background(), service.Actor{Admin: true}, gid, service.SanctionInput{Action: service.SanctionBan}); err != nil {
		t.Fatal(err)
	}
	if got := me(guest); got == nil {
		t.Error("a banned guest lost the cookie the ban binds")
	}
	e.now = e.now.Add(time.Millisecond)
	phone2 := e.reader("")
	if res := phone2.signIn("news", tok("7")); res.status != 200 || me(phone2) == nil {
		t.Fatalf("a new sign-in after signing out everywhere: %d %s", res.status, res.body)
	}

	// A ban from every site ends the banned reader's sessions.
	id := me(phone2).(map[string]any)["id"].(string)
	e.now = e.now.Add(time.Millisecond)
	if _, err := e.svc.Sanction(context.Background(), service.Actor{Admin: true}, id, service.SanctionInput{Action: service.SanctionBan}); err != nil {
		t.Fatal(err)
	}
	if got := me(phone2); got != nil {
		t.Errorf("banned reader still signed in: %v", got)
	}
	// So does a suspension on one site.
	other := e.reader("")
	other.signIn("news", tok("8"))
	oid := me(other).(map[string]any)["id"].(string)
	e.now = e.now.Add(time.Millisecond)
	if _, err := e.svc.Sanction(context.Background(), service.Actor{Admin: true}, oid, service.SanctionInput{SiteID: "news", Action: service.SanctionSuspend, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := me(other); got != nil {
		t.Errorf("suspended reader still signed in: %v", got)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAvatarServedByParley: the widget shows a reader's picture from
// Parley's origin, fetched through the guarded outbound client: a picture
// on a private address is refused, and only PNG, JPEG, GIF and WebP bytes
// of at most 512 KiB are served, whatever the picture's host claims.
func TestAvatarServedByParley(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	var fetches atomic.Int32
	img := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		switch r.URL.Path {
		case "/a.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/page.png": // says PNG, is HTML
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("<!doctype html><script>alert(1)</script>"))
		case "/x.svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))
		case "/big.png":
			w.Write(append(png, make([]byte, 600<<10)...))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(img.Close)
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	readerWith := func(sub, path string) string {
		c := e.claims("news", sub, "Pat "+sub)
		c["picture"] = img.URL + path
		r := e.reader("")
		if res := r.signIn("news", sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", c)); res.status != 200 {
			t.Fatalf("sign in: %d %s", res.status, res.body)
		}
		return r.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)["id"].(string)
	}
	get := func(id string) resp { return e.reader("").do("GET", "/api/v1/avatar?user="+url.QueryEscape(id), nil) }

	// The server's own client: the picture's host is on loopback.
	loop := readerWith("loop", "/a.png")
	if res := get(loop); res.status != 404 || fetches.Load() != 0 {
		t.Errorf("a picture on a loopback address: %d %s, %d fetches", res.status, res.body, fetches.Load())
	}

	// A client that reaches the test host (its certificate), as the
	// outbound client reaches a public one.
	e.svc.Avatars = img.Client()
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/a.png", 200}, {"/page.png", 404}, {"/x.svg", 404}, {"/big.png", 404}, {"/missing.png", 404},
	} {
		id := readerWith(strings.Trim(tc.path, "/."), tc.path)
		res := get(id)
		if res.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.path, res.status, res.body, tc.status)
			continue
		}
		if tc.status == 200 {
			if ct := res.header.Get("Content-Type"); ct != "image/png" || string(res.body) != string(png) {
				t.Errorf("%s: served %q, %d bytes", tc.path, ct, len(res.body))
			}
			if res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no nosniff", tc.path)
			}
		}
	}
	// Served from memory after the first fetch.
	before := fetches.Load()
	id := readerWith("again", "/a.png")
	get(id)
	get(id)
	if n := fetches.Load() - before; n != 1 {
		t.Errorf("%d fetches for two requests of one picture", n)
	}
	for _, id := range []string{"", "nobody", loop + "x"} {
		if res := get(id); res.status != 404 {
			t.Errorf("avatar of %q: %d", id, res.status)
		}
	}
}

// TestRevokedSessionSeesNoHeldComments: a reader's held comment is shown
// to their own session only while it counts; after they sign out
// everywhere, a copy of their old cookie gets the shared view.
func TestRevokedSessionSeesNoHeldComments(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	r := e.reader("")
	r.signIn("news", sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", "held", "Hal Held")))
	const text = "A comment that waits for a moderator."
	admin := service.Actor{Admin: true}
	p, err := e.svc.Policy(context.Background(), admin, "news")
	if err != nil {
		t.Fatal(err)
	}
	p.Mode = moderation.ModePreAll
	if _, err := e.svc.SetPolicy(context.Background(), admin, "news", p); err != nil {
		t.Fatal(err)
	}
	if res := r.post(text, map[string]any{"name": ""}); res.status != 201 || res.json(t)["status"] != "pending" {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(mustURL(t, e.url), r.client.Jar.Cookies(mustURL(t, e.url)))
	copyOf := &reader{e: e, client: &http.Client{Jar: jar}}
	body := func() string { b, _ := json.Marshal(copyOf.thread("")); return string(b) }
	if !strings.Contains(body(), text) {
		t.Fatal("the reader's own session does not see their held comment")
	}
	e.now = e.now.Add(time.Millisecond)
	if res := r.do("DELETE", "/api/v1/me/sessions", nil); res.status != 204 {
		t.Fatalf("sign out everywhere: %d %s", res.status, res.body)
	}
	if strings.Contains(body(), text) {
		t.Error("a revoked session still sees the held comment")
	}
}

// TestRoleChangeEndsSessions: an admin making a signed-in reader one of the
// publisher's staff is a change of rights: the session the reader held
// stops counting, on every device, and a new sign-in gets a new session.
// (For a reader of the publisher's sign-in, the token's roles decide the
// badge again at that sign-in; a sign-in always starts a new session.)
func TestRoleChangeEndsSessions(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func() string { // a new jti each time
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", "42", "Reader 42"))
	}
	me := func(r *reader) map[string]any {
		m, _ := r.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)
		return m
	}
	laptop := e.reader("")
	laptop.signIn("news", tok())
	m := me(laptop)
	if m == nil {
		t.Fatal("not signed in")
	}
	id := m["id"].(string)
	for _, role := range []string{"staff"} {
		e.now = e.now.Add(time.Millisecond)
		if _, err := e.svc.SetRole(context.Background(), service.Actor{Admin: true}, id, role); err != nil {
			t.Fatal(err)
		}
		if got := me(laptop); got != nil {
			t.Errorf("made %s: the session from before still counts: %v", role, got)
		}
		e.now = e.now.Add(time.Millisecond)
		laptop = e.reader("")
		laptop.signIn("news", tok())
		if got := me(laptop); got == nil || got["id"] != id {
			t.Fatalf("made %s: a new sign-in: %v", role, got)
		}
	}
}
