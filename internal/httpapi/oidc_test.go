package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"
	"golang.org/x/text/language"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// The OpenID Connect sign-in runs against a real OpenID provider on
// loopback: zitadel/oidc's provider (pkg/op) with the example storage and
// login UI the module maintains for its own integration tests, which
// speaks discovery, the authorization code flow with PKCE, signed ID
// tokens, JWKS and userinfo as a production provider does.

// providerUsers are the accounts of the test provider.
type providerUsers map[string]*storage.User

func (u providerUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u providerUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u providerUsers) ExampleClientID() string { return "service" }

const providerPassword = "verysecure"

var testProviderUsers = providerUsers{
	"sub-ann": {ID: "sub-ann", Username: "ann", Password: providerPassword, FirstName: "Ann", LastName: "Lee",
		Email: "ann@readers.example", EmailVerified: true, PreferredLanguage: language.English},
	"sub-mo": {ID: "sub-mo", Username: "mo", Password: providerPassword, FirstName: "Mo", LastName: "Okafor",
		Email: "mo@news.example.com", EmailVerified: true, PreferredLanguage: language.English},
	"sub-unverified": {ID: "sub-unverified", Username: "eve", Password: providerPassword, FirstName: "Eve", LastName: "X",
		Email: "mo@news.example.com", EmailVerified: false, PreferredLanguage: language.English},
	"sub-admin": {ID: "sub-admin", Username: "boss", Password: providerPassword, FirstName: "Boss", LastName: "Y",
		Email: "boss@elsewhere.example", EmailVerified: true, PreferredLanguage: language.English},
	// Names over the limit (TestOIDCNameTooLong): the provider's name
	// claim is FirstName LastName, preferred_username the Username,
	// given_name the FirstName.
	"sub-long-name": {ID: "sub-long-name", Username: "kim", Password: providerPassword, FirstName: "Kim", LastName: strings.Repeat("Ł", 61),
		Email: "kim@readers.example", EmailVerified: true, PreferredLanguage: language.English},
	"sub-long-user": {ID: "sub-long-user", Username: "jo-" + strings.Repeat("u", 62), Password: providerPassword, FirstName: "Jo", LastName: strings.Repeat("x", 62),
		Email: "jo@readers.example", EmailVerified: true, PreferredLanguage: language.English},
	"sub-long-all": {ID: "sub-long-all", Username: "al-" + strings.Repeat("a", 62), Password: providerPassword, FirstName: strings.Repeat("A", 65), LastName: "Z",
		Email: "al@readers.example", EmailVerified: true, PreferredLanguage: language.English},
}

// The example storage keeps its clients in a package variable: register
// each test's clients once, under names of their own.
var registerOnce sync.Mutex

// startProvider starts the provider on loopback and registers the client
// id/secret with Parley's callback (on the env's base URL) as its
// redirect URI.
func startProvider(t *testing.T, clients ...[2]string) string {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	registerOnce.Lock()
	for _, c := range clients {
		storage.RegisterClients(storage.WebClient(c[0], c[1], "http://parley.test/api/v1/auth/oidc/callback"))
	}
	registerOnce.Unlock()
	h = exampleop.SetupServer(srv.URL, storage.NewStorage(testProviderUsers), nil, false)
	return srv.URL
}

// oidcBrowser is a browser going through sign-ins: its cookies are the
// reader's; it stops at Parley's callback so the test can look at (and
// tamper with) what the provider sends back.
type oidcBrowser struct {
	*reader
	hop  *http.Client // follows redirects up to Parley's callback
	stay *http.Client // follows none
}

func (e *env) oidcBrowser() *oidcBrowser {
	r := e.reader("")
	hop := &http.Client{Jar: r.client.Jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "parley.test" || e.url == "http://"+req.URL.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	stay := &http.Client{Jar: r.client.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &oidcBrowser{reader: r, hop: hop, stay: stay}
}

// start begins a sign-in at Parley and returns the provider's URL.
func (b *oidcBrowser) start(t *testing.T, query string) *url.URL {
	t.Helper()
	res, err := b.stay.Get(b.e.url + "/api/v1/auth/oidc/start?" + query)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("start: %d, want 302", res.StatusCode)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signInAt goes through the provider's login as the user and returns the
// callback URL the provider sends the browser to.
func (b *oidcBrowser) signInAt(t *testing.T, authURL *url.URL, username string) *url.URL {
	t.Helper()
	res, err := b.hop.Get(authURL.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	login := res.Request.URL // the provider's login page, after its redirects
	id := login.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no login page at the provider: %s (%d)", login, res.StatusCode)
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {providerPassword}}
	res, err = b.hop.PostForm(login.Scheme+"://"+login.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || cb.Host != "parley.test" {
		t.Fatalf("the provider sent the browser to %q (%d), want Parley's callback", res.Header.Get("Location"), res.StatusCode)
	}
	return cb
}

// callback brings the provider's answer to Parley (the env's real address
// for parley.test).
func (b *oidcBrowser) callback(cb *url.URL) resp {
	b.e.t.Helper()
	res, err := b.stay.Get(b.e.url + cb.Path + "?" + cb.RawQuery)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body := make([]byte, 0, 4096)
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	return resp{res.StatusCode, res.Header, body}
}

// ticketOf reads the ticket from the callback page.
func ticketOf(t *testing.T, r resp) string {
	t.Helper()
	s := string(r.body)
	i := strings.Index(s, `data-ticket="`)
	if i < 0 {
		t.Fatalf("no ticket on the callback page: %s", s)
	}
	s = s[i+len(`data-ticket="`):]
	return s[:strings.IndexByte(s, '"')]
}

func setOIDC(t *testing.T, e *env, site, issuer, clientID, secret string, mods bool, subjects map[string]string) {
	t.Helper()
	name := "Readers ID"
	sec := []byte(secret)
	_, err := e.svc.SetSiteOIDC(context.Background(), service.Actor{Admin: true}, site, service.OIDCSettings{
		Issuer: &issuer, ClientID: &clientID, ClientSecret: sec, Scopes: []string{"openid", "profile", "email"},
		ProviderName: &name, Moderators: &mods, StaffSubjects: subjects,
	})
	if err != nil {
		t.Fatalf("SetSiteOIDC: %v", err)
	}
}

func TestOIDCReaderSignIn(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-news", "news-secret"})
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	setOIDC(t, e, "news", issuer, "parley-news", "news-secret", false, nil)
	if err := e.svc.CreateSite(context.Background(), &parley.Site{ID: "plain", Name: "Plain", Origins: []string{"https://plain.example.com"}}); err != nil {
		t.Fatal(err)
	}

	// The widget learns the provider's name for its button.
	anon := e.reader("")
	if res := anon.do("GET", "/api/v1/auth/oidc?site=news", nil); res.status != 200 || !strings.Contains(string(res.body), `"name":"Readers ID"`) {
		t.Fatalf("provider of news: %d %s", res.status, res.body)
	}

	origin := "origin=" + url.QueryEscape(siteOrigin)
	var annID string
	t.Run("success, and the same reader on a second device", func(t *testing.T) {
		for device := range 2 {
			b := e.oidcBrowser()
			authURL := b.start(t, "site=news&"+origin)
			q := authURL.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
				t.Fatalf("the authorization request lacks PKCE, nonce or state: %s", authURL)
			}
			if !strings.Contains(q.Get("scope"), "openid") || q.Get("client_id") != "parley-news" {
				t.Fatalf("authorization request: %s", authURL)
			}
			res := b.callback(b.signInAt(t, authURL, "ann"))
			if res.status != 200 || !strings.Contains(string(res.body), "Ann Lee") {
				t.Fatalf("callback: %d %s", res.status, res.body)
			}
			if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline'; frame") && strings.Contains(csp, "script-src 'unsafe-inline") {
				t.Errorf("callback CSP: %q", csp)
			}
			if !strings.Contains(string(res.body), `data-origin="`+siteOrigin+`"`) {
				t.Errorf("the callback page does not hand the ticket to the site's origin: %s", res.body)
			}
			// The widget redeems the ticket in its own context: a new
			// cookie jar, as a partitioned embed would be.
			widget := e.reader("")
			ticket := ticketOf(t, res)
			red := widget.do("POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": ticket})
			if red.status != 200 {
				t.Fatalf("ticket: %d %s", red.status, red.body)
			}
			me := widget.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any)
			if me["name"] != "Ann Lee" || me["sso"] != true {
				t.Fatalf("me after the sign-in: %v", me)
			}
			if device == 0 {
				annID = me["id"].(string)
			} else if me["id"] != annID {
				t.Errorf("device 2 is reader %v, want %s: the same subject at the same issuer is the same reader", me["id"], annID)
			}
			// A ticket is redeemed once.
			if again := e.reader("").do("POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": ticket}); again.status != 401 || errReason(t, again) != "oidc_state" {
				t.Errorf("ticket redeemed twice: %d %s", again.status, again.body)
			}
			if p := widget.post("signed in with my provider", nil); p.status != 201 {
				t.Errorf("post as the OIDC reader: %d %s", p.status, p.body)
			}
		}
		u, err := e.db.User(context.Background(), annID)
		if err != nil || u.Email != "ann@readers.example" || u.ID != service.OIDCUserID("news", issuer, "sub-ann") {
			t.Errorf("the reader: %+v, %v", u, err)
		}
	})

	t.Run("wrong state", func(t *testing.T) {
		b := e.oidcBrowser()
		cb := b.signInAt(t, b.start(t, "site=news"), "ann")
		q := cb.Query()
		q.Set("state", "not-the-state")
		cb.RawQuery = q.Encode()
		if res := b.callback(cb); res.status != 401 || errReason(t, res) != "oidc_state" {
			t.Errorf("callback with another state: %d %s", res.status, res.body)
		}
	})

	t.Run("another browser's state", func(t *testing.T) {
		b := e.oidcBrowser()
		cb := b.signInAt(t, b.start(t, "site=news"), "ann")
		// The link the provider returned, opened in a victim's browser
		// (login CSRF): it lacks the binding cookie.
		victim := e.oidcBrowser()
		if res := victim.callback(cb); res.status != 401 || errReason(t, res) != "oidc_state" {
			t.Errorf("callback in another browser: %d %s", res.status, res.body)
		}
	})

	t.Run("replayed code", func(t *testing.T) {
		b := e.oidcBrowser()
		cb := b.signInAt(t, b.start(t, "site=news"), "ann")
		if res := b.callback(cb); res.status != 200 {
			t.Fatalf("first callback: %d %s", res.status, res.body)
		}
		// The same answer again: its state is spent.
		if res := b.callback(cb); res.status != 401 || errReason(t, res) != "oidc_state" {
			t.Errorf("the same callback twice: %d %s", res.status, res.body)
		}
		// The spent code with a fresh sign-in's state: the provider
		// refuses it (used, and not this sign-in's PKCE verifier).
		fresh := b.start(t, "site=news")
		q := cb.Query()
		q.Set("state", fresh.Query().Get("state"))
		cb.RawQuery = q.Encode()
		if res := b.callback(cb); res.status != 401 || errReason(t, res) != "oidc_code" {
			t.Errorf("a spent code with a fresh state: %d %s", res.status, res.body)
		}
	})

	t.Run("wrong nonce", func(t *testing.T) {
		b := e.oidcBrowser()
		authURL := b.start(t, "site=news")
		q := authURL.Query()
		q.Set("nonce", "an-attacker's-nonce")
		authURL.RawQuery = q.Encode()
		if res := b.callback(b.signInAt(t, authURL, "ann")); res.status != 401 || errReason(t, res) != "oidc_nonce" {
			t.Errorf("an ID token with another nonce: %d %s", res.status, res.body)
		}
	})

	t.Run("expired ID token", func(t *testing.T) {
		b := e.oidcBrowser()
		cb := b.signInAt(t, b.start(t, "site=news"), "ann")
		// Parley's clock for ID tokens two hours on: the provider's
		// tokens live one hour.
		e.svc.OIDC.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		defer func() { e.svc.OIDC.Now = time.Now }()
		if res := b.callback(cb); res.status != 401 || errReason(t, res) != "oidc_token_expired" {
			t.Errorf("an expired ID token: %d %s", res.status, res.body)
		}
	})

	t.Run("an unconfigured site", func(t *testing.T) {
		res := anon.do("GET", "/api/v1/auth/oidc/start?site=plain", nil)
		if res.status != 404 || errReason(t, res) != "oidc_disabled" {
			t.Errorf("start on a site without OIDC: %d %s", res.status, res.body)
		}
		if res := anon.do("GET", "/api/v1/auth/oidc?site=plain", nil); res.status != 404 {
			t.Errorf("provider of a site without OIDC: %d %s", res.status, res.body)
		}
		if res := anon.do("GET", "/api/v1/auth/oidc/start?site=nope", nil); res.status != 404 {
			t.Errorf("start on an unknown site: %d %s", res.status, res.body)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
		}{
			{"no site", "GET", "/api/v1/auth/oidc/start", nil, 400},
			{"origin not the site's", "GET", "/api/v1/auth/oidc/start?site=news&origin=https%3A%2F%2Fevil.example", nil, 400},
			{"unknown purpose", "GET", "/api/v1/auth/oidc/start?site=news&for=admin", nil, 400},
			{"long site", "GET", "/api/v1/auth/oidc/start?site=" + strings.Repeat("x", 100), nil, 400},
			{"callback without state", "GET", "/api/v1/auth/oidc/callback?code=x", nil, 401},
			{"ticket missing", "POST", "/api/v1/auth/oidc/ticket", map[string]any{}, 400},
			{"ticket unknown", "POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": "nope"}, 401},
			{"ticket not JSON", "POST", "/api/v1/auth/oidc/ticket", "ticket=x", 400},
			{"ticket huge", "POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": strings.Repeat("x", 1<<20)}, 413},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := anon.do(tc.method, tc.path, tc.body)
				if res.status != tc.status {
					t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, res.status, res.body, tc.status)
				}
				errCode(t, res)
			})
		}
		// A cross-site form cannot redeem a ticket (CSRF).
		res := anon.do("POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": "x"}, "Origin", "https://evil.example")
		if res.status != 403 {
			t.Errorf("ticket from another origin: %d %s", res.status, res.body)
		}
	})
}

// TestOIDCProviderRefusedOnLoopback: without the operator's allowance the
// guarded client does not reach a provider on loopback.
func TestOIDCProviderRefusedOnLoopback(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-guard", "guard-secret"})
	e := newEnv(t, envOpts{})
	setOIDC(t, e, "news", issuer, "parley-guard", "guard-secret", false, nil)
	res := e.reader("").do("GET", "/api/v1/auth/oidc/start?site=news", nil)
	if res.status != 503 || errReason(t, res) != "oidc_unavailable" {
		t.Errorf("start with a loopback issuer, not allowed: %d %s", res.status, res.body)
	}
}

func TestOIDCModeratorSignIn(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-mods", "mods-secret"})
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	mo := e.addStaff(parley.RoleModerator, "news", "mo@news.example.com")
	boss := e.addStaff(parley.RoleAdmin, "", "boss@parley.example")
	setOIDC(t, e, "news", issuer, "parley-mods", "mods-secret", true, map[string]string{"sub-admin": boss.ID})

	if res := e.reader("").do("GET", "/api/v1/admin/oidc", nil); res.status != 200 || !strings.Contains(string(res.body), `"site":"news"`) {
		t.Fatalf("moderator providers: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		name, user string
		wantID     string // "" for a refusal
	}{
		{"a moderator by verified address", "mo", mo.ID},
		{"an admin by configured subject", "boss", boss.ID},
		{"an unverified address matches nobody", "eve", ""},
		{"a reader with no staff account", "ann", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.oidcBrowser()
			// The moderator's browser already holds a staff session (from
			// a password sign-in): the OpenID Connect sign-in must end it.
			var old string
			if tc.user == "mo" {
				if res := b.do("POST", "/api/v1/admin/login", map[string]any{"email": "mo@news.example.com", "password": staffPassword}); res.status != 200 {
					t.Fatalf("password sign-in first: %d %s", res.status, res.body)
				}
				old = b.cookie(auth.StaffCookie, auth.StaffCookiePath+"/")
			}
			res := b.callback(b.signInAt(t, b.start(t, "site=news&for=moderator"), tc.user))
			if tc.wantID == "" {
				if res.status != 403 || errReason(t, res) != "oidc_no_staff_account" {
					t.Errorf("callback: %d %s, want 403 oidc_no_staff_account", res.status, res.body)
				}
				return
			}
			// The callback's page hands the session on to the admin API's
			// path, where the browser's staff cookie is seen.
			if res.status != http.StatusOK || !strings.Contains(string(res.body), `http-equiv="refresh" content="0;url=http://parley.test/api/v1/admin/oidc/finish"`) {
				t.Fatalf("callback: %d %s", res.status, res.body)
			}
			if got := b.cookie(auth.StaffCookie, auth.StaffCookiePath+"/"); got != old {
				t.Errorf("the callback set a staff cookie itself")
			}
			fin, err := b.stay.Get(b.e.url + auth.StaffHandoffPath)
			if err != nil {
				t.Fatal(err)
			}
			fin.Body.Close()
			if fin.StatusCode != http.StatusSeeOther || fin.Header.Get("Location") != "http://parley.test/admin" {
				t.Fatalf("finish: %d (Location %q)", fin.StatusCode, fin.Header.Get("Location"))
			}
			cur := b.cookie(auth.StaffCookie, auth.StaffCookiePath+"/")
			if cur == "" || cur == old {
				t.Fatalf("the sign-in kept the session id (or set none)")
			}
			if old != "" {
				if r := e.replay(auth.StaffCookie, old, "GET", "/api/v1/admin/me", nil); r.status != 401 {
					t.Errorf("the session the OpenID Connect sign-in replaced: /admin/me %d, want 401", r.status)
				}
			}
			// The hand-off is spent.
			if again := b.do("GET", auth.StaffHandoffPath, nil); again.status != 400 {
				t.Errorf("a second finish: %d %s, want 400", again.status, again.body)
			}
			me := b.do("GET", "/api/v1/admin/me", nil)
			if me.status != 200 || !strings.Contains(string(me.body), `"id":"`+tc.wantID+`"`) {
				t.Errorf("admin me after the sign-in: %d %s", me.status, me.body)
			}
			csrf, _ := me.json(t)["csrf"].(string)
			// The session works for a state-changing call with its CSRF token, and not without.
			if r := b.do("POST", "/api/v1/admin/logout", nil); r.status != 403 {
				t.Errorf("logout without CSRF: %d", r.status)
			}
			if r := b.do("POST", "/api/v1/admin/logout", nil, "X-CSRF-Token", csrf); r.status != 204 {
				t.Errorf("logout: %d %s", r.status, r.body)
			}
		})
	}

	// A site whose moderators do not sign in with its provider.
	off := false
	if _, err := e.svc.SetSiteOIDC(context.Background(), service.Actor{Admin: true}, "news", service.OIDCSettings{Moderators: &off, StaffSubjects: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if res := e.reader("").do("GET", "/api/v1/auth/oidc/start?site=news&for=moderator", nil); res.status != 404 {
		t.Errorf("moderator start on a site without moderator sign-in: %d %s", res.status, res.body)
	}
}

func TestOIDCAdminSettings(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.reader("")
	do := func(method, path string, body any) resp {
		return admin.do(method, path, body, "Authorization", "Bearer "+adminToken)
	}
	res := do("PATCH", "/api/v1/admin/sites/news/oidc", map[string]any{
		"issuer": "https://id.example.com/", "client_id": "parley", "client_secret": "s3cret", "scopes": []string{"openid", "email"},
	})
	if res.status != 200 {
		t.Fatalf("PATCH oidc: %d %s", res.status, res.body)
	}
	body := string(res.body)
	for _, want := range []string{`"issuer":"https://id.example.com"`, `"client_secret_set":true`, `"provider_name":"id.example.com"`, `"redirect_url":"http://parley.test/api/v1/auth/oidc/callback"`} {
		if !strings.Contains(body, want) {
			t.Errorf("PATCH oidc: %s lacks %s", body, want)
		}
	}
	if strings.Contains(body, "s3cret") {
		t.Errorf("the client secret was returned: %s", body)
	}
	for _, tc := range []struct {
		name string
		body any
	}{
		{"issuer not a URL", map[string]any{"issuer": "id.example.com"}},
		{"issuer with a query", map[string]any{"issuer": "https://id.example.com/?x=1"}},
		{"issuer without a client", map[string]any{"client_id": ""}},
		{"bad scope", map[string]any{"scopes": []string{"a b"}}},
		{"staff subject of a reader", map[string]any{"staff_subjects": map[string]string{"s": "nobody"}}},
		{"unknown field", map[string]any{"issuerr": "https://x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := do("PATCH", "/api/v1/admin/sites/news/oidc", tc.body); res.status != 400 {
				t.Errorf("got %d %s, want 400", res.status, res.body)
			}
		})
	}
	if res := do("GET", "/api/v1/admin/sites/nope/oidc", nil); res.status != 404 {
		t.Errorf("GET oidc of an unknown site: %d", res.status)
	}
	// A moderator may not change how readers sign in.
	e.addStaff(parley.RoleModerator, "news", "m@news.example.com")
	m := e.signIn("m@news.example.com")
	if res := m.do("PATCH", "/api/v1/admin/sites/news/oidc", map[string]any{"issuer": ""}, "X-CSRF-Token", m.csrf); res.status != 403 {
		t.Errorf("PATCH oidc by a moderator: %d %s", res.status, res.body)
	}
	// Audited, without the secret.
	acts, err := e.db.Actions(context.Background(), store.ActionQuery{SiteID: "news"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range acts {
		if a.Action == service.AuditOIDC {
			found = true
			if strings.Contains(string(a.After), "s3cret") {
				t.Errorf("the audit entry holds the secret: %s", a.After)
			}
		}
	}
	if !found {
		t.Error("no audit entry of the change")
	}
}

// TestOIDCIDTokenChecks holds Parley's verifier to real ID tokens from
// the provider: one issued to another client (its code obtained and
// exchanged by that client itself) is refused for its audience, whatever
// else is right about it.
func TestOIDCIDTokenChecks(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-a", "a-secret"}, [2]string{"parley-b", "b-secret"})
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: "parley-b", ClientSecret: "b-secret", Endpoint: p.Endpoint(),
		RedirectURL: "http://parley.test/api/v1/auth/oidc/callback", Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()
	authURL, _ := url.Parse(conf.AuthCodeURL("st", oidc.Nonce("n1"), oauth2.S256ChallengeOption(verifier)))
	cb := e.oidcBrowser().signInAt(t, authURL, "ann")
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q", raw)
	}
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	site := func(client string) parley.SiteOIDC {
		return parley.SiteOIDC{SiteID: "news", Issuer: issuer, ClientID: client}
	}
	for _, tc := range []struct {
		name   string
		cfg    parley.SiteOIDC
		token  string
		nonce  string
		later  time.Duration
		reason string // "" for accepted
	}{
		{"its own client", site("parley-b"), raw, "n1", 0, ""},
		{"another client's token", site("parley-a"), raw, "n1", 0, "oidc_wrong_audience"},
		{"another nonce", site("parley-b"), raw, "n2", 0, "oidc_nonce"},
		{"no nonce", site("parley-b"), raw, "", 0, "oidc_nonce"},
		{"expired", site("parley-b"), raw, "n1", 2 * time.Hour, "oidc_token_expired"},
		{"forged signature", site("parley-b"), forged, "n1", 0, "oidc_token"},
		{"not a JWT", site("parley-b"), "garbage", "n1", 0, "oidc_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.svc.OIDC.Now = func() time.Time { return time.Now().Add(tc.later) }
			defer func() { e.svc.OIDC.Now = time.Now }()
			id, err := e.svc.OIDC.Verify(ctx, tc.cfg, tc.token, tc.nonce)
			if tc.reason == "" {
				if err != nil || id.Subject != "sub-ann" || id.Issuer != issuer {
					t.Errorf("Verify: got %+v, %v; want sub-ann of %s", id, err, issuer)
				}
				return
			}
			if got := parley.ErrorReason(err); got != tc.reason || parley.ErrorCode(err) != parley.EUnauthorized {
				t.Errorf("Verify: got %v (reason %q), want unauthorized %q", err, got, tc.reason)
			}
		})
	}
}

// TestOIDCNameTooLong (issue 13, promise 2: nothing is silently cut): a
// provider's name over 64 characters is never cut. The reader's display
// name is the first of the name claims that fits — name, then
// preferred_username, then given_name — and when none fits the sign-in
// fails with a 400 JSON error (reason oidc_name_too_long) saying so and
// giving the limit, and no reader is made.
func TestOIDCNameTooLong(t *testing.T) {
	issuer := startProvider(t, [2]string{"parley-long", "long-secret"})
	e := newEnv(t, envOpts{outboundAllow: "127.0.0.1"})
	setOIDC(t, e, "news", issuer, "parley-long", "long-secret", false, nil)
	origin := "origin=" + url.QueryEscape(siteOrigin)
	for _, tc := range []struct{ user, sub, want string }{
		{"kim", "sub-long-name", "kim"},                          // name is 65 characters: the username
		{"jo-" + strings.Repeat("u", 62), "sub-long-user", "Jo"}, // name and username too: the given name
		{"al-" + strings.Repeat("a", 62), "sub-long-all", ""},    // every one too long: refused
	} {
		b := e.oidcBrowser()
		res := b.callback(b.signInAt(t, b.start(t, "site=news&"+origin), tc.user))
		if tc.want == "" {
			if res.status != 400 || errReason(t, res) != "oidc_name_too_long" {
				t.Errorf("%s: callback %d %s, want 400 oidc_name_too_long", tc.sub, res.status, res.body)
			} else if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "64 characters") || !strings.Contains(msg, "67 characters") {
				t.Errorf("%s: the error %q does not give the name's length and the limit", tc.sub, msg)
			}
			if _, err := e.db.User(context.Background(), service.OIDCUserID("news", issuer, tc.sub)); parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("%s: a reader was made (%v)", tc.sub, err)
			}
			continue
		}
		if res.status != 200 {
			t.Fatalf("%s: callback %d %s", tc.sub, res.status, res.body)
		}
		widget := e.reader("")
		if red := widget.do("POST", "/api/v1/auth/oidc/ticket", map[string]any{"ticket": ticketOf(t, res)}); red.status != 200 {
			t.Fatalf("%s: ticket %d %s", tc.sub, red.status, red.body)
		}
		if me := widget.do("GET", "/api/v1/me", nil).json(t)["me"].(map[string]any); me["name"] != tc.want {
			t.Errorf("%s: signed in as %q, want %q", tc.sub, me["name"], tc.want)
		}
	}
}
