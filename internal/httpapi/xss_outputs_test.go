package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parleyhq/parley/internal/testenv"
)

// caseFoldTricks are XSS vectors relying on case folding or compatibility
// forms turning into ASCII after a filter looked: dotted capital I, long
// s, Kelvin sign, full-width brackets.
var caseFoldTricks = []string{
	"<scrİpt>alert(1)</scrİpt>",
	"<ſcript>alert(1)</ſcript>",
	"<svg onload=alert(1)>\u212A",
	"<\u212Aeygen autofocus onfocus=alert(1)>",
	"＜script＞alert(1)＜/script＞",
	"＜img src=x onerror=alert(1)＞",
	"[x](java\u017Fcript:alert(1)) [y](JAVASCRİPT:alert(1))",
	"<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
}

// commentHTMLAllowed is the renderer's allow-list: the elements comment
// HTML may hold, with their attributes.
var commentHTMLAllowed = map[atom.Atom][]string{
	atom.P: nil, atom.Br: nil, atom.Hr: nil, atom.Em: nil, atom.Strong: nil, atom.Del: nil,
	atom.Code: nil, atom.Pre: nil, atom.Blockquote: nil, atom.Ul: nil, atom.Ol: {"start"}, atom.Li: nil,
	atom.A: {"href", "rel", "target"},
}

// outsideAllowList lists what in a fragment of comment HTML is not on the
// renderer's allow-list: an element, an attribute, or a link whose scheme
// is not http, https or mailto (or an in-page fragment).
func outsideAllowList(s string) []string {
	ctx := &html.Node{Type: html.ElementNode, DataAtom: atom.Div, Data: "div"}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs, ok := commentHTMLAllowed[n.DataAtom]
			if !ok || n.Namespace != "" {
				out = append(out, "<"+n.Data+">")
			}
			for _, a := range n.Attr {
				if !slices.Contains(attrs, a.Key) || a.Namespace != "" {
					out = append(out, fmt.Sprintf("%s=%q on <%s>", a.Key, a.Val, n.Data))
					continue
				}
				if a.Key == "href" && !strings.HasPrefix(a.Val, "#") {
					u, err := url.Parse(a.Val)
					if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") || strings.ContainsFunc(a.Val, func(r rune) bool { return r <= 0x20 || r == 0x7f }) {
						out = append(out, fmt.Sprintf("href=%q", a.Val))
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
	return out
}

func TestOutsideAllowList(t *testing.T) {
	for _, tt := range []struct {
		html string
		bad  bool
	}{
		{`<p>hi <a href="https://example.org/" rel="nofollow ugc noopener" target="_blank">x</a></p>`, false},
		{`<p>&lt;script&gt;</p><ol start="3"><li>x</li></ol>`, false},
		{`<p><img src=x></p>`, true},
		{`<p title="x">y</p>`, true},
		{`<a href="javascript:alert(1)">x</a>`, true},
		{`<a href="JaVaScRiPt:alert(1)">x</a>`, true},
		{`<a href="java&#x09;script:x">x</a>`, true},
		{`<svg><a href="https://x.example/">x</a></svg>`, true},
	} {
		if got := outsideAllowList(tt.html); (len(got) > 0) != tt.bad {
			t.Errorf("outsideAllowList(%q) = %v, want bad=%v", tt.html, got, tt.bad)
		}
	}
}

// sseData is all the data an event of a reader's stream may carry: ids and
// a count, never a user's text.
var sseData = regexp.MustCompile(`^\{"id":\d+,"comment_id":\d+(,"page_count":\d+)?\}$`)

// TestHostileFieldsInFeedsStreamAndJSON sends every XSS vector of the
// shared corpus, the Unicode case-folding tricks and the naughty strings as comment texts (posted
// and edited), author names, page titles and page URLs, and reads them
// back through the outputs other than the browsers': the API's JSON (served
// as application/json with nosniff), the readers' event stream (whose
// events may carry only ids and counts), and the RSS and Atom feeds of the
// article, of every hostile page and of the site (well-formed XML, Atom
// titles as text and content as html, every comment's HTML within the
// renderer's allow-list, links only to the site's http(s) pages).
func TestHostileFieldsInFeedsStreamAndJSON(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.SharedData(t, "attack/xss"), "patt-IntrudersXSS.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var payloads []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if p := strings.TrimSpace(sc.Text()); p != "" {
			payloads = append(payloads, p)
		}
	}
	f.Close()
	payloads = append(payloads, caseFoldTricks...)
	blns, err := os.ReadFile(filepath.Join(testenv.SharedData(t, "attack/naughty-strings"), "blns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(blns, &naughty); err != nil {
		t.Fatal(err)
	}
	for _, n := range naughty {
		if strings.TrimSpace(n) != "" && !slices.Contains(payloads, n) {
			payloads = append(payloads, n)
		}
	}
	cut := func(s string, n int) string {
		for utf8.RuneCountInString(s) > n {
			_, size := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-size]
		}
		return s
	}

	e := newEnv(t, envOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := openStream(t, ctx, e, "")
	next(t, stream, 5*time.Second, "ready")

	var pages []string
	posted := 0
	for i, p := range payloads {
		r := e.reader(cut(p, 64))
		// On the article, edited into the payload.
		res := r.post(fmt.Sprintf("Comment %d.", i), nil)
		if res.status == http.StatusBadRequest { // a name the API refuses
			r = e.reader("Mallory")
			res = r.post(fmt.Sprintf("Comment %d.", i), nil)
		}
		if res.status != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, res.status, res.body)
		}
		posted++
		id := int64(res.json(t)["comment"].(map[string]any)["id"].(float64))
		res = r.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]any{"text": p})
		if res.status != http.StatusOK && (res.status >= 500 || errCode(t, res) == "") {
			t.Errorf("edit into %q: %d %s", p, res.status, res.body)
		}
		// On a page of its own: the payload as title, in the URL, and as text.
		page := fmt.Sprintf("%s/x/%d/%s?q=%s", siteOrigin, i, url.PathEscape(cut(p, 100)), url.QueryEscape(cut(p, 200)))
		// (Not the article's text: that would be a duplicate.)
		res = r.post("On its own page: "+p, map[string]any{"url": page, "title": cut(p, 300)})
		if res.status != http.StatusCreated {
			if res.status >= 500 || errCode(t, res) == "" {
				t.Errorf("post on %q: %d %s", page, res.status, res.body)
			}
			continue
		}
		pages = append(pages, page)
		for _, path := range []string{"/api/v1/threads?site=news&url=" + url.QueryEscape(page)} {
			res := e.reader("").do("GET", path, nil)
			for _, c := range commentsOf(res.json(t)) {
				if bad := outsideAllowList(c["html"].(string)); len(bad) > 0 {
					t.Errorf("GET %s: HTML outside the allow-list %v: %q", path, bad, c["html"])
				}
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || res.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: Content-Type %q, X-Content-Type-Options %q", path, ct, res.header.Get("X-Content-Type-Options"))
			}
		}
	}

	// The stream: a created and an updated event per comment of the
	// article, each with ids only.
	seen := 0
	for timeout := time.After(15 * time.Second); seen < 2*posted; {
		select {
		case ev, ok := <-stream:
			if !ok {
				t.Fatal("stream closed")
			}
			seen++
			if !sseData.MatchString(ev.data) || !regexp.MustCompile(`^[a-z]+\.[a-z]+$`).MatchString(ev.typ) {
				t.Errorf("stream event %s %q carries more than ids", ev.typ, ev.data)
			}
		case <-timeout:
			t.Fatalf("%d stream events within 15 s, want %d", seen, 2*posted)
		}
	}

	// The feeds.
	checkHTML := func(where, s string) {
		t.Helper()
		if bad := outsideAllowList(s); len(bad) > 0 {
			t.Errorf("%s: HTML outside the allow-list %v: %q", where, bad, s)
		}
	}
	checkLink := func(where, l string) {
		t.Helper()
		u, err := url.Parse(l)
		if err != nil || u.Scheme+"://"+u.Host != siteOrigin {
			t.Errorf("%s: link %q is not to the site", where, l)
		}
	}
	items := 0
	for _, page := range append([]string{articleURL}, pages...) {
		q := "?site=news&url=" + url.QueryEscape(page)
		for _, path := range []string{"/api/v1/feeds/page.rss" + q, "/api/v1/feeds/page.atom" + q} {
			res := e.reader("").do("GET", path, nil)
			if res.status != http.StatusOK {
				t.Errorf("GET %s: %d %s", path, res.status, res.body)
				continue
			}
			checkFeedHeaders(t, path, res.header.Get("Content-Security-Policy"), res.header.Get("X-Content-Type-Options"))
			items += checkFeed(t, path, res.body, checkHTML, checkLink)
		}
	}
	for _, path := range []string{"/api/v1/feeds/site.rss?site=news", "/api/v1/feeds/site.atom?site=news"} {
		res := e.reader("").do("GET", path, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		items += checkFeed(t, path, res.body, checkHTML, checkLink)
	}
	if items < 2*len(pages) {
		t.Errorf("the feeds hold %d items, want at least %d", items, 2*len(pages))
	}
	t.Logf("%d payloads: %d comments on the article (edited), %d hostile pages; %d stream events, %d feed items", len(payloads), posted, len(pages), seen, items)
}

// checkFeed parses an RSS or Atom feed and checks each item's HTML and
// links; it returns the number of items.
func checkFeed(t *testing.T, path string, body []byte, checkHTML, checkLink func(where, s string)) int {
	t.Helper()
	if strings.Contains(path, ".rss") {
		var d struct {
			Channel struct {
				Link  string `xml:"link"`
				Items []struct {
					Title       string `xml:"title"`
					Link        string `xml:"link"`
					Description string `xml:"description"`
				} `xml:"item"`
			} `xml:"channel"`
		}
		if err := xml.Unmarshal(body, &d); err != nil {
			t.Errorf("%s does not parse: %v", path, err)
			return 0
		}
		checkLink(path, d.Channel.Link)
		for _, it := range d.Channel.Items {
			checkHTML(path, it.Description)
			checkLink(path, it.Link)
		}
		return len(d.Channel.Items)
	}
	var d struct {
		Title struct {
			Type string `xml:"type,attr"`
		} `xml:"title"`
		Links []struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			Title struct {
				Type string `xml:"type,attr"`
			} `xml:"title"`
			Link struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Content struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Errorf("%s does not parse: %v", path, err)
		return 0
	}
	if d.Title.Type != "" && d.Title.Type != "text" {
		t.Errorf("%s: feed title of type %q, want text", path, d.Title.Type)
	}
	for _, l := range d.Links {
		if !strings.HasPrefix(l.Href, "http://parley.test/") {
			checkLink(path, l.Href)
		}
	}
	for _, en := range d.Entries {
		if en.Title.Type != "" && en.Title.Type != "text" {
			t.Errorf("%s: entry title of type %q, want text", path, en.Title.Type)
		}
		if en.Content.Type != "html" {
			t.Errorf("%s: content of type %q, want html", path, en.Content.Type)
		}
		checkHTML(path, en.Content.Value)
		checkLink(path, en.Link.Href)
	}
	return len(d.Entries)
}
