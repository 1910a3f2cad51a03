package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserModeratorApprovesWithKeyboard is issue 3's browser scenario on
// the real binary: a reader has the demo article's thread open; another
// reader's comment is held by the site's suspect-word list; a moderator, in a
// second browser, signs in at /admin, sees the held comment with its reason
// and the evidence word in a <mark>, approves it by pressing "a", and the
// comment appears in the first reader's open thread without a reload.
func TestBrowserModeratorApprovesWithKeyboard(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const (
		email    = "mo@example.com"
		password = "correct horse battery staple"
		word     = "scum"
		text     = "Whoever keeps parking on the tram tracks is scum, and the council should tow them."
		author   = "Held Reader"
	)

	addModerator(t, dataDir, "demo", "Mo", email, password)

	// The site holds comments with a suspect word, with evidence.
	api := srv.client()
	var policy map[string]any
	res, err := api.admin("GET", "/api/v1/admin/sites/demo/policy", nil)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("GET policy: %v %d %.300s", err, res.Status, res.Body)
	}
	if err := res.decode(&policy); err != nil {
		t.Fatal(err)
	}
	policy["suspect_words"] = []string{word}
	if res, err := api.admin("PUT", "/api/v1/admin/sites/demo/policy", policy); err != nil || res.Status != http.StatusOK {
		t.Fatalf("PUT policy: %v %d %.300s", err, res.Status, res.Body)
	}

	// Reader A has the thread open.
	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	title := eval[string](reader, "the article's title", `document.title`)
	eval[bool](reader, "mark the page", `(window.parleyNoReload = true)`)

	// Reader B's comment is held.
	res, err = srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": title, "name": author, "text": text})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var posted struct {
		Comment struct {
			ID int64 `json:"id"`
		} `json:"comment"`
		Status  string `json:"status"`
		Reasons []struct {
			Rule  string `json:"rule"`
			Point string `json:"point"`
			Spans []struct {
				Start, End int
			} `json:"spans"`
		} `json:"reasons"`
	}
	if err := res.decode(&posted); err != nil {
		t.Fatal(err)
	}
	// The author is told the policy point; the evidence is the moderator's.
	if posted.Status != "pending" || len(posted.Reasons) == 0 || posted.Reasons[0].Point != "words" || len(posted.Reasons[0].Spans) != 0 {
		t.Fatalf("the comment was not held with the point (and no evidence) for its author: %s", res.Body)
	}
	id := posted.Comment.ID
	if got := eval[int64](reader, "the held comment before approval", commentWithText(text)); got != 0 {
		t.Fatalf("reader A sees the held comment %d before any moderator did", got)
	}

	// The moderator signs in at /admin in a browser of their own.
	mod := newBrowser(t, chrome, "moderator")
	violations := watchCSP(t, mod)
	signIn(mod, srv, email, password)
	item := fmt.Sprintf(`#queue .item[data-id="%d"]`, id)
	waitFor[bool](mod, "the held comment in the Pending queue", `!!document.querySelector(`+jsString(item)+`)`)

	type view struct {
		Tab      string   `json:"tab"`
		Text     string   `json:"text"`
		Marks    []string `json:"marks"`
		Reasons  string   `json:"reasons"`
		Author   string   `json:"author"`
		Page     string   `json:"page"`
		Selected bool     `json:"selected"`
	}
	v := eval[view](mod, "the queue item", `(() => {
		const it = document.querySelector(`+jsString(item)+`);
		const q = (s) => it.querySelector(s);
		return {
			tab: document.querySelector('.tab[aria-selected=true]').textContent,
			text: q('.text').textContent,
			marks: [...it.querySelectorAll('.text mark')].map((m) => m.textContent),
			reasons: q('.reasons').textContent,
			author: q('.author').textContent,
			page: q('.page-link') ? q('.page-link').getAttribute('href') : '',
			selected: it.getAttribute('aria-current') === 'true',
		};
	})()`)
	if !strings.HasPrefix(v.Tab, "Pending") || !strings.Contains(v.Tab, "1") {
		t.Errorf("selected tab %q, want Pending with a count of 1", v.Tab)
	}
	if v.Text != text {
		t.Errorf("item text %q, want the comment as written %q", v.Text, text)
	}
	// The UI marks exactly the evidence the server returned for all the
	// reasons, once each, in the text's order, and the word that made the
	// comment toxic is among it.
	var spans []struct{ Start, End int }
	// The evidence the moderator's API gives for the comment.
	var queue struct {
		Comments []struct {
			ID      int64 `json:"id"`
			Reasons []struct {
				Spans []struct{ Start, End int } `json:"spans"`
			} `json:"reasons"`
		} `json:"comments"`
	}
	if qr, err := srv.client().admin("GET", "/api/v1/admin/queue?site=demo&status=pending", nil); err != nil || qr.decode(&queue) != nil || len(queue.Comments) == 0 {
		t.Fatalf("GET queue: %v %.300s", err, qr.Body)
	}
	for _, r := range queue.Comments[0].Reasons {
		for _, sp := range r.Spans {
			if !slices.Contains(spans, sp) {
				spans = append(spans, sp)
			}
		}
	}
	slices.SortFunc(spans, func(a, b struct{ Start, End int }) int { return a.Start - b.Start })
	var want []string
	for _, sp := range spans {
		want = append(want, string([]rune(text)[sp.Start:sp.End]))
	}
	if !slices.Equal(v.Marks, want) || !slices.ContainsFunc(v.Marks, func(m string) bool { return strings.EqualFold(m, word) }) {
		t.Errorf("highlighted evidence %q, want the returned spans %q, %q among them", v.Marks, want, word)
	}
	if !strings.Contains(v.Reasons, posted.Reasons[0].Rule) {
		t.Errorf("reasons %q do not name the rule %q", v.Reasons, posted.Reasons[0].Rule)
	}
	if v.Author != author || v.Page != demo {
		t.Errorf("item by %q on %q, want %q on %q", v.Author, v.Page, author, demo)
	}
	if !v.Selected {
		t.Error("the only item is not selected")
	}
	screenshot(t, mod, "admin-queue.png")

	// Approve it with the keyboard: one key, no pointer.
	mod.do("press a", chromedp.KeyEvent("a"))
	waitFor[bool](mod, "the item to leave the queue", `!document.querySelector(`+jsString(item)+`)`)
	toast := waitFor[string](mod, "the confirmation toast", `(() => { const t = document.querySelector('#toasts .toast'); return t ? t.textContent : ''; })()`)
	if !strings.HasPrefix(toast, "Approved") {
		t.Errorf("toast %q, want an approval", toast)
	}
	waitFor[bool](mod, "the pending count to drop", `document.querySelector('.tab[data-queue=pending] .count').textContent === '0'`)

	// The comment reaches the reader's open thread, announced and shown on
	// request, without a reload.
	label := waitFor[string](reader, "the new-comments button", `(() => { const b = `+shadowRoot+`.querySelector('.parley-new-btn'); return b && !b.hidden ? b.textContent : ''; })()`)
	if !strings.Contains(label, "1 new comment") {
		t.Errorf("new-comments button says %q, want 1 new comment", label)
	}
	reader.do("show the new comment", chromedp.Click(inWidget(".parley-new-btn")))
	if got := waitFor[int64](reader, "the approved comment in the open thread", commentWithText(text)); got != id {
		t.Errorf("reader sees comment %d, want %d", got, id)
	}
	if !eval[bool](reader, "the page was not reloaded", `window.parleyNoReload === true`) {
		t.Error("the reader's page was reloaded")
	}

	// New held comments reach the open queue without a reload: into the
	// empty list at once, then behind "N new — show" so that the list does
	// not move under the moderator.
	postHeld := func(text string) int64 {
		t.Helper()
		res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": title, "name": author, "text": text})
		if err != nil || res.Status != http.StatusCreated || res.decode(&posted) != nil || posted.Status != "pending" {
			t.Fatalf("post %q: %v %d %.300s; want it held", text, err, res.Status, res.Body)
		}
		return posted.Comment.ID
	}
	second := postHeld("Second thoughts: the scum on the tram tracks are the parked cars themselves.")
	item2 := fmt.Sprintf(`#queue .item[data-id="%d"]`, second)
	waitFor[bool](mod, "the second held comment, live and selected", `(() => { const it = document.querySelector(`+jsString(item2)+`); return !!it && it.getAttribute('aria-current') === 'true'; })()`)
	third := postHeld("And a third time: scum, all of them, towed by noon.")
	bar := waitFor[string](mod, "the new-items bar", `(() => { const b = document.querySelector('#new-bar'); return b && !b.hidden ? b.textContent : ''; })()`)
	if bar != "1 new comment — show" {
		t.Errorf("new-items bar says %q, want 1 new comment — show", bar)
	}
	mod.do("show the new item", chromedp.Click(chromedp.CSS(`#new-bar`)))
	waitFor[bool](mod, "the third comment in the list", `!!document.querySelector(`+jsString(fmt.Sprintf(`#queue .item[data-id="%d"]`, third))+`)`)
	if sel := eval[string](mod, "the selection", `document.querySelector('#queue .item[aria-current=true]').dataset.id`); sel != fmt.Sprint(second) {
		t.Errorf("selected item %s after showing new items, want %d still", sel, second)
	}

	// x ticks both for a bulk action; r rejects them after a confirmation.
	// The third comment went where its priority put it: above or below.
	move := "j"
	if eval[bool](mod, "is the selection last", `!document.querySelector('#queue .item[aria-current=true]').nextElementSibling`) {
		move = "k"
	}
	mod.do("tick both and reject", chromedp.KeyEvent("x"), chromedp.KeyEvent(move), chromedp.KeyEvent("x"), chromedp.KeyEvent("r"))
	waitFor[bool](mod, "the bulk confirmation", `document.querySelector('#confirm').open && document.querySelector('#confirm-ok').textContent === 'Reject 2'`)
	mod.do("confirm", chromedp.KeyEvent("\r"))
	waitFor[bool](mod, "an empty Pending queue", `document.querySelectorAll('#queue .item').length === 0 && !document.querySelector('#empty').hidden`)
	for _, c := range []int64{second, third} {
		res, err := api.admin("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", c), nil)
		if err != nil || !strings.Contains(string(res.Body), `"reject"`) {
			t.Errorf("audit of %d after the bulk rejection: %v %.300s", c, err, res.Body)
		}
	}

	// The audit trail names the moderator.
	res, err = api.admin("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", id), nil)
	if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"Mo"`) || !strings.Contains(string(res.Body), "approve") {
		t.Errorf("audit of %d: %v %d %.500s; want Mo's approval", id, err, res.Status, res.Body)
	}

	for _, m := range violations() {
		t.Errorf("moderator console: %s", m)
	}
	reader.checkNoErrors()
	mod.checkNoErrors()
	srv.checkAlive()
}

// signIn opens /admin and signs in with the form.
func signIn(b *browser, srv *instance, email, password string) {
	b.t.Helper()
	b.do("open /admin", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
	b.do("sign in",
		chromedp.SendKeys(chromedp.CSS(`#signin-form input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`#signin-form input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`#signin-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shell`)),
	)
}

// addModerator creates a moderator account with `parley user add` on the
// server's data directory.
func addModerator(t *testing.T, dataDir, site, name, email, password string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Binary(t), "user", "add", "--role", "moderator", "--site", site, "--name", name, "--email", email,
		"--password-file", pw, "--data", dataDir)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parley user add: %v\n%s", err, out)
	}
}

// watchCSP collects what the browser reports about the Content-Security-
// Policy (violations are log entries, not exceptions) and returns a function
// giving the messages so far.
func watchCSP(t *testing.T, b *browser) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	msgs := chromedp.Console(b.ctx)
	go func() { // ends with the browser's context, at the end of the test
		for m, err := range msgs {
			if err != nil {
				return
			}
			if s := m.String(); strings.Contains(s, "Content Security Policy") || strings.Contains(s, "Refused to") {
				mu.Lock()
				got = append(got, s)
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// screenshot saves a picture of the page for a person to look at, in
// $PARLEY_E2E_ARTIFACTS or the test's temporary directory.
func screenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	dir := os.Getenv("PARLEY_E2E_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// TestBrowserModeratorTools drives the rest of the moderator UI against the
// real API: featuring a published comment pins it in a reader's open
// thread, the reader panel shows the author's record and takes a note, the
// ban dialog bans them (their next comment is refused), and the settings
// form shows the server's validation error beside the field and saves.
func TestBrowserModeratorTools(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const (
		email    = "mo@example.com"
		password = "correct horse battery staple"
		text     = "The timetable change is good news for anyone on the night shift."
		author   = "Carla Commuter"
		note     = "Helpful regular; check before sanctioning."
	)
	addModerator(t, dataDir, "demo", "Mo", email, password)

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	title := eval[string](reader, "the article's title", `document.title`)

	carla := srv.client()
	res, err := carla.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": title, "name": author, "text": text})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var posted apiPosted
	if err := res.decode(&posted); err != nil {
		t.Fatal(err)
	}
	if posted.Status != "approved" {
		t.Fatalf("a plain comment was %s, want approved: %s", posted.Status, res.Body)
	}
	id := posted.Comment.ID
	reader.do("show the new comment", chromedp.WaitVisible(inWidget(".parley-new-btn")), chromedp.Click(inWidget(".parley-new-btn")))
	waitFor[int64](reader, "Carla's comment in the open thread", commentWithText(text))

	mod := newBrowser(t, chrome, "moderator")
	violations := watchCSP(t, mod)
	signIn(mod, srv, email, password)
	item := fmt.Sprintf(`#queue .item[data-id="%d"]`, id)

	// Published and never seen: the Unmoderated queue, key 3.
	mod.do("press 3", chromedp.KeyEvent("3"))
	waitFor[bool](mod, "the comment in Unmoderated", `!!document.querySelector(`+jsString(item)+`) && document.querySelector('.tab[aria-selected=true]').dataset.queue === 'unmoderated'`)

	// f features it; the reader's open thread pins it.
	mod.do("press f", chromedp.KeyEvent("f"))
	waitFor[bool](mod, "the Featured badge", `!!document.querySelector(`+jsString(item+" .badge-featured")+`)`)
	pinned := fmt.Sprintf(`.parley-featured-comment[data-id="%d"]`, id)
	if !waitFor[bool](reader, "the pinned comment in the open thread", `(() => { const f = `+shadowRoot+`.querySelector('.parley-featured'); return !!f && !f.hidden && !!f.querySelector(`+jsString(pinned)+`); })()`) {
		t.Error("the featured comment is not pinned in the reader's thread")
	}

	// u opens the reader panel: the record, and a note added from it.
	mod.do("press u", chromedp.KeyEvent("u"))
	heading := waitFor[string](mod, "the reader panel", `(() => { const p = document.querySelector('#panel'); return !p.hidden && p.querySelector('.history') ? document.querySelector('#panel-h').textContent : ''; })()`)
	if heading != author {
		t.Errorf("reader panel for %q, want %q", heading, author)
	}
	approved := eval[string](mod, "approved count", `document.querySelector('#panel .history dd').textContent`)
	if approved != "1" {
		t.Errorf("reader panel shows %s approved, want 1", approved)
	}
	mod.do("add a note",
		chromedp.SendKeys(chromedp.CSS(`#panel .note-form textarea`), note),
		chromedp.Click(chromedp.CSS(`#panel .note-form button[type=submit]`)),
	)
	waitFor[bool](mod, "the note in the panel", `[...document.querySelectorAll('#panel .notes .note-text')].some((n) => n.textContent === `+jsString(note)+`)`)
	screenshot(t, mod, "admin-reader-panel.png")
	mod.do("close the panel", chromedp.KeyEvent("\x1b"))

	// Clicking the page filters the queue by it, shown as a removable chip.
	mod.do("filter by page", chromedp.Click(chromedp.CSS(item+" .page-filter")))
	chip := waitFor[string](mod, "the page filter chip", `(() => { const f = document.querySelector('#filters'); return f && !f.hidden ? f.textContent : ''; })()`)
	if !strings.Contains(chip, "Page: "+title) {
		t.Errorf("filter chip %q, want Page: %s", chip, title)
	}
	waitFor[bool](mod, "the comment in the filtered queue", `location.hash.includes('page=') && !!document.querySelector(`+jsString(item)+`)`)
	// Focused from the page, and again until it holds: the filtered queue
	// may render once more after the hash change, replacing the node a
	// DevTools focus would have found.
	waitFor[bool](mod, "the item focused", `(() => { const el = document.querySelector(`+jsString(item)+`); if (!el) return false; el.focus(); return document.activeElement === el; })()`)

	// b bans the author after asking how long; their next comment is refused.
	mod.do("press b", chromedp.KeyEvent("b"))
	waitFor[bool](mod, "the ban dialog", `document.querySelector('#ban').open`)
	mod.do("choose permanent", chromedp.Click(chromedp.CSS(`#ban input[value=permanent]`)))
	if label := eval[string](mod, "the ban button", `document.querySelector('#ban-ok').textContent`); label != "Ban "+author+" permanently" {
		t.Errorf("ban button says %q", label)
	}
	mod.do("confirm the ban", chromedp.Click(chromedp.CSS(`#ban-ok`)))
	waitFor[bool](mod, "the ban toast", `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes('banned permanently'))`)
	res, err = carla.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": title, "name": author, "text": "One more thought on the timetable."})
	if err != nil || res.Status != http.StatusForbidden {
		t.Errorf("banned reader's comment: %v %d %.300s; want 403", err, res.Status, res.Body)
	}

	// Site settings: the server's error beside its field, then a save.
	mod.do("open settings", chromedp.Click(chromedp.CSS(`.view-btn[data-view=settings]`)))
	waitFor[bool](mod, "the policy in the form", `document.querySelector('#policy-form').dataset.site === 'demo' && document.querySelector('#policy-form [name=mode]').value === 'post'`)
	mod.do("an out-of-range link limit",
		chromedp.SetValue(chromedp.CSS(`#policy-form [name=max_links]`), "5000"),
		chromedp.Click(chromedp.CSS(`#policy-form button[type=submit]`)),
	)
	msg := waitFor[string](mod, "the inline error", `(() => { const e = document.querySelector('#policy-form .field-error'); return e ? e.previousElementSibling.querySelector('[name]').name + ': ' + e.textContent : ''; })()`)
	if !strings.HasPrefix(msg, "max_links: max_links must be") {
		t.Errorf("inline error %q, want it under max_links", msg)
	}
	// Meanwhile someone else changes a setting the form shows but this
	// moderator leaves alone: saving sends only what was edited (PATCH), so
	// it is kept, not overwritten by the form's stale copy.
	if res, err := srv.client().do("PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"report_threshold": 9},
		"Authorization", "Bearer "+adminToken, "Content-Type", "application/merge-patch+json"); err != nil || res.Status != http.StatusOK {
		t.Fatalf("PATCH report_threshold: %v %d %.300s", err, res.Status, res.Body)
	}
	mod.do("a valid policy",
		chromedp.SetValue(chromedp.CSS(`#policy-form [name=max_links]`), "2"),
		chromedp.SetValue(chromedp.CSS(`#policy-form [name=banned_words]`), "spamword\n  \nscamword"),
		chromedp.Click(chromedp.CSS(`#policy-form button[type=submit]`)),
	)
	waitFor[bool](mod, "the saved toast", `[...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes('saved'))`)
	var policy struct {
		MaxLinks    int      `json:"max_links"`
		BannedWords []string `json:"banned_words"`
		Mode        string   `json:"mode"`
		Reports     int      `json:"report_threshold"`
	}
	res, err = srv.client().admin("GET", "/api/v1/admin/sites/demo/policy", nil)
	if err != nil || res.decode(&policy) != nil {
		t.Fatalf("GET policy: %v %d %.300s", err, res.Status, res.Body)
	}
	if policy.MaxLinks != 2 || strings.Join(policy.BannedWords, ",") != "spamword,scamword" || policy.Mode != "post" {
		t.Errorf("saved policy %+v, want max_links 2, banned spamword and scamword, mode post", policy)
	}
	if policy.Reports != 9 {
		t.Errorf("saving the form reset report_threshold to %d; want the 9 set meanwhile kept (the form must PATCH only its edits)", policy.Reports)
	}
	screenshot(t, mod, "admin-settings.png")

	// Signing out revokes the session: the page asks to sign in, and the
	// cookie no longer opens the API.
	mod.do("sign out", chromedp.Click(chromedp.CSS(`#signout`)), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
	ctx, cancel := context.WithTimeout(mod.ctx, 30*time.Second)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/admin/me').then((r) => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || st != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/admin/me after signing out = %d (%v), want 401", st, err)
	}

	for _, m := range violations() {
		t.Errorf("moderator console: %s", m)
	}
	reader.checkNoErrors()
	mod.checkNoErrors()
	srv.checkAlive()
}
