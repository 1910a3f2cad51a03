package httpapi_test

import (
	"bufio"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
)

type rssParsed struct {
	Channel struct {
		Title       string `xml:"title"`
		Link        string `xml:"link"`
		Description string `xml:"description"`
		Items       []struct {
			GUID        string `xml:"guid"`
			PubDate     string `xml:"pubDate"`
			Description string `xml:"description"`
		} `xml:"item"`
	} `xml:"channel"`
}

type atomParsed struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Updated string `xml:"updated"`
	Entries []struct {
		ID      string `xml:"id"`
		Updated string `xml:"updated"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content string `xml:"content"`
	} `xml:"entry"`
}

// TestFeedsXSSCorpus posts every payload of the XSS corpus and checks that
// each feed parses as XML, has the required elements, and carries exactly
// the sanitised HTML the thread API shows (nothing unsanitised leaves).
func TestFeedsXSSCorpus(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.SharedData(t, "attack/xss"), "patt-IntrudersXSS.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var payloads []string
	for sc := bufio.NewScanner(f); sc.Scan() && len(payloads) < 40; {
		if p := strings.TrimSpace(sc.Text()); p != "" {
			payloads = append(payloads, p)
		}
	}
	e := newEnv(t, envOpts{})
	ann := e.reader("Ann <b>&</b>")
	for _, p := range payloads {
		if res := ann.post(p, nil); res.status != 201 && res.status != 200 {
			t.Fatalf("post %q: %d %s", p, res.status, res.body)
		}
	}
	want := map[string]bool{}
	for _, c := range commentsOf(ann.thread("&limit=1000")) {
		want[xmlChars(c["html"].(string))] = true
	}
	page := "/api/v1/feeds/page.%s?site=news&url=" + escape(articleURL)
	for _, path := range []string{strings.Replace(page, "%s", "rss", 1), "/api/v1/feeds/site.rss?site=news"} {
		res := ann.do("GET", path, nil)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/rss+xml") {
			t.Fatalf("%s: %d %s", path, res.status, res.header.Get("Content-Type"))
		}
		var d rssParsed
		if err := xml.Unmarshal(res.body, &d); err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		c := d.Channel
		if c.Title == "" || c.Link == "" || c.Description == "" || len(c.Items) == 0 {
			t.Fatalf("%s: channel lacks required elements: %+v", path, c)
		}
		for _, it := range c.Items {
			if it.GUID == "" || it.PubDate == "" || !want[it.Description] {
				t.Errorf("%s: item %q has no guid/pubDate or content not the sanitised HTML: %q", path, it.GUID, it.Description)
			}
		}
		checkFeedHeaders(t, path, res.header.Get("Content-Security-Policy"), res.header.Get("X-Content-Type-Options"))
		if strings.Contains(string(res.body), "<script") || strings.Contains(string(res.body), "<b>&") {
			t.Errorf("%s: unescaped markup in the feed", path)
		}
		etag := res.header.Get("ETag")
		if etag == "" || res.header.Get("Last-Modified") == "" {
			t.Fatalf("%s: no ETag or Last-Modified", path)
		}
		if r2 := ann.do("GET", path, nil, "If-None-Match", etag); r2.status != 304 {
			t.Errorf("%s with If-None-Match: %d, want 304", path, r2.status)
		}
	}
	for _, path := range []string{strings.Replace(page, "%s", "atom", 1), "/api/v1/feeds/site.atom?site=news"} {
		res := ann.do("GET", path, nil)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("%s: %d", path, res.status)
		}
		var d atomParsed
		if err := xml.Unmarshal(res.body, &d); err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		if d.ID == "" || d.Title == "" || d.Updated == "" || len(d.Entries) == 0 {
			t.Fatalf("%s: feed lacks required elements", path)
		}
		for _, en := range d.Entries {
			if en.ID == "" || en.Updated == "" || en.Link.Href == "" || !want[en.Content] {
				t.Errorf("%s: entry %q incomplete or content not the sanitised HTML", path, en.ID)
			}
		}
		checkFeedHeaders(t, path, res.header.Get("Content-Security-Policy"), res.header.Get("X-Content-Type-Options"))
	}
	// A new comment changes the page feed (the cache is dropped).
	before := ann.do("GET", strings.Replace(page, "%s", "rss", 1), nil).header.Get("ETag")
	ann.post("one more", nil)
	if after := ann.do("GET", strings.Replace(page, "%s", "rss", 1), nil).header.Get("ETag"); after == before {
		t.Error("page feed unchanged after a new comment")
	}
	if res := ann.do("GET", "/api/v1/feeds/page.rss?site=news", nil); res.status != 400 {
		t.Errorf("page feed without url: %d, want 400", res.status)
	}
}

func checkFeedHeaders(t *testing.T, path, csp, nosniff string) {
	t.Helper()
	if !strings.Contains(csp, "default-src 'none'") || nosniff != "nosniff" {
		t.Errorf("%s: CSP %q nosniff %q", path, csp, nosniff)
	}
}

// xmlChars is s as encoding/xml writes it: characters XML 1.0 cannot carry
// (control characters such as a payload's form feed) become U+FFFD.
func xmlChars(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
			return r
		}
		return '\uFFFD'
	}, s)
}
