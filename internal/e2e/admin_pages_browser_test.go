package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserModeratorClosesPage drives the Pages view on the real binary:
// a moderator finds the demo article, closes it with a note (the thread API
// says so and the next comment is refused, and a reader's widget shows the
// thread closed), then reopens it with a setting of its own, pre-moderation,
// from the override editor, and the next comment waits for review. The
// reader's widget, left open, follows the page's reopening and then the
// whole site's closing and reopening through its policy, without a reload.
func TestBrowserModeratorClosesPage(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const (
		email    = "mo@example.com"
		password = "correct horse battery staple"
	)
	addModerator(t, dataDir, "demo", "Mo", email, password)

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	title := eval[string](reader, "the article's title", `document.title`)
	post := func(text string) response {
		t.Helper()
		res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": title, "name": "Pat", "text": text})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := post("The first comment makes the page."); res.Status != http.StatusCreated {
		t.Fatalf("post: %d %.300s", res.Status, res.Body)
	}

	mod := newBrowser(t, chrome, "moderator")
	violations := watchCSP(t, mod)
	signIn(mod, srv, email, password)
	mod.do("open Pages", chromedp.Click(chromedp.CSS(`.view-btn[data-view=pages]`)))
	mod.do("search", chromedp.SendKeys(chromedp.CSS(`#pages-search input[name=q]`), "demo"), chromedp.KeyEvent("\r"))
	// The search's answer, not the view's first load, which may still be
	// on the screen: the hash names the search as it is sent, and the list
	// is busy until its answer is drawn.
	row := waitFor[string](mod, "the demo article in the list", `(() => {
		if (new URLSearchParams(location.hash.slice(1)).get('q') !== 'demo' || document.querySelector('#pages-list').hasAttribute('aria-busy')) return '';
		const r = [...document.querySelectorAll('#pages-list .page-row')].find((r) => r.textContent.includes(`+jsString(title)+`));
		return r ? r.dataset.id : '';
	})()`)
	sel := fmt.Sprintf(`#pages-list .page-row[data-id="%s"]`, row)
	if !strings.Contains(eval[string](mod, "the address", `location.hash`), "view=pages") {
		t.Error("the address does not keep the Pages view")
	}

	// Close, confirmed with a note. Every click in a row is made from the
	// page (browser.click): a row is drawn again after each change.
	mod.click("close comments", sel+" .close-toggle")
	waitFor[bool](mod, "the confirmation", `document.querySelector('#confirm').open && document.querySelector('#confirm-ok').textContent === 'Close comments'`)
	mod.do("give a note and confirm", chromedp.SendKeys(chromedp.CSS(`#confirm input[name=note]`), "court case pending"), chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	waitFor[bool](mod, "the row closed", `(() => { const r = document.querySelector(`+jsString(sel)+`); return !!r && r.dataset.closed === 'true' && r.querySelector('.close-toggle').textContent === 'Reopen comments'; })()`)
	if !eval[bool](mod, "focus on the toggle", `document.activeElement === document.querySelector(`+jsString(sel+" .close-toggle")+`)`) {
		t.Error("the focus left the toggle after closing")
	}
	screenshot(t, mod, "admin-pages.png")

	var th struct {
		Page struct {
			Closed bool `json:"closed"`
		} `json:"page"`
	}
	res, err := srv.client().do("GET", "/api/v1/threads?site=demo&url="+url.QueryEscape(demo), nil)
	if err != nil || res.Status != http.StatusOK || res.decode(&th) != nil || !th.Page.Closed {
		t.Fatalf("thread after closing: %v %d %.300s; want page.closed", err, res.Status, res.Body)
	}
	if res := post("Too late?"); res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "closed") {
		t.Errorf("post on the closed page: %d %.300s, want 403", res.Status, res.Body)
	}
	reader.open(demo)
	if got := waitFor[string](reader, "the closed notice", `(() => { const p = `+shadowRoot+`.querySelector('.parley-closed'); return p ? p.textContent : ''; })()`); !strings.Contains(got, "closed") {
		t.Errorf("widget notice %q", got)
	}

	// Reopen, and hold every comment on this page only.
	mod.click("reopen", sel+" .close-toggle")
	waitFor[bool](mod, "the row open", `(() => { const r = document.querySelector(`+jsString(sel)+`); return !!r && r.dataset.closed === 'false'; })()`)
	mod.click("open the editor", sel+" .override-btn")
	waitFor[bool](mod, "the editor, focused", `!!document.querySelector(`+jsString(sel+" .override-form")+`) && document.activeElement.name === 'mode'`)
	mod.do("a bad link limit", chromedp.SetValue(chromedp.CSS(sel+" .override-form [name=max_links]"), "5000"))
	mod.click("save", sel+" .override-form button[type=submit]")
	if msg := waitFor[string](mod, "the inline error", `(() => { const e = document.querySelector(`+jsString(sel+" .field-error")+`); return e ? e.textContent : ''; })()`); !strings.HasPrefix(msg, "max_links must be") {
		t.Errorf("inline error %q", msg)
	}
	mod.do("pre-moderate everything",
		chromedp.SetValue(chromedp.CSS(sel+" .override-form [name=max_links]"), ""),
		chromedp.SetValue(chromedp.CSS(sel+" .override-form [name=mode]"), "pre_all"))
	mod.click("save again", sel+" .override-form button[type=submit]")
	got := waitFor[string](mod, "the effective policy", `(() => { const d = document.querySelector(`+jsString(sel+" .effective .overridden dd")+`); return d ? d.textContent : ''; })()`)
	if got != "Pre-moderate everything (this page)" {
		t.Errorf("effective mode shown as %q", got)
	}
	screenshot(t, mod, "admin-page-override.png")
	if !eval[bool](mod, "the badge", `!!document.querySelector(`+jsString(sel+" .badge-override")+`)`) {
		t.Error("the row has no Own settings badge")
	}
	res = post("Held on this page.")
	var posted apiPosted
	if res.Status != http.StatusCreated || res.decode(&posted) != nil || posted.Status != "pending" {
		t.Errorf("post under the page's pre-moderation: %d %.300s, want 201 pending", res.Status, res.Body)
	}
	res, err = srv.client().admin("GET", "/api/v1/admin/sites/demo/pages?q=demo", nil)
	if err != nil || !strings.Contains(string(res.Body), `"override":true`) || !strings.Contains(string(res.Body), `"closed":false`) {
		t.Errorf("pages after the edits: %v %.300s", err, res.Body)
	}

	// The reader's widget has been open since the page was closed. It
	// learns from its stream that the page reopened (page.updated), then
	// that the site's policy closed and reopened every page (site.updated),
	// and draws the form or the notice each time; a mark left on the
	// window shows the page was never loaded again.
	eval[bool](reader, "mark the window", `window.parleyNoReload = true`)
	formShown := `(() => { const r = ` + shadowRoot + `; return !!r.querySelector('.parley-form-new') && !r.querySelector('.parley-closed') && !!window.parleyNoReload; })()`
	closedShown := `(() => { const p = ` + shadowRoot + `.querySelector('.parley-closed'); return !!p && !!window.parleyNoReload && p.textContent; })()`
	waitFor[bool](reader, "the form back after the page reopened", formShown)
	setSiteClosed := func(closed bool) {
		t.Helper()
		res, err := srv.client().admin("GET", "/api/v1/admin/sites/demo/policy", nil)
		var policy map[string]any
		if err != nil || res.Status != http.StatusOK || res.decode(&policy) != nil {
			t.Fatalf("GET policy: %v %d %.300s", err, res.Status, res.Body)
		}
		policy["closed"] = closed
		if res, err := srv.client().admin("PUT", "/api/v1/admin/sites/demo/policy", policy); err != nil || res.Status != http.StatusOK {
			t.Fatalf("PUT policy closed=%v: %v %d %.300s", closed, err, res.Status, res.Body)
		}
	}
	setSiteClosed(true)
	if got := waitFor[string](reader, "the closed notice after the site closed", closedShown); !strings.Contains(got, "closed") {
		t.Errorf("widget notice after the site closed: %q", got)
	}
	setSiteClosed(false)
	waitFor[bool](reader, "the form back after the site reopened", formShown)

	for _, m := range violations() {
		t.Errorf("moderator console: %s", m)
	}
	reader.checkNoErrors()
	mod.checkNoErrors()
	srv.checkAlive()
}
