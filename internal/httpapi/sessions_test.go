package httpapi_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
)

// cookie returns the value of the browser's cookie name for path, "" without one.
func (r *reader) cookie(name, path string) string {
	u, _ := url.Parse(r.e.url + path)
	for _, c := range r.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// replay sends a request with only the given cookie, as an attacker holding
// a copy of it would.
func (e *env) replay(cookie, value, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	thief := e.reader("")
	return thief.do(method, path, body, append([]string{"Cookie", cookie + "=" + value}, hdr...)...)
}

// TestReaderSessionRotation (issue 13, promise 6): every sign-in (SSO here;
// OpenID Connect and the e-mail link take the same path, signInReader)
// gives a new session id and ends the one the browser came with, on the
// server: a copy of the old cookie no longer reads the reader's data or
// edits their comment. Signing out ends the session on the server too.
func TestReaderSessionRotation(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	tok := func(sub, name string) string {
		return sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", sub, name))
	}
	export := "/api/v1/me/export"
	b := e.reader("Ann")
	id, _ := postID(t, b, "Written as a guest.", nil)
	guest := b.cookie(auth.ReaderCookie, "/")
	if guest == "" {
		t.Fatal("no reader cookie after posting")
	}
	if res := e.replay(auth.ReaderCookie, guest, "GET", export, nil); res.status != 200 {
		t.Fatalf("the guest's own cookie before sign-in: export %d %s", res.status, res.body)
	}

	// Sign in over the guest session: a new id, the old one ended.
	if res := b.signIn("news", tok("7", "Ann Signed")); res.status != 200 {
		t.Fatalf("sign in: %d %s", res.status, res.body)
	}
	first := b.cookie(auth.ReaderCookie, "/")
	if first == "" || first == guest {
		t.Fatalf("sign-in kept the session id %q", first)
	}
	if res := e.replay(auth.ReaderCookie, guest, "GET", export, nil); res.status != 401 {
		t.Errorf("the guest cookie replayed after sign-in: export %d %s, want 401", res.status, res.body)
	}
	if res := e.replay(auth.ReaderCookie, guest, "PATCH", "/api/v1/comments/"+strconv.FormatInt(id, 10), map[string]any{"text": "Hijacked."}); res.status != 401 && res.status != 403 {
		t.Errorf("the guest cookie replayed after sign-in: edit %d %s, want 401 or 403", res.status, res.body)
	}
	if res := b.do("GET", export, nil); res.status != 200 {
		t.Fatalf("the new session: export %d %s", res.status, res.body)
	}

	// Signing in again as the same reader: again a new id, the old ended.
	if res := b.signIn("news", tok("7", "Ann Signed")); res.status != 200 {
		t.Fatalf("sign in again: %d %s", res.status, res.body)
	}
	second := b.cookie(auth.ReaderCookie, "/")
	if second == "" || second == first {
		t.Fatalf("the second sign-in kept the session id")
	}
	if res := e.replay(auth.ReaderCookie, first, "GET", export, nil); res.status != 401 {
		t.Errorf("the first signed-in cookie replayed after the second sign-in: export %d, want 401", res.status)
	}
	if res := e.replay(auth.ReaderCookie, second, "GET", export, nil); res.status != 200 {
		t.Fatalf("a copy of the live cookie works (it is the session): export %d", res.status)
	}

	// Signing out ends the session on the server: the copy is worthless.
	if res := b.do("POST", "/api/v1/auth/logout", map[string]any{}); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if res := e.replay(auth.ReaderCookie, second, "GET", export, nil); res.status != 401 {
		t.Errorf("the cookie replayed after logout: export %d %s, want 401", res.status, res.body)
	}
	if res := e.replay(auth.ReaderCookie, second, "GET", "/api/v1/me/mail?site=news", nil); res.status != 200 || res.json(t)["signed_in"] != false {
		t.Errorf("the cookie replayed after logout: /me/mail %d %s, want signed_in false", res.status, res.body)
	}
	res := e.replay(auth.ReaderCookie, second, "POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "title": "Article", "text": "As whom?", "name": "Thief"})
	if res.status == 201 && res.json(t)["comment"].(map[string]any)["author"].(map[string]any)["name"] == "Ann Signed" {
		t.Errorf("the cookie replayed after logout posted as the signed-in reader: %s", res.body)
	}
	// A new sign-in after the logout works at once.
	if res := b.signIn("news", tok("7", "Ann Signed")); res.status != 200 {
		t.Fatalf("sign in after logout: %d %s", res.status, res.body)
	}
	if res := b.do("GET", export, nil); res.status != 200 {
		t.Fatalf("signed in after logout: export %d %s", res.status, res.body)
	}
}

// TestReaderBanRefusesOldCookie (promise 6): after a ban the banned reader's
// cookie, replayed, writes nothing: every write gets 403.
func TestReaderBanRefusesOldCookie(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.reader("Troll")
	id, author := postID(t, b, "Before the ban.", nil)
	other, _ := postID(t, e.reader("Bea"), "Someone else.", nil)
	cookie := b.cookie(auth.ReaderCookie, "/")
	staff := e.reader("")
	if res := staff.do("POST", "/api/v1/admin/users/"+author+"/sanction", map[string]any{"site": "news", "action": "ban", "note": "abuse"}, bearer...); res.status != 200 {
		t.Fatalf("ban: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/comments", map[string]any{"site": "news", "url": articleURL, "title": "Article", "text": "After the ban.", "name": "Troll"}},
		{"PATCH", "/api/v1/comments/" + strconv.FormatInt(id, 10), map[string]any{"text": "Edited after the ban."}},
		{"POST", "/api/v1/comments/" + strconv.FormatInt(other, 10) + "/vote", map[string]any{"value": 1}},
		{"POST", "/api/v1/comments/" + strconv.FormatInt(other, 10) + "/report", map[string]any{"reason": "abuse"}},
	} {
		res := e.replay(auth.ReaderCookie, cookie, tc.method, tc.path, tc.body)
		if res.status != 403 {
			t.Errorf("banned reader's cookie: %s %s got %d %s, want 403", tc.method, tc.path, res.status, res.body)
		}
	}
	cs := commentsOf(e.reader("").thread(""))
	for _, c := range cs {
		if strings.Contains(c["html"].(string), "after the ban") {
			t.Errorf("a write after the ban shows: %v", c)
		}
	}
}

// TestStaffLoginNewSession (promise 6): a moderator's sign-in in a browser
// that holds a session gets a new session id and revokes the old one;
// logout revokes on the server, so a copy of the cookie gets 401; a
// promotion to admin, and a change back, each end the sessions too.
func TestStaffLoginNewSession(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.addStaff("moderator", "news", "mod@example.com")
	m := e.signIn("mod@example.com")
	old := m.cookie(auth.StaffCookie, auth.StaffCookiePath+"/")
	if old == "" {
		t.Fatal("no staff cookie after login")
	}
	res := m.do("POST", "/api/v1/admin/login", map[string]any{"email": "mod@example.com", "password": staffPassword})
	if res.status != 200 {
		t.Fatalf("second login: %d %s", res.status, res.body)
	}
	cur := m.cookie(auth.StaffCookie, auth.StaffCookiePath+"/")
	if cur == "" || cur == old {
		t.Fatalf("login kept the session id")
	}
	if res := e.replay(auth.StaffCookie, old, "GET", "/api/v1/admin/me", nil); res.status != 401 {
		t.Errorf("the session a login replaced: /admin/me %d, want 401", res.status)
	}
	if res := e.replay(auth.StaffCookie, cur, "GET", "/api/v1/admin/me", nil); res.status != 200 {
		t.Fatalf("the new session: /admin/me %d %s", res.status, res.body)
	}
	csrf, _ := res.json(t)["csrf"].(string)
	if res := m.do("POST", "/api/v1/admin/logout", map[string]any{}, "X-CSRF-Token", csrf); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if res := e.replay(auth.StaffCookie, cur, "GET", "/api/v1/admin/me", nil); res.status != 401 {
		t.Errorf("the cookie replayed after logout: /admin/me %d, want 401", res.status)
	}

	// A privilege change, up or down, ends the sessions: the moderator
	// signs in again and gets a new session id with the new rights.
	// (A moderator of every site made admin keeps the site "": only the
	// role changes.)
	all := e.addStaff("moderator", "", "all@example.com")
	for _, change := range []map[string]any{{"role": "admin"}, {"role": "moderator"}, {"role": "moderator", "site": "news"}} {
		m := e.signIn("all@example.com")
		tok := m.cookie(auth.StaffCookie, auth.StaffCookiePath+"/")
		if res := e.reader("").do("PUT", "/api/v1/admin/moderators/"+all.ID, change, bearer...); res.status != 200 {
			t.Fatalf("role change %v: %d %s", change, res.status, res.body)
		}
		if res := e.replay(auth.StaffCookie, tok, "GET", "/api/v1/admin/me", nil); res.status != 401 {
			t.Errorf("the session from before the change %v: /admin/me %d, want 401", change, res.status)
		}
	}
}

// bidiControls are the characters with the Unicode Bidi_Control property:
// the marks (ALM, LRM, RLM), embeddings and overrides (LRE … RLO) and
// isolates (LRI … PDI).
var bidiControls = []rune{0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}

// TestNameBidiControls (issue 13, promise 6): no bidi control reaches a
// stored display name, so none can reorder the text around the name on any
// surface (widget, moderator UI, e-mail, feeds): a typed name with one is
// refused with a 400 that says why, and a publisher's SSO name has them
// removed.
func TestNameBidiControls(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.setSSO("news", service.SSOSettings{Secret: []byte(ssoSecret)})
	for i, c := range bidiControls {
		name := "Ann" + string(c) + "Lee"
		res := e.reader(name).post("A comment under a name with a bidi control.", nil)
		if res.status != 400 || !strings.Contains(string(res.body), "name contains control or invisible characters") {
			t.Errorf("typed name with U+%04X: %d %s, want 400 naming the problem", c, res.status, res.body)
		}
		b := e.reader("")
		tok := sign(t, jwt.SigningMethodHS256, []byte(ssoSecret), "", e.claims("news", "bidi"+strconv.Itoa(i), "Bob"+string(c)+" Ray"))
		res = b.signIn("news", tok)
		if res.status != 200 {
			t.Fatalf("SSO sign-in with U+%04X: %d %s", c, res.status, res.body)
		}
		if got := res.json(t)["reader"].(map[string]any)["name"]; got != "Bob Ray" {
			t.Errorf("SSO name with U+%04X became %q, want %q", c, got, "Bob Ray")
		}
	}
}

// TestOIDCSignInRotatesSession (promise 6): OpenID Connect's two steps each
// give a new session id and end the one the browser came with: the
// callback over a guest's cookie, and the widget's ticket redemption over
// the callback's.
func TestOIDCSignInRotatesSession(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-rotate", "rotate-secret"})
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	setOIDC(t, e, "news", issuer, "parley-rotate", "rotate-secret", false, nil)
	export := "/api/v1/me/export"
	b := e.oidcBrowser()
	b.name = "Guest"
	postID(t, b.reader, "Written as a guest, before the sign-in.", nil)
	guest := b.cookie(auth.ReaderCookie, "/")
	res := b.callback(b.signInAt(t, b.start(t, "site=news&origin="+url.QueryEscape(siteOrigin)), "ann"))
	if res.status != 200 {
		t.Fatalf("callback: %d %s", res.status, res.body)
	}
	atCallback := b.cookie(auth.ReaderCookie, "/")
	if atCallback == "" || atCallback == guest {
		t.Fatalf("the callback kept the session id")
	}
	if res := e.replay(auth.ReaderCookie, guest, "GET", export, nil); res.status != 401 {
		t.Errorf("the guest cookie replayed after the callback: %d, want 401", res.status)
	}
	if red := b.do("POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": ticketOf(t, res)}); red.status != 200 {
		t.Fatalf("ticket: %d %s", red.status, red.body)
	}
	final := b.cookie(auth.ReaderCookie, "/")
	if final == "" || final == atCallback {
		t.Fatalf("the ticket kept the session id")
	}
	if res := e.replay(auth.ReaderCookie, atCallback, "GET", export, nil); res.status != 401 {
		t.Errorf("the callback's cookie replayed after the ticket: %d, want 401", res.status)
	}
	if res := b.do("GET", export, nil); res.status != 200 {
		t.Errorf("the signed-in reader: export %d %s", res.status, res.body)
	}
}
