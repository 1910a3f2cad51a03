package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserStarterPolicy is issue 14's point 3 on a fresh site: a
// disguised slur is refused and a classic hateful phrase held, through the
// widget; the moderator sees the starter lists in the admin UI and switches
// the starter policy off, which changes that setting alone.
func TestBrowserStarterPolicy(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const email, password = "mo@example.com", "a long enough password"
	addModerator(t, dataDir, "demo", "Mo", email, password)

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	post := func(text string) {
		reader.do("post "+text,
			chromedp.SetValue(inWidget(".parley-form-new input[name=name]"), "Rex"),
			chromedp.SetValue(inWidget(".parley-form-new textarea[name=text]"), text),
			chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
		)
	}
	post("Typical muzzies, ruining the town.")
	nudge := waitFor[string](reader, "the refusal", `(() => { const n = `+shadowRoot+`.querySelector('.parley-form-new .parley-nudge'); return n && !n.hidden ? n.textContent : ''; })()`)
	if !strings.HasPrefix(nudge, "Your comment can't be posted as it is: it uses language this site does not allow.") || strings.Contains(nudge, "muzzie") {
		t.Errorf("disguised slur on a fresh site: nudge %q", nudge)
	}
	post("Go back to your own country.")
	reader.do("post anyway", chromedp.Click(inWidget(".parley-form-new .parley-nudge-post")))
	held := waitFor[string](reader, "the held notice", shadowRoot+`.querySelector('.parley-form-new .parley-notice').textContent`)
	if !strings.HasPrefix(held, "Your comment is held for review by a moderator.") {
		t.Errorf("hateful phrase on a fresh site: notice %q, want it held", held)
	}

	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, email, password)
	mod.click("settings", `.view-btn[data-view=settings]`)
	waitFor[bool](mod, "the policy in the form", `document.querySelector('#policy-form').dataset.site === 'demo'`)
	if on := eval[bool](mod, "starter checkbox", `document.querySelector('#policy-form [name=starter_policy]').checked`); !on {
		t.Error("the starter policy is not on for a fresh site")
	}
	mod.click("the starter lists", `#starter summary`)
	lists := waitFor[string](mod, "the lists", `document.querySelector('#starter-lists').textContent`)
	for _, w := range []string{"muzzie", "go back to your own country", "muslim"} {
		if !strings.Contains(lists, w) {
			t.Errorf("the starter lists shown lack %q", w)
		}
	}
	mod.click("switch it off", `#policy-form [name=starter_policy]`)
	mod.click("save", `#policy-form button[type=submit]`)
	waitFor[bool](mod, "the saved toast", `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes('saved'))`)
	var policy struct {
		Starter bool `json:"starter_policy"`
		Mode    string
	}
	res, err := srv.client().admin("GET", "/api/v1/admin/sites/demo/policy", nil)
	if err != nil || res.decode(&policy) != nil || policy.Starter {
		t.Fatalf("after switching it off: %v %d %.300s", err, res.Status, res.Body)
	}
	res, err = srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": "T", "name": "Rex", "text": "Go back to your own country, he shouted."})
	if err != nil || res.Status != http.StatusCreated || !strings.Contains(string(res.Body), `"status":"approved"`) {
		t.Errorf("with the starter policy off: %v %d %.300s, want published", err, res.Status, res.Body)
	}
	screenshot(t, mod, "admin-starter-policy.png")
	reader.checkNoErrors()
	mod.checkNoErrors()
	srv.checkAlive()
}
