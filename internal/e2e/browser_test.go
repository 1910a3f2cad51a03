package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// browser is one reader's Chromium: its own process and profile, so its own
// cookies and storage.
type browser struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu     sync.Mutex
	errors []string // uncaught exceptions on the page
}

// newBrowser starts a headless Chromium with a fresh profile. The whole
// session is bounded so a wedged browser cannot hang the test run.
func newBrowser(t *testing.T, chrome, name string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 1400),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "disable-background-networking", "disable-component-update", "disable-sync", "disable-dev-shm-usage"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	life, cancelLife := context.WithTimeout(context.Background(), 3*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelLife() })
	b := &browser{t: t, name: name, ctx: ctx}
	// The first action on ctx launches the browser; it must not run under a
	// shorter-lived child context, whose end would close the tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: start %s: %v", name, chrome, err)
	}
	chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			b.mu.Lock()
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		}
	})
	return b
}

// do runs steps with a 30 s limit, failing the test with what was attempted.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// click clicks the element css names from inside the page, polling until
// it is there, enabled and not covered at its centre (where a pointer would
// land). The element is found and clicked in one evaluation: chromedp.Click
// resolves a node and clicks it in later round trips, so a list drawn again
// in between leaves it holding a node that is gone ("Could not find node
// with given id"). Like a pointer, it focuses the element first.
func (b *browser) click(what, css string) {
	b.t.Helper()
	waitFor[bool](b, what, `(() => {
		const el = document.querySelector(`+jsString(css)+`);
		if (!el || el.disabled) return false;
		el.scrollIntoView({ block: 'nearest' });
		const r = el.getBoundingClientRect();
		if (!r.width || !r.height) return false;
		const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!at || !el.contains(at)) return false;
		el.focus();
		el.click();
		return true;
	})()`)
}

// eval evaluates a JavaScript expression into v, within 30 s.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	return v
}

// waitFor polls a JavaScript expression until it is truthy, for up to 20 s,
// and returns its value.
func waitFor[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 25*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		b.t.Fatalf("%s: waiting for %s: %v", b.name, what, err)
	}
	return v
}

// open loads the demo page and waits until the widget has drawn the thread.
func (b *browser) open(pageURL string) {
	b.t.Helper()
	b.do("open "+pageURL, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`#parley[data-parley-state="ready"]`)))
}

// checkNoErrors fails the test if the page threw an uncaught exception.
func (b *browser) checkNoErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("%s: uncaught exception on the page: %s", b.name, e)
	}
}

// shadowRoot is the widget's open shadow root on the demo page.
const shadowRoot = `document.querySelector('#parley').shadowRoot`

// inWidget selects the first element matching a CSS selector inside the
// widget's shadow root.
func inWidget(css string) chromedp.JSPath {
	return chromedp.JSPath(shadowRoot + `.querySelector(` + jsString(css) + `)`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// commentWithText is a JavaScript expression giving the id of the comment
// whose own body contains text, or 0.
func commentWithText(text string) string {
	return `(() => {
		for (const el of ` + shadowRoot + `.querySelectorAll('.parley-comment')) {
			const body = el.querySelector(':scope > .parley-main .parley-body');
			if (body && body.textContent.includes(` + jsString(text) + `)) return +el.dataset.id;
		}
		return 0;
	})()`
}

// TestBrowserQuoteReportReject is issue 2's browser scenario on the real
// binary's demo page: reader A posts through the widget; reader B, in another
// browser, quotes A in a reply and reports A's comment; a moderator rejects it
// through the admin API; after a reload, A's text is gone and B's reply shows
// the removed-quote placeholder.
func TestBrowserQuoteReportReject(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	const (
		textA  = "The new tram line will cut my commute in half, finally."
		textB  = "Only if they keep the night service running as promised."
		nameA  = "Ann Reader"
		nameB  = "Bob Reader"
		noteB  = "Second-hand claims presented as fact."
		reason = "off_topic"
	)

	a := newBrowser(t, chrome, "reader A")
	a.open(demo)
	a.do("post a comment",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), nameA),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), textA),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	idA := waitFor[int64](a, "A's comment in the thread", commentWithText(textA))
	if n := eval[string](a, "A's number", shadowRoot+`.querySelector('#parley-c-`+fmt.Sprint(idA)+` .parley-number').textContent`); n != "#1" {
		t.Errorf("A's comment is numbered %q, want #1", n)
	}

	b := newBrowser(t, chrome, "reader B")
	b.open(demo)
	cA := fmt.Sprintf("#parley-c-%d > .parley-main", idA)
	if got := waitFor[int64](b, "A's comment for B", commentWithText(textA)); got != idA {
		t.Fatalf("B sees A's comment as %d, A posted %d", got, idA)
	}
	b.do("quote A",
		chromedp.Click(inWidget(cA+" .parley-quote-btn")),
		chromedp.WaitVisible(inWidget(".parley-form-quote")),
		chromedp.SendKeys(inWidget(".parley-form-quote input[name=name]"), nameB),
		chromedp.SendKeys(inWidget(".parley-form-quote textarea[name=text]"), textB),
		chromedp.Click(inWidget(".parley-form-quote button[type=submit]")),
	)
	idB := waitFor[int64](b, "B's reply in the thread", commentWithText(textB))
	quoted := eval[string](b, "B's quote", shadowRoot+`.querySelector('#parley-c-`+fmt.Sprint(idB)+` .parley-quote').textContent`)
	if !strings.Contains(quoted, textA) || !strings.Contains(quoted, "#1") {
		t.Errorf("B's reply quotes %q; want A's text and #1", quoted)
	}

	b.do("report A",
		chromedp.Click(inWidget(cA+" .parley-report-btn")),
		chromedp.WaitVisible(inWidget("dialog.parley-report")),
		chromedp.Click(inWidget(`dialog.parley-report input[name=reason][value=`+reason+`]`)),
		chromedp.SendKeys(inWidget("dialog.parley-report textarea[name=note]"), noteB),
		chromedp.Click(inWidget("dialog.parley-report button[type=submit]")),
	)
	thanks := waitFor[string](b, "the thank-you message", `(() => { const t = `+shadowRoot+`.querySelector('.parley-thanks'); return t && !t.hidden && t.textContent; })()`)
	if !strings.Contains(thanks, "Thank you") {
		t.Errorf("after the report the dialog says %q, want a thank-you", thanks)
	}

	// The report reached the moderators, with B's reason and note.
	mod := srv.client()
	res, err := mod.admin("GET", "/api/v1/admin/queue?site=demo&status=reported", nil)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("reported queue: %v %d %.300s", err, res.Status, res.Body)
	}
	var queue struct {
		Comments []struct {
			ID      int64 `json:"id"`
			Reports []struct {
				Reason string `json:"reason"`
				Note   string `json:"note"`
			} `json:"reports"`
		} `json:"comments"`
	}
	if err := res.decode(&queue); err != nil {
		t.Fatal(err)
	}
	if len(queue.Comments) != 1 || queue.Comments[0].ID != idA || len(queue.Comments[0].Reports) != 1 ||
		queue.Comments[0].Reports[0].Reason != reason || queue.Comments[0].Reports[0].Note != noteB {
		t.Fatalf("reported queue = %s; want comment %d reported once for %s with B's note", res.Body, idA, reason)
	}

	res, err = mod.admin("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", idA), map[string]any{"action": "reject", "note": "reported by a reader"})
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("reject: %v %d %.300s", err, res.Status, res.Body)
	}

	b.open(demo)
	type view struct {
		Text         bool   `json:"text"`         // A's text appears anywhere in the widget
		Present      bool   `json:"present"`      // A's comment element is there
		Placeholder  bool   `json:"placeholder"`  // …as "This comment was removed."
		Reply        bool   `json:"reply"`        // B's reply is shown
		QuoteRemoved string `json:"quoteRemoved"` // B's reply's removed-quote placeholder
		Count        string `json:"count"`
	}
	v := eval[view](b, "the thread after the rejection", `(() => {
		const r = `+shadowRoot+`;
		const a = r.querySelector('#parley-c-`+fmt.Sprint(idA)+`');
		const b = r.querySelector('#parley-c-`+fmt.Sprint(idB)+`');
		const q = b && b.querySelector('.parley-quote-removed');
		const ph = a && a.querySelector(':scope > .parley-main .parley-removed');
		return {
			text: r.textContent.includes(`+jsString(textA)+`),
			present: !!a,
			placeholder: !!ph && ph.textContent.includes('This comment was removed.'),
			reply: !!b && b.textContent.includes(`+jsString(textB)+`),
			quoteRemoved: q ? q.textContent : '',
			count: r.querySelector('.parley-count').textContent,
		};
	})()`)
	if v.Text {
		t.Errorf("after rejection, a reader still sees A's text %q", textA)
	}
	if v.Present && !v.Placeholder {
		t.Errorf("A's rejected comment is shown without the removed placeholder")
	}
	if !v.Reply {
		t.Errorf("B's reply is no longer shown")
	}
	if v.QuoteRemoved == "" {
		t.Errorf("B's reply does not show the removed-quote placeholder (.parley-quote-removed)")
	}
	if !strings.HasPrefix(strings.TrimSpace(v.Count), "1 comment") {
		t.Errorf("count header %q, want 1 comment after the rejection", v.Count)
	}
	t.Logf("after rejection: A present=%v placeholder=%v; B's quote: %q; header: %q", v.Present, v.Placeholder, v.QuoteRemoved, v.Count)

	// A picture of the page as the reader sees it, for a person to look at.
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
	path := filepath.Join(dir, "demo-after-reject.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the demo page: %s (%d bytes)", path, len(png))

	a.checkNoErrors()
	b.checkNoErrors()
	srv.checkAlive()
}
