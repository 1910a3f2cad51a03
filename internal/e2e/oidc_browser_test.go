package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/text/language"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

type e2eUsers map[string]*storage.User

func (u e2eUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u e2eUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u e2eUsers) ExampleClientID() string { return "service" }

// demoProvider starts an OpenID provider on loopback with the accounts
// kai (a reader) and mo@example.com (a moderator's address, verified), and
// makes it the demo site's, with Parley registered as client id.
func demoProvider(t *testing.T, srv *instance, client string, moderators bool) {
	t.Helper()
	var h http.Handler
	op := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(op.Close)
	users := e2eUsers{
		"sub-kai": {ID: "sub-kai", Username: "kai", Password: "verysecure", FirstName: "Kai", LastName: "Provider",
			Email: "kai@readers.example", EmailVerified: true, PreferredLanguage: language.English},
		"sub-mo": {ID: "sub-mo", Username: "mo", Password: "verysecure", FirstName: "Mo", LastName: "Mod",
			Email: "mo@example.com", EmailVerified: true, PreferredLanguage: language.English},
	}
	h = exampleop.SetupServer(op.URL, storage.NewStorage(users), nil, false)
	storage.RegisterClients(storage.WebClient(client, "e2e-secret", srv.URL+"/api/v1/auth/oidc/callback"))
	issuer, name := op.URL, "Readers ID"
	if _, err := srv.srv.Service().SetSiteOIDC(context.Background(), service.Actor{Admin: true}, "demo", service.OIDCSettings{
		Issuer: &issuer, ClientID: &client, ClientSecret: []byte("e2e-secret"), Scopes: []string{"profile", "email"},
		ProviderName: &name, Moderators: &moderators,
	}); err != nil {
		t.Fatal(err)
	}
}

// providerLogin fills the provider's login form in the browser context.
func providerLogin(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user),
		chromedp.SendKeys(`input[name=password]`, "verysecure"),
		chromedp.Submit(`input[name=password]`),
	); err != nil {
		t.Fatalf("the provider's login: %v", err)
	}
}

// TestBrowserOIDCModerator: the admin sign-in page offers the demo site's
// provider; the moderator signs in there and lands in the admin UI, as
// their account (matched by the address the provider verified).
func TestBrowserOIDCModerator(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--outbound-allow", "127.0.0.1")
	addModerator(t, dataDir, "demo", "Mo Mod", "mo@example.com", "correct horse battery staple")
	demoProvider(t, srv, "parley-e2e-mods", true)

	b := newBrowser(t, chrome, "moderator")
	b.do("open /admin", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`#signin-oidc a`)))
	if got := eval[string](b, "the provider link", `document.querySelector('#signin-oidc a').textContent`); got != "Sign in with Readers ID (demo)" {
		t.Errorf("the provider link says %q", got)
	}
	// The browser already holds a staff session (signed in with the
	// password, say, hours ago): the OpenID Connect sign-in must end it,
	// which proves the hand-off page saw the SameSite=Strict cookie.
	old := staffLogin(t, srv, "mo@example.com", "correct horse battery staple")
	yes := true
	if _, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{Name: auth.StaffCookie, Value: old,
		URL: srv.URL + auth.StaffCookiePath, Path: auth.StaffCookiePath, HTTPOnly: &yes, SameSite: network.CookieSameSiteStrict}); err != nil {
		t.Fatalf("plant the older staff cookie: %v", err)
	}
	b.click("Sign in with Readers ID", "#signin-oidc a")
	providerLogin(t, b.ctx, "mo")
	b.do("the admin UI", chromedp.WaitVisible(chromedp.CSS(`#shell`)))
	if res := staffMe(t, srv, old); res != http.StatusUnauthorized {
		t.Errorf("the staff session the browser held before the OpenID Connect sign-in: /admin/me %d, want 401", res)
	}
	eval[bool](b, "ask who is signed in", `(fetch('/api/v1/admin/me').then(r => r.json()).then(d => { window.parleyMe = d.user.name + '/' + d.user.role; }), true)`)
	me := waitFor[string](b, "who is signed in", `window.parleyMe`)
	if me != "Mo Mod/moderator" {
		t.Errorf("signed in as %q, want Mo Mod/moderator", me)
	}
	b.checkNoErrors()
}

// TestBrowserOIDCAndMyData: on the demo article, a reader signs in with
// the site's OpenID provider (a real one, zitadel/oidc's, on loopback) in
// the popup the widget's "Sign in with" button opens, posts, opens "Your
// comments & data", sees their comment there, and deletes themselves: the
// comment stays, by "a former reader", and the widget asks for a name
// again.
func TestBrowserOIDCAndMyData(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir(), "--outbound-allow", "127.0.0.1")
	demoProvider(t, srv, "parley-e2e-reader", false)

	b := newBrowser(t, chrome, "reader")
	b.open(srv.URL + "/demo")
	waitFor[bool](b, "the Sign in with button", shadowRoot+`.querySelector('.parley-oidc') !== null && `+
		shadowRoot+`.querySelector('.parley-oidc').textContent === 'Sign in with Readers ID'`)

	popup := chromedp.WaitNewTarget(b.ctx, func(i *target.Info) bool { return i.Type == "page" && i.OpenerID != "" })
	b.do("click Sign in with Readers ID", chromedp.Click(inWidget(".parley-oidc")))
	var id target.ID
	select {
	case id = <-popup:
	case <-time.After(20 * time.Second):
		t.Fatal("no popup opened")
	}
	pctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	defer cancel()
	providerLogin(t, pctx, "kai")

	waitFor[bool](b, "the signed-in form", shadowRoot+`.querySelector('.parley-form-new textarea') !== null && `+
		shadowRoot+`.querySelector('.parley-form-new input[name=name]') === null`)
	const text = "Signed in with my own account at the provider."
	post(b, text)
	cid := waitFor[int64](b, "the comment", commentWithText(text))
	if n := authorOf(b, cid); n != "Kai Provider" {
		t.Errorf("the comment is by %q, want the provider's name Kai Provider", n)
	}

	// Your comments & data: the comment is listed; then Delete me.
	eval[bool](b, "open Your comments & data", `(`+shadowRoot+`.querySelector('.parley-mydata').previousElementSibling.click(), true)`)
	waitFor[bool](b, "my comment in my data", shadowRoot+`.querySelector('.parley-mydata') && `+
		shadowRoot+`.querySelector('.parley-mydata').textContent.includes(`+jsString(text)+`)`)
	eval[bool](b, "accept the confirmation", `(window.confirm = () => true, true)`)
	b.do("delete me", chromedp.Click(inWidget(".parley-mydata-erase")))
	waitFor[bool](b, "the guest form again", shadowRoot+`.querySelector('.parley-form-new input[name=name]') !== null`)
	waitFor[bool](b, "the comment by a former reader", commentEl(cid)+` && `+commentEl(cid)+`.querySelector('.parley-meta .parley-author bdi').textContent === 'a former reader'`)
	if !strings.Contains(eval[string](b, "the thread", shadowRoot+`.textContent`), text) {
		t.Error("the erased reader's comment text is gone; the site keeps comments anonymised")
	}
	b.checkNoErrors()
}

// staffLogin signs a moderator in with the password, outside any browser,
// and returns the staff session token.
func staffLogin(t *testing.T, srv *instance, email, password string) string {
	t.Helper()
	res, err := http.Post(srv.URL+"/api/v1/admin/login", "application/json",
		strings.NewReader(`{"email":`+jsString(email)+`,"password":`+jsString(password)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == auth.StaffCookie && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("password sign-in: %d, no staff cookie", res.StatusCode)
	return ""
}

// staffMe is the status of GET /api/v1/admin/me with a staff session token.
func staffMe(t *testing.T, srv *instance, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/admin/me", nil)
	req.AddCookie(&http.Cookie{Name: auth.StaffCookie, Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
