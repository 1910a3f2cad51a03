package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserBanEvasion: a reader is banned, deletes their cookie (a new
// client, the same address) and posts again under another name. The
// comment is held, not published; the moderator's pending queue says who
// it likely is, with a link that opens the banned reader's panel; the ban
// dialog says what a ban keeps and for how long.
func TestBrowserBanEvasion(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const (
		email    = "mo@example.com"
		password = "correct horse battery staple"
		author   = "Vic Venom"
	)
	addModerator(t, dataDir, "demo", "Mo", email, password)

	post := func(c *client, name, text string) apiPosted {
		t.Helper()
		res, err := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": "Demo", "name": name, "text": text})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
		}
		var p apiPosted
		if err := res.decode(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := post(srv.client(), author, "The council should be ashamed of this timetable and so should you all")
	if first.Status != "approved" {
		t.Fatalf("first comment %s, want approved", first.Status)
	}
	res, err := srv.client().do("POST", "/api/v1/admin/users/"+first.Comment.Author.ID+"/sanction",
		map[string]any{"site": "demo", "action": "ban"}, "Authorization", "Bearer "+adminToken)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("ban: %v %d %.300s", err, res.Status, res.Body)
	}

	// No cookie, a new name: a new reader as far as cookies go.
	again := post(srv.client(), "Victoria", "Back again with a fresh cookie and nothing to hide")
	if again.Status != "pending" {
		t.Fatalf("the comment posted without the cookie is %s, want pending", again.Status)
	}

	mod := newBrowser(t, chrome, "moderator")
	violations := watchCSP(t, mod)
	signIn(mod, srv, email, password)
	mod.do("press 1", chromedp.KeyEvent("1"))
	item := fmt.Sprintf(`#queue .item[data-id="%d"]`, again.Comment.ID)
	why := waitFor[string](mod, "the held comment's reasons", `(() => { const el = document.querySelector(`+jsString(item+" .reasons")+`); return el ? el.textContent : ''; })()`)
	if !strings.Contains(why, "ban_evasion") || !strings.Contains(why, `banned reader "`+author+`"`) || !strings.Contains(why, "same network address") {
		t.Errorf("the reasons say %q", why)
	}
	screenshot(t, mod, "admin-ban-evasion.png")
	mod.do("open the banned reader", chromedp.Click(chromedp.CSS(item+" .banned-link")))
	heading := waitFor[string](mod, "the banned reader's panel", `(() => { const p = document.querySelector('#panel'); return !p.hidden && p.querySelector('.history') ? document.querySelector('#panel-h').textContent : ''; })()`)
	if heading != author {
		t.Errorf("the link opened the panel of %q, want %q", heading, author)
	}
	kept := eval[string](mod, "the ban dialog's notice", `document.querySelector('#ban-kept').textContent`)
	for _, want := range []string{"keyed hash", "IPv6 /64", "30 days", "ban's length"} {
		if !strings.Contains(kept, want) {
			t.Errorf("the ban dialog does not say %q: %q", want, kept)
		}
	}
	if v := violations(); len(v) > 0 {
		t.Errorf("CSP violations: %v", v)
	}
}
