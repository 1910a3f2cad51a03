package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parleyhq/parley/internal/testenv"
)

// payload is one hostile input and where it came from.
type payload struct {
	source string // file, and line when it is one line of it
	text   []byte
}

// loadPayloads reads the attack corpus (its README describes the layout):
// every non-empty line of every text file (blns.txt without its # comments,
// each string of blns.json, the CRLF lines also URL-decoded, each XSS vector
// also as a link and an image target), plus every whole file under 64 KiB.
// Duplicates are posted once.
func loadPayloads(t *testing.T, dir string) []payload {
	t.Helper()
	var out []payload
	seen := map[string]bool{}
	add := func(source string, text []byte) {
		if len(bytes.TrimSpace(text)) == 0 || seen[string(text)] {
			return
		}
		seen[string(text)] = true
		out = append(out, payload{source, text})
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "LICENSE") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if len(data) < 60<<10 {
			add(rel, data)
		}
		if strings.HasSuffix(rel, ".json") {
			var strs []string
			if err := json.Unmarshal(data, &strs); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			for i, s := range strs {
				add(fmt.Sprintf("%s[%d]", rel, i), []byte(s))
			}
			return nil
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			if strings.HasPrefix(rel, "naughty-strings/") && bytes.HasPrefix(line, []byte("#")) {
				continue
			}
			src := fmt.Sprintf("%s:%d", rel, i+1)
			add(src, line)
			if strings.HasPrefix(rel, "crlf/") {
				if dec, err := url.PathUnescape(string(line)); err == nil {
					add(src+" (decoded)", []byte(dec))
				}
			}
			if strings.HasPrefix(rel, "xss/") {
				add(src+" (link)", []byte("[click me]("+string(line)+")"))
				add(src+" (image)", []byte("![picture]("+string(line)+")"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// invalidUTF8 returns p with an invalid UTF-8 sequence spliced in; kind picks
// one of several classic malformations.
func invalidUTF8(p []byte, kind int) []byte {
	bad := [][]byte{
		{0xff},                   // never valid
		{0xc3},                   // truncated two-byte sequence
		{0xed, 0xa0, 0x80},       // UTF-16 surrogate
		{0xc0, 0xaf},             // overlong "/"
		{0xf4, 0x90, 0x80, 0x80}, // beyond U+10FFFF
	}[kind%5]
	mid := len(p) / 2
	for mid > 0 && !utf8.RuneStart(p[mid]) {
		mid--
	}
	out := append([]byte{}, p[:mid]...)
	out = append(out, bad...)
	return append(out, p[mid:]...)
}

// rawJSON encodes fields as a JSON object, writing the bytes of []byte
// values into their strings as they are — invalid UTF-8 included, which
// encoding/json would replace.
func rawJSON(fields map[string]any) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		b, ok := fields[k].([]byte)
		if !ok {
			vb, _ := json.Marshal(fields[k])
			buf.Write(vb)
			continue
		}
		buf.WriteByte('"')
		for len(b) > 0 {
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n <= 1 {
				buf.WriteByte(b[0]) // raw, invalid
			} else {
				s, _ := json.Marshal(string(b[:n]))
				buf.Write(s[1 : len(s)-1])
			}
			b = b[n:]
		}
		buf.WriteByte('"')
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// dangerousElements may never appear in comment HTML.
var dangerousElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Frame: true, atom.Frameset: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Svg: true, atom.Math: true,
	atom.Form: true, atom.Input: true, atom.Button: true, atom.Textarea: true, atom.Select: true,
	atom.Base: true, atom.Meta: true, atom.Link: true, atom.Img: true, atom.Video: true,
	atom.Audio: true, atom.Source: true, atom.Template: true, atom.Noscript: true,
}

// urlAttrs are attributes whose value a browser may load or navigate to.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "srcset": true, "action": true, "formaction": true, "xlink:href": true,
	"poster": true, "background": true, "cite": true, "data": true, "longdesc": true, "lowsrc": true,
	"dynsrc": true, "ping": true,
}

// unsafeHTML lists what makes a fragment of comment HTML active: script
// elements, event-handler or style attributes, script-capable URL schemes.
// It walks the tree that golang.org/x/net/html builds, as a browser would.
func unsafeHTML(s string) []string {
	var problems []string
	if strings.Contains(strings.ToLower(s), "<script") {
		problems = append(problems, "contains <script")
	}
	ctx := &html.Node{Type: html.ElementNode, DataAtom: atom.Div, Data: "div"}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return append(problems, "does not parse: "+err.Error())
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if dangerousElements[n.DataAtom] || n.Namespace != "" {
				problems = append(problems, "element <"+n.Data+">")
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = strings.ToLower(a.Namespace) + ":" + key
				}
				switch {
				case strings.HasPrefix(key, "on"):
					problems = append(problems, fmt.Sprintf("event handler %s=%q on <%s>", key, a.Val, n.Data))
				case key == "style":
					problems = append(problems, fmt.Sprintf("style=%q on <%s>", a.Val, n.Data))
				case urlAttrs[key]:
					if scheme := activeScheme(a.Val); scheme != "" {
						problems = append(problems, fmt.Sprintf("%s URL in %s=%q on <%s>", scheme, key, a.Val, n.Data))
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return problems
}

// activeScheme returns "javascript:", "vbscript:" or "data:" if a browser
// would read the URL (entities already decoded by the parser) with that
// scheme: it ignores ASCII whitespace and control characters inside it.
func activeScheme(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r <= 0x20 || r == 0x7f {
			continue
		}
		b.WriteRune(r)
		if b.Len() > 16 {
			break
		}
	}
	low := strings.ToLower(b.String())
	for _, s := range []string{"javascript:", "vbscript:", "data:"} {
		if strings.HasPrefix(low, s) {
			return s
		}
	}
	return ""
}

func TestUnsafeHTML(t *testing.T) {
	tests := []struct {
		name string
		html string
		bad  bool
	}{
		{"plain", `<p>hello <a href="https://example.org" rel="nofollow ugc noopener">x</a></p>`, false},
		{"escaped script", `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, false},
		{"script", `<p><script>alert(1)</script></p>`, true},
		{"handler", `<p onmouseover="x()">hi</p>`, true},
		{"javascript href", `<a href="javascript:alert(1)">x</a>`, true},
		{"entity javascript href", `<a href="jav&#x09;ascript&colon;alert(1)">x</a>`, true},
		{"data src", `<img src="data:text/html,x">`, true},
		{"vbscript upper", `<a href=" VBScript:msgbox(1)">x</a>`, true},
		{"svg", `<svg><circle/></svg>`, true},
		{"style", `<p style="background:url(x)">x</p>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unsafeHTML(tt.html); (len(got) > 0) != tt.bad {
				t.Errorf("unsafeHTML(%q) = %v, want unsafe=%v", tt.html, got, tt.bad)
			}
		})
	}
}

// TestHostileInput posts every payload of the attack corpus through the
// real binary's API as a comment, an author name, a page title and a report
// note, and the comment payloads again with invalid UTF-8 spliced in. Nothing
// may answer 5xx; invalid UTF-8 must get a 400 JSON error; every comment
// stored (as the moderation queues show it) and served (as the thread shows
// it) must be inert HTML.
func TestHostileInput(t *testing.T) {
	payloads := loadPayloads(t, testenv.SharedData(t, "attack"))
	if len(payloads) < 500 {
		t.Fatalf("only %d payloads in the attack corpus; expected its README's ~1,000", len(payloads))
	}
	srv := startServer(t, t.TempDir())
	pageURL := srv.URL + "/attack"

	// The comment every report note is filed against.
	victim := srv.client()
	res, err := victim.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": pageURL, "title": "Attack", "text": "A comment to report.", "name": "Victim"})
	if err != nil || res.Status != http.StatusCreated {
		t.Fatalf("first comment: %v %d %.300s", err, res.Status, res.Body)
	}
	var first apiPosted
	if err := res.decode(&first); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		id     int64
		status string
		source string
	}
	var (
		mu       sync.Mutex
		failures []string
		stored   []outcome
		counts   = map[string]int{}
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 50 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	// check classifies one response: never 5xx; a 4xx carries a JSON error.
	check := func(kind string, p payload, res response, err error) bool {
		mu.Lock()
		counts[kind]++
		mu.Unlock()
		switch {
		case err != nil:
			fail("%s %s: %v", kind, p.source, err)
		case res.Status >= 500:
			fail("%s %s: %d %.300s", kind, p.source, res.Status, res.Body)
		case res.Status >= 400:
			var e apiError
			if json.Unmarshal(res.Body, &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
				fail("%s %s: %d without a JSON error: %.300s", kind, p.source, res.Status, res.Body)
			}
			return false
		}
		return err == nil
	}

	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := srv.client()
			for i := range work {
				p := payloads[i]

				// As a comment.
				res, err := c.do("POST", "/api/v1/comments", rawJSON(map[string]any{"site": "demo", "url": pageURL, "title": "Attack", "text": p.text, "name": "Mallory"}))
				if check("comment", p, res, err) {
					var posted apiPosted
					if res.Status != http.StatusCreated || res.decode(&posted) != nil {
						fail("comment %s: %d %.300s", p.source, res.Status, res.Body)
					} else {
						if bad := unsafeHTML(posted.Comment.HTML); len(bad) > 0 {
							fail("comment %s: the 201 response carries active HTML %v: %q", p.source, bad, posted.Comment.HTML)
						}
						mu.Lock()
						stored = append(stored, outcome{posted.Comment.ID, posted.Status, p.source})
						mu.Unlock()
					}
				}

				// As a comment with invalid UTF-8: a 400 JSON error.
				res, err = c.do("POST", "/api/v1/comments", rawJSON(map[string]any{"site": "demo", "url": pageURL, "title": "Attack", "text": invalidUTF8(p.text, i), "name": "Mallory"}))
				if check("invalid-utf8", p, res, err); err == nil && res.Status != http.StatusBadRequest {
					fail("invalid UTF-8 in %s: %d, want 400: %.300s", p.source, res.Status, res.Body)
				}

				// As the author's name.
				res, err = c.do("POST", "/api/v1/comments", rawJSON(map[string]any{"site": "demo", "url": pageURL, "title": "Attack", "text": fmt.Sprintf("Comment %d under a hostile name.", i), "name": p.text}))
				check("name", p, res, err)

				// As the title of a new page, which a reader then opens.
				titled := fmt.Sprintf("%s/attack/title/%d", srv.URL, i)
				res, err = c.do("POST", "/api/v1/comments", rawJSON(map[string]any{"site": "demo", "url": titled, "title": p.text, "text": fmt.Sprintf("Comment %d under a hostile title.", i), "name": "Mallory"}))
				check("title", p, res, err)
				res, err = c.do("GET", "/api/v1/threads?site=demo&url="+url.QueryEscape(titled), nil)
				check("title-read", p, res, err)

				// As a report's note.
				res, err = c.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", first.Comment.ID), rawJSON(map[string]any{"reason": "other", "note": p.text}))
				check("report-note", p, res, err)
			}
		})
	}
	for i := range payloads {
		work <- i
	}
	close(work)
	wg.Wait()
	srv.checkAlive()

	// Served: the public thread, every page of it.
	reader := srv.client()
	th, err := reader.thread("demo", pageURL)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, c := range th.Comments {
		seen[c.ID] = true
		if bad := unsafeHTML(c.HTML); len(bad) > 0 {
			fail("served comment %d: %v in %q", c.ID, bad, c.HTML)
		}
		if c.Quote != nil {
			if bad := unsafeHTML(c.Quote.HTML); len(bad) > 0 {
				fail("served quote in comment %d: %v", c.ID, bad)
			}
		}
	}
	// Stored: what the moderators' queues hold, whatever its status.
	for _, status := range []string{"approved", "pending", "rejected"} {
		for offset := 0; ; offset += 200 {
			res, err := reader.admin("GET", fmt.Sprintf("/api/v1/admin/queue?site=demo&status=%s&limit=200&offset=%d", status, offset), nil)
			if err != nil || res.Status != http.StatusOK {
				t.Fatalf("queue %s: %v %d %.300s", status, err, res.Status, res.Body)
			}
			var q struct{ Comments []apiComment }
			if err := res.decode(&q); err != nil {
				t.Fatal(err)
			}
			for _, c := range q.Comments {
				seen[c.ID] = true
				if bad := unsafeHTML(c.HTML); len(bad) > 0 {
					fail("stored comment %d (%s): %v in %q", c.ID, status, bad, c.HTML)
				}
			}
			if len(q.Comments) < 200 {
				break
			}
		}
	}
	byStatus := map[string]int{}
	for _, o := range stored {
		byStatus[o.status]++
		if !seen[o.id] {
			fail("comment %d from %s (%s) is neither served nor in a moderation queue", o.id, o.source, o.status)
		}
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d payloads; requests by kind %v; comments stored by status %v; %d served on the page", len(payloads), counts, byStatus, len(th.Comments))
}
