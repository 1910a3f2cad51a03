package e2e

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserSSO is issue 11's single sign-on scenario on the demo page,
// whose "Sign in" buttons play the publisher (its backend, /demo/sso-token,
// signs a token with the demo site's secret): a staff member signs in and
// posts, and their comment carries the Staff badge; a reader signs in,
// posts, sees the badge, and signs out; the same account from a second
// browser is the same reader.
func TestBrowserSSO(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	const (
		staffText  = "From the newsroom: the council meeting is on Thursday at seven."
		readerText = "Thanks, I will be there with a few neighbours."
	)

	staff := newBrowser(t, chrome, "staff")
	staff.open(demo)
	ssoSignIn(staff, "staff", "Miriam Osei")
	post(staff, staffText)
	idS := waitFor[int64](staff, "the staff comment", commentWithText(staffText))
	if b := badgeOf(staff, idS); b != "Staff" {
		t.Errorf("the staff comment's badge in the staff's own view: %q, want Staff", b)
	}

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	ssoSignIn(reader, "reader", "Sam Reader")
	post(reader, readerText)
	idR := waitFor[int64](reader, "the reader's comment", commentWithText(readerText))
	waitFor[bool](reader, "the staff comment", commentWithText(staffText)+` > 0`)
	if b := badgeOf(reader, idS); b != "Staff" {
		t.Errorf("the staff comment's badge as a reader sees it: %q, want Staff", b)
	}
	if b := badgeOf(reader, idR); b != "" {
		t.Errorf("the reader's own comment has a badge: %q", b)
	}
	if n := authorOf(reader, idR); n != "Sam Reader" {
		t.Errorf("the reader's comment is by %q, want the publisher's name Sam Reader", n)
	}

	// The same account in another browser (its own profile and cookies) is
	// the same reader: the comment is theirs there too.
	second := newBrowser(t, chrome, "second device")
	second.open(demo)
	waitFor[bool](second, "the reader's comment", commentWithText(readerText)+` > 0`)
	if isMine(second, idR) {
		t.Fatalf("before signing in, the second browser already owns the reader's comment")
	}
	ssoSignIn(second, "reader", "Sam Reader")
	waitFor[bool](second, "the reader's comment marked as theirs", mineExpr(idR))

	// Signing out: the comment is no longer theirs, the form asks for a name.
	reader.click("sign out", "#demo-login [data-logout]")
	waitFor[bool](reader, "the guest form", shadowRoot+`.querySelector('.parley-form-new input[name=name]') !== null`)
	waitFor[bool](reader, "the comment no longer marked as theirs", `!(`+mineExpr(idR)+`)`)

	for _, b := range []*browser{staff, reader, second} {
		b.checkNoErrors()
	}
}

// ssoSignIn clicks the demo publisher's sign-in button and waits until the
// widget shows the reader signed in: the form no longer asks for a name.
func ssoSignIn(b *browser, as, name string) {
	b.t.Helper()
	b.click("sign in as "+as, `#demo-login [data-as="`+as+`"]`)
	waitFor[bool](b, "the publisher's bar to name "+name, `document.querySelector('#demo-login .demo-who').textContent.includes(`+jsString(name)+`)`)
	waitFor[bool](b, "the signed-in form", shadowRoot+`.querySelector('.parley-form-new textarea') !== null && `+
		shadowRoot+`.querySelector('.parley-form-new input[name=name]') === null`)
}

// post writes a comment in the new-comment form and sends it.
func post(b *browser, text string) {
	b.t.Helper()
	b.do("post "+text,
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
}

func commentEl(id int64) string {
	return shadowRoot + fmt.Sprintf(`.querySelector('#parley-c-%d > .parley-main')`, id)
}

func badgeOf(b *browser, id int64) string {
	b.t.Helper()
	return eval[string](b, "badge", `(() => { const x = `+commentEl(id)+`.querySelector('.parley-meta .parley-badge'); return x ? x.textContent : ''; })()`)
}

func authorOf(b *browser, id int64) string {
	b.t.Helper()
	return eval[string](b, "author", commentEl(id)+`.querySelector('.parley-meta .parley-author bdi').textContent`)
}

func mineExpr(id int64) string {
	return commentEl(id) + `.querySelector('.parley-meta .parley-you') !== null`
}

func isMine(b *browser, id int64) bool {
	b.t.Helper()
	return eval[bool](b, "mine", mineExpr(id))
}

// TestBrowserAdminSSOSettings: an admin sees the demo site's single sign-on
// in Site settings (its secret set on creation, never shown), switches on
// "only signed-in readers may post", and the API reports it; a moderator
// does not get the form.
func TestBrowserAdminSSOSettings(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const password = "correct horse battery staple"
	addStaff(t, dataDir, "admin", "", "Ada Admin", "ada@example.com", password)
	addModerator(t, dataDir, "demo", "Mo", "mo@example.com", password)

	admin := newBrowser(t, chrome, "admin")
	signIn(admin, srv, "ada@example.com", password)
	admin.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](admin, "the sign-in settings", `(() => { const s = document.querySelector('#sso-state'); return !document.querySelector('#sso-form').hidden && s.textContent.includes('HS256 secret'); })()`)
	if v := eval[string](admin, "the secret field", `document.querySelector('#sso-form input[name=secret]').value`); v != "" {
		t.Errorf("the secret field shows %q", v)
	}
	admin.click("only signed-in readers", `#sso-form input[name=only]`)
	admin.click("save", `#sso-form button[type=submit]`)
	waitFor[bool](admin, "the saved state", `document.querySelector('#sso-state').textContent.includes('Only signed-in readers may post')`)

	res, err := srv.client().admin("GET", "/api/v1/admin/sites/demo/sso", nil)
	if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), `"only":true`) || !strings.Contains(string(res.Body), `"secret_set":true`) {
		t.Fatalf("GET sso: %v %d %s", err, res.Status, res.Body)
	}

	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, "mo@example.com", password)
	mod.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](mod, "the policy form", `document.querySelector('#policy-form select[name=mode]').value !== ''`)
	if !eval[bool](mod, "the sign-in form", `document.querySelector('#sso-form').hidden`) {
		t.Errorf("a moderator sees the single sign-on form")
	}
	admin.checkNoErrors()
	mod.checkNoErrors()
}

// addStaff creates a staff account with `parley user add`.
func addStaff(t *testing.T, dataDir, role, site, name, email, password string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"user", "add", "--role", role, "--name", name, "--email", email, "--password-file", pw, "--data", dataDir}
	if site != "" {
		args = append(args, "--site", site)
	}
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parley user add: %v\n%s", err, out)
	}
}

// TestBrowserSSOTokenAttribute: a publisher's page on its own origin
// renders the signed-in reader's token into data-sso-token; the widget
// signs them in before it loads the thread, and does not ask their name.
func TestBrowserSSOTokenAttribute(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	const secret = "the-publisher-s-secret-of-32-bytes-or-more"
	var pageURL string
	pub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "pub-7", "name": "Pat Publisher-Reader", "aud": "pub",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": fmt.Sprint(now.UnixNano()),
		}).SignedString([]byte(secret))
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Publisher</title></head><body>
<div id="parley"></div><script src="%s/embed.js" data-site="pub" data-url=%q data-sso-token="%s" async></script></body></html>`,
			srv.URL, pageURL, html.EscapeString(tok))
	}))
	t.Cleanup(pub.Close)
	pageURL = pub.URL + "/story"
	svc := srv.srv.Service()
	ctx := context.Background()
	if err := svc.CreateSite(ctx, &parley.Site{ID: "pub", Name: "The Publisher", Origins: []string{pub.URL}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetSiteSSO(ctx, service.Actor{Admin: true}, "pub", service.SSOSettings{Secret: []byte(secret)}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, chrome, "reader")
	b.open(pageURL)
	waitFor[bool](b, "the signed-in form", shadowRoot+`.querySelector('.parley-form-new textarea') !== null && `+
		shadowRoot+`.querySelector('.parley-form-new input[name=name]') === null`)
	post(b, "Signed in by my newspaper.")
	id := waitFor[int64](b, "the comment", commentWithText("Signed in by my newspaper."))
	if n := authorOf(b, id); n != "Pat Publisher-Reader" {
		t.Errorf("the comment is by %q, want the token's name", n)
	}
	if !isMine(b, id) {
		t.Errorf("the comment is not marked as the reader's own")
	}
	b.checkNoErrors()
}
