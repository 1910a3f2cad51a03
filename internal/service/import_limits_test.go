package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// TestImportLongURLNotCut: an imported page URL is kept whole or not at
// all. One of exactly MaxURLLength bytes is imported as it is; a longer
// one is not cut to the limit (which would file its comments under
// another page's address, or merge two pages) but left out, its comments
// skipped, with a warning naming it. In every format that has page URLs.
func TestImportLongURLNotCut(t *testing.T) {
	const prefix = "https://news.example.com/"
	atLimit := prefix + strings.Repeat("a", parley.MaxURLLength-len(prefix))
	over := atLimit + "b/rest-of-a-longer-address"
	exports := map[string]func(url string) string{
		"disqus": func(u string) string {
			return `<disqus xmlns:dsq="x"><thread dsq:id="t"><link>` + u + `</link><title>T</title></thread>` +
				`<post dsq:id="p"><thread dsq:id="t"/><message>hello</message><createdAt>2020-01-01T00:00:00Z</createdAt><author><name>Ann</name></author></post></disqus>`
		},
		"wordpress": func(u string) string {
			return `<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>T</title><link>` + u + `</link><wp:post_id>1</wp:post_id>` +
				`<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Ann</wp:comment_author><wp:comment_date_gmt>2020-01-01 00:00:00</wp:comment_date_gmt>` +
				`<wp:comment_content>hello</wp:comment_content><wp:comment_approved>1</wp:comment_approved></wp:comment></item></channel></rss>`
		},
		"remark42": func(u string) string {
			b, _ := json.Marshal(map[string]any{"id": "c1", "text": "<p>hello</p>", "time": "2020-01-01T00:00:00Z", "title": "T",
				"user": map[string]any{"name": "Ann", "id": "ann"}, "locator": map[string]any{"site": "news", "url": u}})
			return `{"version":1,"users":[],"posts":[]}` + "\n" + string(b) + "\n"
		},
	}
	for format, export := range exports {
		t.Run(format, func(t *testing.T) {
			s := newImportSite(t)
			rep, err := s.importText(format, export(atLimit), false)
			if err != nil || rep.Imported != 1 {
				t.Fatalf("a URL of %d bytes: %v, report %+v", len(atLimit), err, rep)
			}
			if p, err := s.db.Page(context.Background(), "news", atLimit); err != nil || p.URL != atLimit {
				t.Errorf("the page of %d bytes: %v", len(atLimit), err)
			}

			s = newImportSite(t)
			rep, err = s.importText(format, export(over), false)
			if err != nil {
				t.Fatalf("a URL of %d bytes: %v", len(over), err)
			}
			if rep.Imported != 0 {
				t.Errorf("a URL of %d bytes: %d comments imported, want none", len(over), rep.Imported)
			}
			if _, err := s.db.Page(context.Background(), "news", atLimit); parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("a URL of %d bytes was cut to the %d of another page (%v)", len(over), len(atLimit), err)
			}
			if w := fmt.Sprint(rep.Warnings); !strings.Contains(w, "longer than") {
				t.Errorf("no warning that the URL is too long: %s", w)
			}
		})
	}
}

// TestImportLongNameAndTitle: an imported author's name and page title
// over Parley's limits are cut (an import repairs what it can) at a
// character boundary to exactly the limit, and the report says so.
func TestImportLongNameAndTitle(t *testing.T) {
	name := strings.Repeat("𝒜", service.MaxNameRunes) + "z"
	title := strings.Repeat("é", service.MaxTitle) + "z"
	b, _ := json.Marshal(map[string]any{"id": "c1", "text": "<p>hello</p>", "time": "2020-01-01T00:00:00Z", "title": title,
		"user": map[string]any{"name": name, "id": "ann"}, "locator": map[string]any{"site": "news", "url": "https://news.example.com/a"}})
	s := newImportSite(t)
	rep, err := s.importText("remark42", `{"version":1,"users":[],"posts":[]}`+"\n"+string(b)+"\n", false)
	if err != nil || rep.Imported != 1 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	p, err := s.db.Page(context.Background(), "news", "https://news.example.com/a")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != title[:len(title)-1] {
		t.Errorf("title stored as %d characters (valid UTF-8 %v), want the first %d", utf8.RuneCountInString(p.Title), utf8.ValidString(p.Title), service.MaxTitle)
	}
	cs, err := s.db.PageComments(context.Background(), p.ID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("comments: %v %d", err, len(cs))
	}
	if cs[0].AuthorName != name[:len(name)-1] {
		t.Errorf("name stored as %d characters (valid UTF-8 %v), want the first %d", utf8.RuneCountInString(cs[0].AuthorName), utf8.ValidString(cs[0].AuthorName), service.MaxNameRunes)
	}
	w := fmt.Sprint(rep.Warnings)
	for _, want := range []string{"title was cut to 300 characters", "name was cut to 64 characters"} {
		if !strings.Contains(w, want) {
			t.Errorf("the report does not say %q: %s", want, w)
		}
	}
}
