package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserAdminIdentity: an admin sets the demo site's OpenID Connect
// provider in Site settings (the client secret write-only, the redirect
// URL to register shown) and the API reports it; a moderator does not get
// the form; and from a reader's panel the admin erases the reader, after
// confirming: the reader is gone and their comment is "a former reader"'s.
func TestBrowserAdminIdentity(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const password = "correct horse battery staple"
	addStaff(t, dataDir, "admin", "", "Ada Admin", "ada@example.com", password)
	addModerator(t, dataDir, "demo", "Mo", "mo@example.com", password)

	admin := newBrowser(t, chrome, "admin")
	violations := watchCSP(t, admin)
	signIn(admin, srv, "ada@example.com", password)
	admin.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](admin, "the OpenID Connect form", `!document.querySelector('#oidc-form').hidden && document.querySelector('#oidc-state').textContent.includes('off')`)
	if r := eval[string](admin, "the redirect URL", `document.querySelector('#oidc-redirect').textContent`); !strings.HasSuffix(r, "/api/v1/auth/oidc/callback") {
		t.Errorf("the redirect URL to register: %q", r)
	}
	admin.do("fill the provider",
		chromedp.SendKeys(chromedp.CSS(`#oidc-form input[name=issuer]`), "https://id.example.com"),
		chromedp.SendKeys(chromedp.CSS(`#oidc-form input[name=client_id]`), "parley-demo"),
		chromedp.SendKeys(chromedp.CSS(`#oidc-form input[name=client_secret]`), "a-client-secret"),
		chromedp.SendKeys(chromedp.CSS(`#oidc-form input[name=scopes]`), "profile, email"),
		chromedp.SendKeys(chromedp.CSS(`#oidc-form input[name=provider_name]`), "Example ID"),
		chromedp.Click(chromedp.CSS(`#oidc-form input[name=moderators]`)),
		chromedp.Click(chromedp.CSS(`#oidc-form button[type=submit]`)),
	)
	waitFor[bool](admin, "the saved state", `document.querySelector('#oidc-state').textContent.includes('Example ID') && document.querySelector('#oidc-state').textContent.includes('moderators')`)
	if v := eval[string](admin, "the secret field", `document.querySelector('#oidc-form input[name=client_secret]').value`); v != "" {
		t.Errorf("the secret field shows %q after saving", v)
	}
	res, err := srv.client().admin("GET", "/api/v1/admin/sites/demo/oidc", nil)
	body := string(res.Body)
	for _, want := range []string{`"issuer":"https://id.example.com"`, `"client_id":"parley-demo"`, `"client_secret_set":true`, `"scopes":["profile","email"]`, `"provider_name":"Example ID"`, `"moderators":true`} {
		if err != nil || res.Status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET oidc: %v %d %s; want %s", err, res.Status, body, want)
		}
	}
	// A wrong issuer is the server's error, shown in the form.
	admin.do("a bad issuer", chromedp.SetValue(chromedp.CSS(`#oidc-form input[name=issuer]`), "ftp://id.example.com"),
		chromedp.Click(chromedp.CSS(`#oidc-form button[type=submit]`)))
	waitFor[bool](admin, "the form's error", `!document.querySelector('#oidc-form .form-error').hidden`)

	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, "mo@example.com", password)
	mod.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](mod, "the policy form", `document.querySelector('#policy-form select[name=mode]').value !== ''`)
	if !eval[bool](mod, "the OpenID Connect form", `document.querySelector('#oidc-form').hidden`) {
		t.Errorf("a moderator sees the OpenID Connect form")
	}

	// Erase a reader from their panel.
	const text = "Please delete everything about me after this."
	reader := srv.client()
	res, err = reader.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": srv.URL + "/demo", "name": "Erin Gone", "text": text})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var posted apiPosted
	if err := res.decode(&posted); err != nil {
		t.Fatal(err)
	}
	admin.click("the moderation view", `.view-btn[data-view="queue"]`)
	admin.do("press 3", chromedp.KeyEvent("3"))
	item := fmt.Sprintf(`#queue .item[data-id="%d"]`, posted.Comment.ID)
	waitFor[bool](admin, "the comment in Unmoderated", `!!document.querySelector(`+jsString(item)+`)`)
	admin.click("the reader panel", item+` .reader-btn`)
	waitFor[bool](admin, "the reader panel", `!document.querySelector('#panel').hidden && document.querySelector('#panel-h').textContent === 'Erin Gone'`)
	eval[bool](admin, "click Erase", `([...document.querySelectorAll('#panel .actions button')].find((b) => b.textContent === 'Erase this reader…').click(), true)`)
	waitFor[bool](admin, "the erase confirmation", `document.querySelector('#confirm').open && document.querySelector('#confirm-ok').textContent === 'Erase Erin Gone'`)
	admin.click("confirm", `#confirm-ok`)
	waitFor[bool](admin, "the toast", `document.querySelector('#toasts').textContent.includes('Erased Erin Gone')`)

	res, err = srv.client().admin("GET", "/api/v1/admin/users/"+posted.Comment.Author.ID+"?site=demo", nil)
	if err != nil || res.Status != http.StatusNotFound {
		t.Errorf("the erased reader: %v %d %.200s", err, res.Status, res.Body)
	}
	res, err = srv.client().do("GET", "/api/v1/threads?site=demo&url="+srv.URL+"/demo", nil)
	if err != nil || !strings.Contains(string(res.Body), "a former reader") || strings.Contains(string(res.Body), "Erin Gone") {
		t.Errorf("the thread after erasure: %v %.400s", err, res.Body)
	}
	admin.checkNoErrors()
	mod.checkNoErrors()
	if v := violations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

// TestBrowserAdminErasureSetting: in Site settings an admin sees what
// erasing a reader does to the demo site's comments (kept, by "a former
// reader", until chosen otherwise), switches it to removing them, and the
// API, the audit log and the next erasure follow; a moderator does not get
// the form.
func TestBrowserAdminErasureSetting(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const password = "correct horse battery staple"
	addStaff(t, dataDir, "admin", "", "Ada Admin", "ada@example.com", password)
	addModerator(t, dataDir, "demo", "Mo", "mo@example.com", password)

	admin := newBrowser(t, chrome, "admin")
	violations := watchCSP(t, admin)
	signIn(admin, srv, "ada@example.com", password)
	admin.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](admin, "the erasure form", `!document.querySelector('#erasure-form').hidden && document.querySelector('#erasure-state').textContent.includes('a former reader')`)
	if v := eval[string](admin, "the checked mode", `document.querySelector('#erasure-form input[name=erasure]:checked').value`); v != "anonymise" {
		t.Errorf("the mode checked on a new site: %q", v)
	}
	admin.click("remove", `#erasure-form input[value=remove]`)
	admin.click("save", `#erasure-form button[type=submit]`)
	waitFor[bool](admin, "the saved state", `document.querySelector('#erasure-state').textContent.includes('removed, text and all')`)

	res, err := srv.client().admin("GET", "/api/v1/admin/sites/demo/erasure", nil)
	if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), `"erasure":"remove"`) {
		t.Fatalf("GET erasure: %v %d %s", err, res.Status, res.Body)
	}
	res, err = srv.client().admin("GET", "/api/v1/admin/sites/demo/audit", nil)
	if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), `"erasure":"remove"`) || !strings.Contains(string(res.Body), "Ada Admin") {
		t.Errorf("the audit log has no entry of the change by Ada: %v %d %.600s", err, res.Status, res.Body)
	}

	// The next erasure removes the reader's comment instead of keeping it.
	const text = "Remove my words with me."
	res, err = srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": srv.URL + "/demo", "name": "Rhea Gone", "text": text})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var posted apiPosted
	if err := res.decode(&posted); err != nil {
		t.Fatal(err)
	}
	res, err = srv.client().admin("DELETE", "/api/v1/admin/users/"+posted.Comment.Author.ID, nil)
	if err != nil || res.Status != 200 || !strings.Contains(string(res.Body), `"removed":1`) {
		t.Errorf("erase: %v %d %.300s", err, res.Status, res.Body)
	}
	res, err = srv.client().do("GET", "/api/v1/threads?site=demo&url="+srv.URL+"/demo", nil)
	if err != nil || strings.Contains(string(res.Body), text) {
		t.Errorf("the thread after the erasure still has the text: %v %.400s", err, res.Body)
	}

	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, "mo@example.com", password)
	mod.click("Site settings", `.view-btn[data-view="settings"]`)
	waitFor[bool](mod, "the policy form", `document.querySelector('#policy-form select[name=mode]').value !== ''`)
	if !eval[bool](mod, "the erasure form", `document.querySelector('#erasure-form').hidden`) {
		t.Errorf("a moderator sees the erasure form")
	}
	admin.checkNoErrors()
	mod.checkNoErrors()
	if v := violations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}
