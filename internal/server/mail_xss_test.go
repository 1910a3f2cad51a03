package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parleyhq/parley/internal/mail/mailtest"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

// mailUnicodeTricks are XSS vectors relying on case folding or
// compatibility forms turning into ASCII after a filter looked.
var mailUnicodeTricks = []string{
	"<scrİpt>alert(1)</scrİpt>",
	"<ſcript>alert(1)</ſcript>",
	"<svg onload=alert(1)>\u212A",
	"＜script＞alert(1)＜/script＞",
	"＜img src=x onerror=alert(1)＞",
	"<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
}

// hostilePayloads is every XSS vector of the shared corpus, the Unicode
// tricks, the naughty strings, and every CR/LF injection line URL-decoded (as CR and LF bytes).
func hostilePayloads(t *testing.T) (xss, crlf []string) {
	t.Helper()
	dir := testenv.SharedData(t, "attack")
	lines := func(name string) []string {
		f, err := os.Open(filepath.Join(dir, name))
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
		return out
	}
	xss = append(lines("xss/patt-IntrudersXSS.txt"), mailUnicodeTricks...)
	for _, l := range lines("crlf/patt-crlfinjection.txt") {
		if d, err := url.PathUnescape(l); err == nil && strings.ContainsAny(d, "\r\n") {
			crlf = append(crlf, d)
		}
	}
	blns, err := os.ReadFile(filepath.Join(dir, "naughty-strings", "blns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(blns, &naughty); err != nil {
		t.Fatal(err)
	}
	for _, n := range naughty {
		if strings.TrimSpace(n) != "" && !slices.Contains(xss, n) {
			xss = append(xss, n)
		}
	}
	if len(xss) < 600 || len(crlf) < 5 {
		t.Fatalf("%d XSS and %d CR/LF payloads: the corpus is not all there", len(xss), len(crlf))
	}
	return xss, crlf
}

func cutRunes(s string, n int) string {
	for utf8.RuneCountInString(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// mailHTMLAllowed is every element the message templates write, with the
// attributes each may carry.
var mailHTMLAllowed = map[atom.Atom][]string{
	atom.Html: nil, atom.Head: nil, atom.Meta: {"charset"}, atom.Title: nil,
	atom.Body: {"style"}, atom.P: {"style"}, atom.Strong: nil, atom.Em: nil,
	atom.Blockquote: {"style"}, atom.A: {"href"},
}

// mailHeaders are the only headers a message may have.
var mailHeaders = []string{"Auto-Submitted", "Content-Type", "Date", "From", "List-Unsubscribe", "List-Unsubscribe-Post",
	"Message-Id", "Mime-Version", "Subject", "To", "User-Agent", "X-Mailer"}

// checkMail asserts a received message is inert whatever its inputs: only
// the headers Parley writes (none injected by a CR/LF), no control
// character in the subject, an HTML part of only the templates' elements
// and attributes whose links are http(s) links to Parley itself, styles
// only the templates' own, and a text part sent as text/plain.
func checkMail(t *testing.T, m mailtest.Message, base string) parts {
	t.Helper()
	p := parse(t, m)
	for k := range p.msg.Header {
		if !slices.Contains(mailHeaders, k) {
			t.Errorf("message to %v has a header %s: %q (injected?)", m.To, k, p.msg.Header[k])
		}
	}
	if subj := mailtest.Header(p.msg, "Subject"); strings.ContainsFunc(subj, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 }) {
		t.Errorf("subject with a control character: %q", subj)
	}
	if !strings.Contains(string(m.Data), "Content-Type: text/plain; charset=UTF-8") && !strings.Contains(string(m.Data), "Content-Type: text/plain; charset=utf-8") {
		t.Errorf("the text part is not sent as text/plain; charset=UTF-8")
	}
	own, _ := url.Parse(base)
	doc, err := html.Parse(strings.NewReader(p.html))
	if err != nil {
		t.Fatalf("HTML part does not parse: %v", err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs, ok := mailHTMLAllowed[n.DataAtom]
			if !ok || n.Namespace != "" {
				t.Errorf("HTML part has a <%s> element:\n%s", n.Data, p.html)
			}
			for _, a := range n.Attr {
				switch {
				case !slices.Contains(attrs, a.Key) || a.Namespace != "":
					t.Errorf("HTML part has %s=%q on <%s>", a.Key, a.Val, n.Data)
				case a.Key == "style" && (strings.ContainsAny(a.Val, `()\<>"'&`) || strings.Contains(strings.ToLower(a.Val), "expression")):
					t.Errorf("HTML part has style=%q on <%s>", a.Val, n.Data)
				case a.Key == "href":
					u, err := url.Parse(a.Val)
					if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host != own.Host || strings.ContainsFunc(a.Val, func(r rune) bool { return r <= 0x20 || r == 0x7f }) {
						t.Errorf("HTML part links to %q, not an http(s) link to %s", a.Val, own.Host)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return p
}

// TestMailHostileInputs: reply notifications and moderator alerts whose
// every input is hostile — every XSS vector of the shared corpus (and
// Unicode case-folding tricks) as the replying author's name, the reply's
// text, the page's title and its URL, and the CR/LF injection lines as
// titles — are inert: checkMail holds for each message, the text part
// carries the reply as plain text (not escaped twice), and every reply and
// reported comment reached an inbox.
func TestMailHostileInputs(t *testing.T) {
	xss, crlf := hostilePayloads(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--alert-interval=1s")...), server.Options{})
	ctx := t.Context()
	base := srv.URL()
	if _, err := srv.Service().AddStaff(ctx, service.StaffInput{Role: "moderator", SiteID: "demo", Name: "Mod <b>A</b>", Email: "mod@example.com", Password: "a long enough password"}); err != nil {
		t.Fatal(err)
	}
	if st := admin(t, srv, "PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"report_threshold": 1}, nil); st != http.StatusOK {
		t.Fatalf("PATCH policy: %d", st)
	}
	ann, eve := newClient(t, base), newClient(t, base)
	ann.post(base+"/demo", "Home", "Ann", "My first comment.", 0)
	confirmAddress(t, ann, smtp, "ann@example.com", 1)

	type sent struct {
		payload string
		reply   int64
		text    string
	}
	var replies []sent
	var reported []int64
	held := 0
	payloads := append(slices.Clone(xss), crlf...)
	for i, p := range payloads {
		page := fmt.Sprintf("%s/demo/mail/%d/%s", base, i, url.PathEscape(cutRunes(p, 200)))
		var root posted
		if st := ann.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "title": cutRunes(p, 300), "name": "Ann", "text": fmt.Sprintf("Root %d.", i)}, &root); st != http.StatusCreated {
			if st >= 500 || st != http.StatusBadRequest {
				t.Fatalf("root on %q with title %q: %d", page, p, st)
			}
			continue // a title the API refuses (a NUL): tested elsewhere
		}
		name := cutRunes(p, 64)
		if slices.Contains(crlf, p) {
			name = "Eve" // a name with CR/LF is refused (tested elsewhere)
		}
		text := p + fmt.Sprintf(" (reply %d)", i)
		var reply posted
		st := eve.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "name": name, "text": text, "parent": root.Comment.ID}, &reply)
		if st == http.StatusBadRequest { // a name the API refuses
			st = eve.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "name": "Eve", "text": text, "parent": root.Comment.ID}, &reply)
		}
		if st == http.StatusBadRequest {
			continue // a text the API refuses (a NUL): tested elsewhere
		}
		if st != http.StatusCreated {
			t.Fatalf("reply %q: %d", p, st)
		}
		switch reply.Status {
		case "pending":
			held++
			if st := admin(t, srv, "POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", reply.Comment.ID), map[string]any{"action": "approve", "note": p}, nil); st != http.StatusOK {
				t.Fatalf("approve %d: %d", reply.Comment.ID, st)
			}
		case "rejected":
			t.Logf("reply %q was rejected: no mail", p)
			continue
		}
		replies = append(replies, sent{p, reply.Comment.ID, text})
		// One in eight replies, and the Unicode tricks, are reported over
		// the threshold (two new readers of weight 0.5): an alert.
		if i%8 == 0 || slices.Contains(mailUnicodeTricks, p) {
			for range 2 {
				c := newClient(t, base)
				c.post(base+"/demo/readers", "", "Reader", fmt.Sprintf("I am reader %d.", time.Now().UnixNano()), 0)
				if st := c.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", reply.Comment.ID), map[string]any{"reason": "other", "note": p}, nil); st != http.StatusAccepted {
					t.Fatalf("report %d: %d", reply.Comment.ID, st)
				}
			}
			reported = append(reported, reply.Comment.ID)
		}
	}
	t.Logf("%d payloads: %d replies mailed (%d approved by a moderator), %d reported", len(payloads), len(replies), held, len(reported))

	// Wait until every reply is in Ann's mail and every reported comment
	// in the moderator's.
	var toAnn, toMod []mailtest.Message
	deadline := time.Now().Add(30 * time.Second)
	missing := func() (string, bool) {
		toAnn, toMod = nil, nil
		for _, m := range smtp.Messages() {
			switch m.To[0] {
			case "ann@example.com":
				toAnn = append(toAnn, m)
			case "mod@example.com":
				toMod = append(toMod, m)
			}
		}
		// Message bodies are quoted-printable: compare the decoded parts.
		var ann strings.Builder
		for _, m := range toAnn {
			ann.WriteString(parse(t, m).text)
		}
		for _, r := range replies {
			if !strings.Contains(ann.String(), fmt.Sprintf("#parley-c-%d", r.reply)) {
				return fmt.Sprintf("reply %d (%q)", r.reply, r.payload), false
			}
		}
		return "", len(toMod) > 0
	}
	for {
		what, ok := missing()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s %s is not in any message (%d to Ann, %d to the moderator)", what, len(toAnn), len(toMod))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // the alert digest after the interval
	missing()

	var annText strings.Builder
	for _, m := range toAnn {
		annText.WriteString(checkMail(t, m, base).text)
	}
	for _, r := range replies {
		// The text part is plain text: the reply as written, or its
		// excerpt, never HTML-escaped.
		want := strings.TrimSpace(r.text)       // as an excerpt is
		if utf8.RuneCountInString(want) > 280 { // cut to an excerpt
			want = cutRunes(want, 200)
		}
		// Line ends go out as CRLF, whatever the text had.
		nl := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		if !strings.Contains(nl.Replace(annText.String()), nl.Replace(want)) {
			t.Errorf("no text part holds reply %d as plain text %q", r.reply, want)
		}
	}
	var modText strings.Builder
	for _, m := range toMod {
		modText.WriteString(checkMail(t, m, base).text)
	}
	alerts := strings.Count(modText.String(), "reported by 2 readers")
	if alerts < len(reported) {
		t.Errorf("the moderator's alerts name %d reported comments, want %d:\n%.3000s", alerts, len(reported), modText.String())
	}
	t.Logf("%d messages to Ann, %d to the moderator (%d reported comments in them)", len(toAnn), len(toMod), alerts)
}
