package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserAdminRunsASite: an admin adds an allowed origin and renames
// the site in Site settings, reads the embed snippet for this server,
// invites a moderator (who signs in with the one-time password) and
// removes them again.
func TestBrowserAdminRunsASite(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const email, password = "boss@example.com", "correct horse battery staple"
	addAdmin(t, dataDir, "Boss", email, password)

	b := newBrowser(t, chrome, "admin")
	violations := watchCSP(t, b)
	signIn(b, srv, email, password)
	b.do("open settings", chromedp.Click(chromedp.CSS(`.view-btn[data-view=settings]`)))
	snippet := waitFor[string](b, "the embed snippet", `document.querySelector('#embed-snippet').textContent`)
	if want := `<script src="` + srv.URL + `/embed.js" data-site="demo" async></script>`; !strings.Contains(snippet, want) {
		t.Errorf("snippet %q, want %q", snippet, want)
	}
	eval[bool](b, "add an origin", `(() => { const o = document.querySelector('#site-form [name=origins]'); o.value += '\nhttps://gazette.example.com'; return true; })()`)
	b.do("rename and save",
		chromedp.SetValue(chromedp.CSS(`#site-form [name=name]`), "The Demo Gazette"),
		chromedp.Click(chromedp.CSS(`#site-form button[type=submit]`)),
	)
	waitFor[bool](b, "the saved toast", `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes('Site demo saved'))`)
	res, err := srv.client().do("GET", "/api/v1/admin/sites/demo/settings", nil, "Authorization", "Bearer "+adminToken)
	if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"https://gazette.example.com"`) || !strings.Contains(string(res.Body), "The Demo Gazette") {
		t.Errorf("settings after the save: %v %d %s", err, res.Status, res.Body)
	}
	res, err = srv.client().do("GET", "/api/v1/threads?site=demo&url="+srv.URL+"/demo", nil, "Origin", "https://gazette.example.com")
	if err != nil || res.Header.Get("Access-Control-Allow-Origin") != "https://gazette.example.com" {
		t.Errorf("the new origin is not allowed: %v %v", err, res.Header)
	}

	b.do("invite a moderator",
		chromedp.SendKeys(chromedp.CSS(`#invite-form [name=name]`), "Nadia Night"),
		chromedp.SendKeys(chromedp.CSS(`#invite-form [name=email]`), "nadia@example.com"),
		chromedp.Click(chromedp.CSS(`#invite-form button[type=submit]`)),
	)
	pw := waitFor[string](b, "the one-time password", `(() => { const c = document.querySelector('#invite-result .invite-password'); return c ? c.textContent : ''; })()`)
	waitFor[bool](b, "Nadia in the list", `!!document.querySelector('#staff-list tr[data-email="nadia@example.com"]')`)
	res, err = srv.client().do("POST", "/api/v1/admin/login", map[string]any{"email": "nadia@example.com", "password": pw})
	if err != nil || res.Status != http.StatusOK {
		t.Errorf("the invited moderator's sign-in: %v %d %s", err, res.Status, res.Body)
	}
	screenshot(t, b, "admin-site-settings.png")
	b.do("remove her", chromedp.Click(chromedp.CSS(`#staff-list tr[data-email="nadia@example.com"] .staff-remove`)))
	waitFor[bool](b, "Nadia gone", `!document.querySelector('#staff-list tr[data-email="nadia@example.com"]')`)
	res, err = srv.client().do("POST", "/api/v1/admin/login", map[string]any{"email": "nadia@example.com", "password": pw})
	if err != nil || res.Status != http.StatusUnauthorized {
		t.Errorf("the removed moderator's sign-in: %v %d, want 401", err, res.Status)
	}
	// Search: a comment found by its text, in whatever queue it is.
	for _, text := range []string{"The night bus timetable is a scandal", "Lovely weather for it"} {
		if res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": srv.URL + "/demo", "title": "Demo", "name": "Rita", "text": text}); err != nil || res.Status != http.StatusCreated {
			t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
		}
	}
	b.do("back to the queue", chromedp.Click(chromedp.CSS(`.view-btn[data-view=queue]`)))
	b.do("search", chromedp.SendKeys(chromedp.CSS(`#search-form [name=text]`), "TIMETABLE"), chromedp.Click(chromedp.CSS(`#search-form button[type=submit]`)))
	found := waitFor[string](b, "the search results", `(() => { const f = document.querySelector('#filters'); const items = [...document.querySelectorAll('#queue .item .text')]; return f && !f.hidden && items.length ? items.map((e) => e.textContent).join('|') : ''; })()`)
	if found != "The night bus timetable is a scandal" {
		t.Errorf("search found %q, want the one comment", found)
	}
	// Statistics: today's comments, and the decision on the held one an
	// overturn only if it reversed the rules.
	b.do("open statistics", chromedp.Click(chromedp.CSS(`.view-btn[data-view=stats]`)))
	today := time.Now().UTC().Format("2006-01-02")
	row := waitFor[string](b, "today's row", `(() => { const r = document.querySelector('#stats-days tr[data-day="`+today+`"]'); return r ? [...r.cells].map((c) => c.textContent).join(' ') : ''; })()`)
	if !strings.HasPrefix(row, today+" 2 ") {
		t.Errorf("today's row %q, want the 2 comments posted", row)
	}
	if summary := eval[string](b, "the summary", `document.querySelector('#stats-summary').textContent`); !strings.Contains(summary, "Overturn rate") || !strings.Contains(summary, "Held now") {
		t.Errorf("summary %q", summary)
	}
	screenshot(t, b, "admin-statistics.png")
	if v := violations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}

// addAdmin adds an admin account with `parley user add`.
func addAdmin(t *testing.T, dataDir, name, email, password string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "user", "add", "--role", "admin", "--name", name, "--email", email,
		"--password-file", pw, "--data", dataDir)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parley user add: %v\n%s", err, out)
	}
}
