package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestWidgetReportNoteLimit: the widget's report note is limited as the
// server limits it, in characters (code points), not UTF-16 units. A note
// of exactly the limit in four-byte characters (two UTF-16 units each),
// inserted as a paste is, reaches the moderators whole; one character
// more is refused with an error naming the note, and nothing is sent cut
// (neither the textarea nor the request may drop characters or split a
// surrogate pair).
func TestWidgetReportNoteLimit(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	var ids []int64
	for i := range 2 {
		res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "name": "Target", "text": fmt.Sprintf("Report me, %d.", i)})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
		}
		var p apiPosted
		if err := res.decode(&p); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Comment.ID)
	}
	notes := func(id int64) []string {
		t.Helper()
		res, err := srv.client().admin("GET", "/api/v1/admin/queue?site=demo&status=reported", nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("reported queue: %v %d %.300s", err, res.Status, res.Body)
		}
		var q struct {
			Comments []struct {
				ID      int64 `json:"id"`
				Reports []struct {
					Note string `json:"note"`
				} `json:"reports"`
			} `json:"comments"`
		}
		if err := res.decode(&q); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range q.Comments {
			if c.ID == id {
				for _, r := range c.Reports {
					out = append(out, r.Note)
				}
			}
		}
		return out
	}

	b := newBrowser(t, chrome, "reader")
	b.open(demo)
	report := func(id int64, note string) {
		t.Helper()
		c := fmt.Sprintf("#parley-c-%d > .parley-main", id)
		b.do("open the report dialog",
			chromedp.Click(inWidget(c+" .parley-report-btn")),
			chromedp.WaitVisible(inWidget("dialog.parley-report")),
			chromedp.Click(inWidget(`dialog.parley-report input[name=reason][value=other]`)),
			chromedp.Focus(inWidget("dialog.parley-report textarea[name=note]")),
		)
		// What a paste or an input method does: the text arrives at once,
		// through the browser's editing (which applies maxlength).
		if _, err := chromedp.Call(b.ctx, input.InsertText, input.InsertTextParams{Text: note}); err != nil {
			t.Fatalf("insert the note: %v", err)
		}
		if got := eval[string](b, "the note typed", shadowRoot+`.querySelector('dialog.parley-report textarea[name=note]').value`); got != note {
			t.Errorf("the note field holds %d characters of the %d pasted", len([]rune(got)), len([]rune(note)))
		}
		b.do("send the report", chromedp.Click(inWidget("dialog.parley-report button[type=submit]")))
	}

	atLimit := strings.Repeat("𝒜", service.MaxNoteRunes)
	report(ids[0], atLimit)
	waitFor[string](b, "the thank-you message", `(() => { const t = `+shadowRoot+`.querySelector('.parley-thanks'); return t && !t.hidden && t.textContent; })()`)
	if got := notes(ids[0]); len(got) != 1 || got[0] != atLimit {
		t.Errorf("a note of %d four-byte characters reached the moderators as %d notes of %v characters", service.MaxNoteRunes, len(got), runeCounts(got))
	}
	b.do("close the dialog", chromedp.Click(inWidget("dialog.parley-report .parley-close")))

	over := atLimit + "𝒜"
	report(ids[1], over)
	msg := waitFor[string](b, "the error", `(() => { const e = `+shadowRoot+`.querySelector('dialog.parley-report .parley-error'); return e && !e.hidden && e.textContent; })()`)
	if !strings.Contains(strings.ToLower(msg), "note") {
		t.Errorf("a note over the limit: the error %q does not name the note", msg)
	}
	time.Sleep(300 * time.Millisecond)
	if got := notes(ids[1]); len(got) != 0 {
		t.Errorf("a note over the limit was sent cut: the moderators have notes of %v characters", runeCounts(got))
	}
	b.checkNoErrors()
}

func runeCounts(ss []string) []int {
	var out []int
	for _, s := range ss {
		out = append(out, len([]rune(s)))
	}
	return out
}

// TestWidgetNameLimit: the widget's name field takes a name of the
// server's limit in characters, four-byte ones included, as pasted, and
// the comment is posted under that name whole; a name one character over
// is not cut but refused with an error naming the name.
func TestWidgetNameLimit(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	b := newBrowser(t, chrome, "reader")
	b.open(demo)
	post := func(name, text string) {
		t.Helper()
		b.do("fill in the name", chromedp.Focus(inWidget(".parley-form-new input[name=name]")))
		eval[bool](b, "clear the name", `(`+shadowRoot+`.querySelector('.parley-form-new input[name=name]').value = '', true)`)
		if _, err := chromedp.Call(b.ctx, input.InsertText, input.InsertTextParams{Text: name}); err != nil {
			t.Fatalf("insert the name: %v", err)
		}
		if got := eval[string](b, "the name typed", shadowRoot+`.querySelector('.parley-form-new input[name=name]').value`); got != name {
			t.Errorf("the name field holds %d characters of the %d pasted", len([]rune(got)), len([]rune(name)))
		}
		b.do("post", chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
			chromedp.Click(inWidget(".parley-form-new button[type=submit]")))
	}

	atLimit := strings.Repeat("𝒜", service.MaxNameRunes)
	post(atLimit, "Posted under a long name.")
	id := waitFor[int64](b, "the comment in the thread", commentWithText("Posted under a long name."))
	th, err := srv.client().thread("demo", demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range th.Comments {
		if c.ID == id && (c.Author == nil || c.Author.Name != atLimit) {
			t.Errorf("a name of %d four-byte characters was posted as %q", service.MaxNameRunes, c.Author.Name)
		}
	}

	b.open(demo)
	post(atLimit+"𝒜", "Posted under a name too long.")
	msg := waitFor[string](b, "the error", `(() => {
		const e = [...`+shadowRoot+`.querySelectorAll('.parley-form-new .parley-error')].find((e) => !e.hidden && e.textContent);
		return e ? e.textContent : "";
	})()`)
	if !strings.Contains(strings.ToLower(msg), "name") {
		t.Errorf("a name over the limit: the error %q does not name the name", msg)
	}
	if th, err := srv.client().thread("demo", demo); err != nil || len(th.Comments) != 1 {
		t.Errorf("after a name over the limit the thread has %d comments (%v), want 1", len(th.Comments), err)
	}
	b.checkNoErrors()
}

// TestAdminNoteLimit: in the moderator UI a note on a reader of the
// server's limit in characters, four-byte ones included, as pasted, is
// stored whole, not cut to the UTF-16 units a maxlength would count.
func TestAdminNoteLimit(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const email, password = "mo@example.com", "correct horse battery staple"
	addModerator(t, dataDir, "demo", "Mo", email, password)
	res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": srv.URL + "/demo", "name": "Noted", "text": "A comment by a reader to note."})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	var p apiPosted
	if err := res.decode(&p); err != nil {
		t.Fatal(err)
	}
	mod := newBrowser(t, chrome, "moderator")
	signIn(mod, srv, email, password)
	mod.click("the approved tab", `#tabs [data-queue="approved"]`)
	waitFor[bool](mod, "the comment in the queue", fmt.Sprintf(`!!document.querySelector('#queue .item[data-id="%d"] .reader-btn')`, p.Comment.ID))
	eval[bool](mod, "open the reader panel", fmt.Sprintf(`(document.querySelector('#queue .item[data-id="%d"] .reader-btn').click(), true)`, p.Comment.ID))
	waitFor[bool](mod, "the note form", `!!document.querySelector('#panel-body .note-form textarea')`)
	mod.do("focus the note", chromedp.Focus(chromedp.CSS(`#panel-body .note-form textarea`)))
	note := strings.Repeat("𝒜", service.MaxNoteText)
	if _, err := chromedp.Call(mod.ctx, input.InsertText, input.InsertTextParams{Text: note}); err != nil {
		t.Fatalf("insert the note: %v", err)
	}
	if got := eval[string](mod, "the note typed", `document.querySelector('#panel-body .note-form textarea').value`); got != note {
		t.Errorf("the note field holds %d characters of the %d pasted", len([]rune(got)), len([]rune(note)))
	}
	mod.click("add the note", `#panel-body .note-form button[type=submit]`)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(got) == 0; time.Sleep(100 * time.Millisecond) {
		res, err := srv.client().admin("GET", "/api/v1/admin/users/"+p.Comment.Author.ID+"?site=demo", nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("reader: %v %d %.300s", err, res.Status, res.Body)
		}
		var r struct {
			Notes []struct {
				Text string `json:"text"`
			} `json:"notes"`
		}
		if err := res.decode(&r); err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, n := range r.Notes {
			got = append(got, n.Text)
		}
	}
	if len(got) != 1 || got[0] != note {
		t.Errorf("a note of %d four-byte characters was stored as %d notes of %v characters", service.MaxNoteText, len(got), runeCounts(got))
	}
	mod.checkNoErrors()
}
