package e2e

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/testenv"
)

// xssCorpus is every XSS vector of the shared corpus, then the Unicode
// case-folding tricks, then every non-blank string of the Big List of
// Naughty Strings (blns.json: SQL, shell and template injections, emoji,
// zero-width and bidi characters, two-byte scripts, Zalgo text).
func xssCorpus(t *testing.T) []string {
	t.Helper()
	return corpus(t, false)
}

// xssVectors is xssCorpus without the naughty strings: the XSS vectors and
// the Unicode tricks.
func xssVectors(t *testing.T) []string {
	t.Helper()
	return corpus(t, true)
}

func corpus(t *testing.T, xssOnly bool) []string {
	t.Helper()
	dir := testenv.SharedData(t, "attack")
	f, err := os.Open(filepath.Join(dir, "xss", "patt-IntrudersXSS.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d XSS vectors in the corpus", len(out))
	}
	out = append(out, unicodeTricks...)
	if xssOnly {
		return out
	}
	data, err := os.ReadFile(filepath.Join(dir, "naughty-strings", "blns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(data, &naughty); err != nil {
		t.Fatalf("blns.json: %v", err)
	}
	if len(naughty) < 400 {
		t.Fatalf("only %d naughty strings", len(naughty))
	}
	seen := map[string]bool{}
	for _, s := range out {
		seen[s] = true
	}
	for _, s := range naughty {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// blankText reports a text with nothing to see: white space, zero-width
// and bidi controls, soft hyphens (some naughty strings are only these),
// which Parley refuses as a comment and an import leaves out as "no text".
func blankText(s string) bool {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r >= 0x200B && r <= 0x200F || r >= 0x202A && r <= 0x202E ||
			r >= 0x2060 && r <= 0x2069 || r == 0xFEFF || r == 0x00AD || unicode.Is(unicode.Bidi_Control, r)
	}) == ""
}

// truncRunes is s cut to at most n characters.
func truncRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// xmlText escapes s for an XML text node.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// hostileExports writes a Disqus, a WordPress and a Remark42 export in dir
// carrying every payload: on the page base a published comment
// whose HTML body and author name are the payload; and on a page of its
// own, whose URL carries the payload in its query and whose title is the
// payload, a comment by the payload showing the payload as text (its HTML
// escaped), held or spam in the formats that have those statuses.
func hostileExports(t *testing.T, dir, base string, payloads []string) map[string]string {
	t.Helper()
	page := func(format string, i int, p string) string {
		return fmt.Sprintf("%s?page=%s-%d&x=%s", base, format, i, url.QueryEscape(p))
	}
	const when = "2024-05-01T10:00:00Z"
	files := map[string]string{}
	write := func(format, name, data string) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		files[format] = path
	}

	var d strings.Builder
	d.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">` + "\n")
	fmt.Fprintf(&d, "<thread dsq:id=\"main\"><link>%s</link><title>Disqus import</title></thread>\n", xmlText(base))
	post := func(id, thread, body, name string, spam bool) {
		fmt.Fprintf(&d, "<post dsq:id=%q><message>%s</message><createdAt>%s</createdAt><isDeleted>false</isDeleted><isSpam>%v</isSpam>"+
			"<author><email>%s@example.com</email><name>%s</name><isAnonymous>false</isAnonymous><username>%s</username></author><thread dsq:id=%q/></post>\n",
			id, xmlText(body), when, spam, id, xmlText(name), id, thread)
	}
	for i, p := range payloads {
		fmt.Fprintf(&d, "<thread dsq:id=\"t%d\"><link>%s</link><title>%s</title></thread>\n", i, xmlText(page("disqus", i, p)), xmlText(p))
	}
	for i, p := range payloads {
		post(fmt.Sprintf("a%d", i), "main", p, p, false)
		post(fmt.Sprintf("b%d", i), fmt.Sprintf("t%d", i), "<p>"+html.EscapeString(p)+"</p>", p, i%2 == 0)
	}
	d.WriteString("</disqus>\n")
	write("disqus", "disqus.xml", d.String())

	var w strings.Builder
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>Hostile</title>` + "\n")
	comment := func(id int, body, name, approved string) {
		fmt.Fprintf(&w, "<wp:comment><wp:comment_id>%d</wp:comment_id><wp:comment_author>%s</wp:comment_author><wp:comment_author_email>w%d@example.com</wp:comment_author_email>"+
			"<wp:comment_date_gmt>2024-05-01 10:00:00</wp:comment_date_gmt><wp:comment_content>%s</wp:comment_content><wp:comment_approved>%s</wp:comment_approved>"+
			"<wp:comment_type>comment</wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment>\n", id, xmlText(name), id, xmlText(body), approved)
	}
	item := func(postID int, link, title string) {
		fmt.Fprintf(&w, "<item><title>%s</title><link>%s</link><wp:post_id>%d</wp:post_id><wp:post_type>post</wp:post_type><wp:status>publish</wp:status>\n", xmlText(title), xmlText(link), postID)
	}
	item(1, base, "WordPress import")
	for i, p := range payloads {
		comment(1000+i, p, p, "1")
	}
	w.WriteString("</item>\n")
	for i, p := range payloads {
		item(10+i, page("wordpress", i, p), p)
		comment(5000+i, html.EscapeString(p), p, []string{"0", "spam", "1"}[i%3])
		w.WriteString("</item>\n")
	}
	w.WriteString("</channel></rss>\n")
	write("wordpress", "wordpress.xml", w.String())

	var r strings.Builder
	r.WriteString(`{"version":1,"users":[],"posts":[]}` + "\n")
	line := func(id, u, title, body, name string) {
		b, err := json.Marshal(map[string]any{"id": id, "pid": "", "text": body, "time": when, "title": title,
			"user": map[string]any{"name": name, "id": "r-" + id}, "locator": map[string]any{"site": "demo", "url": u}})
		if err != nil {
			t.Fatal(err)
		}
		r.Write(b)
		r.WriteByte('\n')
	}
	for i, p := range payloads {
		line(fmt.Sprintf("a%d", i), base, "Remark42 import", p, p)
		line(fmt.Sprintf("b%d", i), page("remark42", i, p), p, "<p>"+html.EscapeString(p)+"</p>", p)
	}
	write("remark42", "remark42.jsonl", r.String())
	return files
}

// drainMore clicks a "load more" button (found by the JavaScript
// expression el) until it is hidden, so every item of a long list is
// drawn; it returns the number of clicks.
func drainMore(b *browser, what, el string) int {
	b.t.Helper()
	for n := 0; n < 100; n++ {
		more := waitFor[string](b, what, `(() => {
			const el = `+el+`;
			if (!el || el.hidden) return "done";
			if (el.disabled) return "";
			el.click();
			return "clicked";
		})()`)
		if more == "done" {
			return n
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.t.Fatalf("%s: still more after 100 loads", what)
	return 0
}

// TestBrowserHostileEditAndImport extends the stored-XSS promise (2) to the
// write paths besides posting: every XSS vector of the shared corpus and
// the Unicode case-folding tricks go in (a) as a reader's edit of their own
// comment, received live (SSE) by a widget that has the page open, then
// read again by a fresh load; (b) as moderators' decision notes, read in
// the audit panel; and (c) through `parley import` of a Disqus, a
// WordPress and a Remark42 export, as comment bodies (HTML and text),
// author names, page URLs and page titles. The API's JSON (edit answers
// and every moderation queue) must hold inert HTML only; the widget on
// every page and the moderator UI (every queue tab drawn to its end, the
// Pages view, the audit panel), in headless Chromium, must open no dialog,
// send no request beyond 127.0.0.1, and hold no script-capable element,
// attribute or URL.
func TestBrowserHostileEditAndImport(t *testing.T) {
	chrome := testenv.Chromium(t)
	payloads := xssCorpus(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	demo := srv.URL + "/demo"
	const email, password = "mo@example.com", "correct horse battery staple"
	addModerator(t, dataDir, "demo", "Mo", email, password)
	api := srv.client()

	// (a) Edits. Every payload's comment is posted harmless first, with a
	// widget open on its page.
	// The demo page's widget shows the thread of /demo whatever the query:
	// the payloads that are not in a page's URL or title go there.
	editPage := demo
	type own struct {
		c  *client
		id int64
	}
	var mine []own
	for i := range payloads {
		c := srv.client()
		res, err := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": editPage, "title": "Edits", "name": fmt.Sprintf("Editor %d", i), "text": fmt.Sprintf("Harmless comment %d.", i)})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("post %d: %v %d %.300s", i, err, res.Status, res.Body)
		}
		var p apiPosted
		if err := res.decode(&p); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, own{c, p.Comment.ID})
	}
	reader := newBrowser(t, chrome, "reader")
	dialogs, escapes := watchPage(t, reader)
	reader.open(editPage)
	drainMore(reader, "the edit page's comments", shadowRoot+`.querySelector('.parley-more')`)
	edited, byStatus := 0, map[string]int{}
	for i, p := range payloads {
		text := p + "\n\n[a link](" + p + ") ![an image](" + p + ")"
		res, err := mine[i].c.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", mine[i].id), map[string]any{"text": text})
		if err != nil || res.Status >= 500 {
			t.Fatalf("edit to %q: %v %d %.300s", p, err, res.Status, res.Body)
		}
		if res.Status != http.StatusOK {
			t.Errorf("edit to %q: %d %.300s", p, res.Status, res.Body)
			continue
		}
		edited++
		var e apiPosted
		if err := res.decode(&e); err != nil {
			t.Fatal(err)
		}
		byStatus[e.Status]++
		if e.Status == "rejected" {
			t.Logf("the edit to %q was rejected: %v", p, e.Comment.Status)
		}
		if bad := unsafeHTML(e.Comment.HTML); len(bad) > 0 {
			t.Errorf("the answer to the edit to %q carries active HTML %v: %q", p, bad, e.Comment.HTML)
		}
	}
	t.Logf("%d payloads edited in, by status %v", edited, byStatus)
	// The open widget hears of the edits (SSE) and draws them.
	live := waitFor[int](reader, "the edits drawn live", fmt.Sprintf(`(() => {
		const n = [...%s.querySelectorAll('.parley-comment')].filter((c) => !/Harmless comment/.test(c.textContent)).length;
		return n >= %d ? n : 0;
	})()`, shadowRoot, edited/2))
	time.Sleep(500 * time.Millisecond)
	for _, a := range eval[[]string](reader, "active DOM after live edits", activeDOM) {
		t.Errorf("widget, live edits: %s", a)
	}
	t.Logf("%d payloads edited in; the open widget drew %d edited comments live", edited, live)

	// (b) Decision notes, on the first edited comment.
	for _, p := range payloads {
		res, err := api.admin("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", mine[0].id), map[string]any{"action": "approve", "note": truncRunes(p, 500)})
		if err == nil && res.Status == http.StatusBadRequest && noteControl(p) {
			continue // a control character other than a line break: refused (TestControlCharacters)
		}
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("decision note %q: %v %d %.300s", p, err, res.Status, res.Body)
		}
	}

	// (c) Imports, while the server runs, as a publisher would: the XSS
	// vectors and tricks (the naughty strings went through the edits
	// above, drawn by the same widget and moderator UI code, and through
	// the Disqus importer as bodies and names in internal/service's
	// TestImportXSS, whose stored HTML is checked against the allow-list;
	// drawing 3 × 700 more pages and their comments in Chromium would
	// only slow the test past its package's time).
	payloads = xssVectors(t)
	files := hostileExports(t, t.TempDir(), demo, payloads)
	imported := 0
	for _, format := range []string{"disqus", "wordpress", "remark42"} {
		cmd := exec.Command(testenv.Binary(t), "import", "--site", "demo", "--from", format, "--data", dataDir, files[format])
		cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("parley import --from %s: %v\n%s", format, err, out)
		}
		var n int
		if m := regexp.MustCompile(`(?m)^\s*imported\s+(\d+)`).FindSubmatch(out); m == nil {
			t.Fatalf("parley import --from %s says nothing of what it imported:\n%s", format, out)
		} else {
			n, _ = strconv.Atoi(string(m[1]))
		}
		imported += n
		// Bodies that were nothing but script (or markup) are left out as
		// "no text"; the rest must be in.
		if n < len(payloads) {
			t.Errorf("parley import --from %s imported %d comments, want at least %d:\n%s", format, n, len(payloads), out)
		}
		t.Logf("parley import --from %s: %d comments", format, n)
	}

	// The API: every queue, every status, holds inert HTML.
	total := 0
	for _, status := range []string{"approved", "pending", "rejected"} {
		for offset := 0; ; offset += 200 {
			res, err := api.admin("GET", fmt.Sprintf("/api/v1/admin/queue?site=demo&status=%s&limit=200&offset=%d", status, offset), nil)
			if err != nil || res.Status != http.StatusOK {
				t.Fatalf("queue %s: %v %d %.300s", status, err, res.Status, res.Body)
			}
			var q struct{ Comments []apiComment }
			if err := res.decode(&q); err != nil {
				t.Fatal(err)
			}
			total += len(q.Comments)
			for _, c := range q.Comments {
				if bad := unsafeHTML(c.HTML); len(bad) > 0 {
					t.Errorf("stored comment %d (%s): %v in %q", c.ID, status, bad, c.HTML)
				}
			}
			if len(q.Comments) < 200 {
				break
			}
		}
	}
	if want := edited + imported; total < want {
		t.Errorf("the queues hold %d comments, want at least %d (edited and imported)", total, want)
	}

	// The widget, freshly loaded: the edited and the imported comments.
	reader.open(demo)
	loads := drainMore(reader, "the demo page's comments", shadowRoot+`.querySelector('.parley-more')`)
	time.Sleep(500 * time.Millisecond)
	drawn := eval[int](reader, "comments drawn", shadowRoot+`.querySelectorAll('.parley-comment').length`)
	th, err := api.thread("demo", demo)
	if err != nil {
		t.Fatal(err)
	}
	if drawn < len(th.Comments) || drawn < edited {
		t.Errorf("the widget drew %d comments, want the thread's %d (edited and imported)", drawn, len(th.Comments))
	}
	for _, a := range eval[[]string](reader, "active DOM on the demo page", activeDOM) {
		t.Errorf("widget: %s", a)
	}
	t.Logf("widget: %d comments (%d loads of more)", drawn, loads)

	mod := newBrowser(t, chrome, "moderator")
	modDialogs, modEscapes := watchPage(t, mod)
	signIn(mod, srv, email, password)
	for _, q := range []string{"pending", "reported", "unmoderated", "rejected", "approved"} {
		eval[bool](mod, "scroll to the top", `(scrollTo(0, 0), true)`)
		mod.click("the "+q+" tab", `#tabs [data-queue="`+q+`"]`)
		time.Sleep(700 * time.Millisecond)
		loads := drainMore(mod, "the "+q+" queue", `document.querySelector('#more')`)
		items := eval[int](mod, "queue items", `document.querySelectorAll('#queue .item').length`)
		for _, a := range eval[[]string](mod, "active DOM in the "+q+" queue", activeDOM) {
			t.Errorf("moderator UI, %s: %s", q, a)
		}
		t.Logf("moderator UI, %s: %d items (%d loads of more)", q, items, loads)
	}
	eval[bool](mod, "scroll to the top", `(scrollTo(0, 0), true)`)
	mod.click("the Pages view", `.view-btn[data-view=pages]`)
	waitFor[bool](mod, "the Pages view", `!document.querySelector('#pages-view').hidden && document.querySelectorAll('#pages-list > li').length > 0`)
	loads = drainMore(mod, "the pages", `document.querySelector('#pages-more')`)
	pages := eval[int](mod, "pages listed", `document.querySelectorAll('#pages-list > li').length`)
	wantPages := 1 // the demo page
	for i, p := range payloads {
		if blankText(p) {
			continue // its page's one comment has no text: left out, and no page made for it
		}
		for _, format := range []string{"disqus", "wordpress", "remark42"} {
			// A URL over the limit once canonical is left out, with a warning.
			if u, err := parley.CanonicalURL(fmt.Sprintf("%s?page=%s-%d&x=%s", demo, format, i, url.QueryEscape(p)), nil); err == nil && len(u) <= parley.MaxURLLength {
				wantPages++
			}
		}
	}
	if pages < wantPages {
		t.Errorf("the Pages view lists %d pages, want the %d with hostile URLs and titles", pages, wantPages)
	}
	for _, a := range eval[[]string](mod, "active DOM in the Pages view", activeDOM) {
		t.Errorf("moderator UI, Pages: %s", a)
	}
	t.Logf("moderator UI, Pages: %d pages (%d loads of more)", pages, loads)

	// The audit panel of the comment with every payload as a decision note.
	eval[bool](mod, "scroll to the top", `(scrollTo(0, 0), true)`)
	mod.click("the Queue view", `.view-btn[data-view=queue]`)
	mod.click("the approved tab", `#tabs [data-queue="approved"]`)
	time.Sleep(700 * time.Millisecond)
	drainMore(mod, "the approved queue", `document.querySelector('#more')`)
	if !eval[bool](mod, "open the audit panel", fmt.Sprintf(`(() => { const b = document.querySelector('#queue .item[data-id="%d"] .audit-btn'); if (b) b.click(); return !!b; })()`, mine[0].id)) {
		t.Fatalf("comment %d is not in the approved queue", mine[0].id)
	}
	res, err := api.admin("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", mine[0].id), nil)
	var audit struct{ Actions []struct{ Note string } }
	if err != nil || res.Status != http.StatusOK || res.decode(&audit) != nil {
		t.Fatalf("audit: %v %d %.300s", err, res.Status, res.Body)
	}
	withNote := 0
	for _, a := range audit.Actions {
		if a.Note != "" {
			withNote++
		}
	}
	if withNote < 50 {
		t.Fatalf("the audit log of comment %d has %d notes", mine[0].id, withNote)
	}
	notes := waitFor[int](mod, "the decision notes in the audit panel", fmt.Sprintf(`(() => {
		const n = document.querySelectorAll('#panel-body .audit-note').length;
		return n >= %d ? n : 0;
	})()`, withNote))
	time.Sleep(500 * time.Millisecond)
	for _, a := range eval[[]string](mod, "active DOM with the audit panel", activeDOM) {
		t.Errorf("moderator UI, audit panel: %s", a)
	}
	t.Logf("audit panel: %d decision notes", notes)

	for _, d := range append(dialogs(), modDialogs()...) {
		t.Errorf("a script ran: dialog %s", d)
	}
	for _, u := range append(escapes(), modEscapes()...) {
		t.Errorf("a request left 127.0.0.1: %s", u)
	}
	reader.checkNoErrors()
	mod.checkNoErrors()
	srv.checkAlive()
}
