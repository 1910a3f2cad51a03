package service_test

// The importer's formats end to end: each export read by importer.NewReader
// and stored by Service.Import on a real SQLite store, and an export of
// Service.Export read back.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// importSite is a store with the site "news" and a service over it, as
// `parley import` runs it.
type importSite struct {
	t   *testing.T
	db  *sqlite.DB
	svc *service.Service
}

func newImportSite(t *testing.T) *importSite {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := service.New(db, render.New())
	if err := svc.CreateSite(t.Context(), &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	return &importSite{t: t, db: db, svc: svc}
}

// importText imports an export in format into the site.
func (s *importSite) importText(format, export string, moderate bool) (*service.ImportReport, error) {
	rd, err := importer.NewReader(format, strings.NewReader(export))
	if err != nil {
		return nil, err
	}
	return s.svc.Import(s.t.Context(), rd, service.ImportOptions{SiteID: "news", Source: format, Moderate: moderate, BatchSize: 1000})
}

// dumpSite describes every page and comment of the site "news" as a person
// checking an import would read them: one line per comment, in the order
// of the thread's numbers, with its parent and quote by number.
func dumpSite(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	list, err := st.Pages(ctx, store.PageQuery{SiteID: "news", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b store.PageActivity) int { return strings.Compare(a.Page.URL, b.Page.URL) })
	var b strings.Builder
	for _, pa := range list {
		p := pa.Page
		fmt.Fprintf(&b, "page %s %q closed=%v count=%d\n", p.URL, p.Title, p.Closed, p.Count)
		if len(p.Policy) > 0 {
			fmt.Fprintf(&b, "  policy %s\n", p.Policy)
		}
		cs, err := st.PageComments(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		num := map[int64]int{}
		for _, c := range cs {
			num[c.ID] = c.Number
		}
		for _, c := range cs {
			u, err := st.User(ctx, c.AuthorID)
			if err != nil {
				t.Fatalf("author of #%d: %v", c.Number, err)
			}
			fmt.Fprintf(&b, "  #%d parent=#%d quote=#%d %s by %q <%s> (%s) at %s edited=%v score=%d featured=%v seen=%v\n    %q\n",
				c.Number, num[c.ParentID], num[c.QuoteID], c.Status, c.AuthorName, u.Email, u.Role,
				c.Created.Format("2006-01-02T15:04:05.000Z07:00"), !c.Edited.IsZero(), c.Score, c.Featured, c.Seen, c.HTML)
			for _, r := range c.Reasons {
				fmt.Fprintf(&b, "    reason %s: %s\n", r.Rule, r.Message)
			}
		}
	}
	return b.String()
}

// TestImportFormats imports a small realistic export of each format and
// compares what is stored with a golden file; a second run adds nothing.
func TestImportFormats(t *testing.T) {
	for _, tc := range []struct {
		format, file string
		read         int
		byStatus     map[string]int
		users        int      // 0: not checked
		mentions     []string // among the reasons skipped and the warnings
	}{
		{"disqus", "disqus.xml", 8, map[string]int{"approved": 4, "deleted": 1, "rejected": 1}, 5,
			[]string{"deleted, without replies", "its page was deleted on the source"}},
		{"wordpress", "wordpress.xml", 0, map[string]int{"approved": 2, "pending": 1, "rejected": 1}, 0, []string{"skipped a pingback"}},
		{"remark42", "remark42.jsonl", 0, map[string]int{"approved": 3}, 0, []string{"line 6 is not a comment"}},
		{"parley", "parley.jsonl", 0, map[string]int{"approved": 3, "rejected": 1}, 0, []string{`unknown type "mystery"`}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			s := newImportSite(t)
			raw, err := os.ReadFile(filepath.Join("..", "importer", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := s.importText(tc.format, string(raw), false)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			imported := 0
			for _, n := range tc.byStatus {
				imported += n
			}
			if rep.Imported != imported || !mapsEqual(rep.ByStatus, tc.byStatus) {
				t.Errorf("imported %d %v, want %d %v", rep.Imported, rep.ByStatus, imported, tc.byStatus)
			}
			if tc.read != 0 && rep.Read != tc.read {
				t.Errorf("read %d comments, want %d", rep.Read, tc.read)
			}
			if tc.users != 0 && rep.UsersCreated != tc.users {
				t.Errorf("created %d users, want %d", rep.UsersCreated, tc.users)
			}
			said := fmt.Sprint(rep.Skipped, rep.Warnings)
			for _, m := range tc.mentions {
				if !strings.Contains(said, m) {
					t.Errorf("the report's skips and warnings lack %q: %s", m, said)
				}
			}
			got := dumpSite(t, s.db)
			golden := filepath.Join("testdata", "import-"+tc.format+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("stored site differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
			// Again: nothing new.
			rep, err = s.importText(tc.format, string(raw), false)
			if err != nil || rep.Imported != 0 || rep.UsersCreated != 0 || rep.Existing != imported {
				t.Errorf("second run: %+v, %v; want nothing imported, %d already there", rep, err, imported)
			}
			if again := dumpSite(t, s.db); again != got {
				t.Errorf("the second run changed the site:\n%s", again)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestImportModerate holds what the site's pipeline would hold when asked,
// and nothing when not.
func TestImportModerate(t *testing.T) {
	export := `<disqus xmlns:dsq="x"><thread dsq:id="t"><link>https://news.example.com/a</link></thread>
<post dsq:id="1"><thread dsq:id="t"/><message>&lt;p&gt;Thanks for the report.&lt;/p&gt;</message><createdAt>2020-01-01T00:00:00Z</createdAt><author><name>A</name></author></post>
<post dsq:id="2"><thread dsq:id="t"/><message>&lt;p&gt;Buy now http://a.example http://b.example http://c.example http://d.example http://e.example&lt;/p&gt;</message><createdAt>2020-01-01T00:01:00Z</createdAt><author><name>B</name></author></post>
</disqus>`
	for _, moderate := range []bool{false, true} {
		s := newImportSite(t)
		site, err := s.db.Site(t.Context(), "news")
		if err != nil {
			t.Fatal(err)
		}
		site.Policy = []byte(`{"max_links":2}`)
		if err := s.svc.UpdateSite(t.Context(), site); err != nil {
			t.Fatal(err)
		}
		rep, err := s.importText("disqus", export, moderate)
		wantHeld := map[bool]int{false: 0, true: 1}[moderate]
		if err != nil || rep.Held != wantHeld || rep.ByStatus["approved"] != 2-wantHeld {
			t.Errorf("moderate=%v: %+v, %v; want %d held", moderate, rep, err, wantHeld)
		}
	}
}

// TestImportXXE imports Disqus and WordPress exports built from the XXE
// payloads of the attack corpus: the DOCTYPE of each (declaring external
// and nested entities) in front of a valid export whose comment, title and
// author use every entity it declares. The import either fails cleanly or
// stores the entity references as text: nothing from the file system or
// the network, and no expansion.
func TestImportXXE(t *testing.T) {
	dir := testenv.SharedData(t, "attack/xxe")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Fatalf("no payloads in %s", dir)
	}
	passwd, _ := os.ReadFile("/etc/passwd")
	doctype := regexp.MustCompile(`(?s)<!DOCTYPE.*?(\]\s*>|>)`)
	entity := regexp.MustCompile(`<!ENTITY\s+(%\s*)?([A-Za-z0-9_]+)`)
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dt := doctype.FindString(string(payload))
		var refs string
		for _, m := range entity.FindAllStringSubmatch(string(payload), -1) {
			if m[1] == "" {
				refs += "&" + m[2] + ";"
			} else {
				refs += "%" + m[2] + ";"
			}
		}
		refs += "&file;&send;" // the write-up references entities it declares elsewhere
		exports := map[string]string{
			"disqus": `<?xml version="1.0"?>` + dt + `<disqus xmlns:dsq="x"><thread dsq:id="t"><link>https://news.example.com/x</link><title>T` + refs +
				`</title></thread><post dsq:id="1"><thread dsq:id="t"/><message>` + refs + `</message><createdAt>2020-01-01T00:00:00Z</createdAt><author><name>N` + refs + `</name></author></post></disqus>`,
			"wordpress": `<?xml version="1.0"?>` + dt + `<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>T` + refs +
				`</title><link>https://news.example.com/y</link><wp:post_id>1</wp:post_id><wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>N` + refs +
				`</wp:comment_author><wp:comment_content>` + refs + `</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_date_gmt>2020-01-01 00:00:00</wp:comment_date_gmt></wp:comment></item></channel></rss>`,
		}
		for format, export := range exports {
			for kind, input := range map[string]string{"envelope": export, "as is": string(payload)} {
				t.Run(filepath.Base(f)+"/"+format+"/"+kind, func(t *testing.T) {
					s := newImportSite(t)
					_, err := s.importText(format, input, false)
					stored := dumpSite(t, s.db)
					if err != nil && !strings.Contains(err.Error(), "not a valid export") {
						t.Errorf("import failed without saying why: %v", err)
					}
					for _, leak := range []string{"root:", "dosdos", "/bin/", "publicServer"} {
						if strings.Contains(stored, leak) {
							t.Errorf("stored data holds %q:\n%s", leak, stored)
						}
					}
					if len(passwd) > 20 && strings.Contains(stored, string(passwd[:20])) {
						t.Errorf("stored data holds /etc/passwd:\n%s", stored)
					}
					if input == export && err == nil && !strings.Contains(stored, "&amp;") && !strings.Contains(stored, "%") {
						t.Errorf("the entity references were neither refused nor kept as text:\n%s", stored)
					}
				})
			}
		}
	}
}

// TestImportXSS imports a Disqus export whose comments are the XSS vectors
// of the attack corpus and the naughty strings, as HTML and as text (and
// each as its author's name), and checks every stored HTML
// with an HTML parser: only the renderer's allow-list of elements and
// attributes, and no script URL.
func TestImportXSS(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.SharedData(t, "attack/xss"), "patt-IntrudersXSS.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(`<disqus xmlns:dsq="x"><thread dsq:id="t"><link>https://news.example.com/x</link></thread>`)
	// The vectors, then the naughty strings (blns.json), each also as the
	// author's name.
	lines := strings.Split(string(raw), "\n")
	blns, err := os.ReadFile(filepath.Join(testenv.SharedData(t, "attack/naughty-strings"), "blns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var naughty []string
	if err := json.Unmarshal(blns, &naughty); err != nil {
		t.Fatal(err)
	}
	lines = append(lines, naughty...)
	n := 0
	var xmlName strings.Builder
	for _, line := range lines {
		if strings.TrimSpace(line) == "" || !utf8.ValidString(line) {
			continue
		}
		xmlName.Reset()
		xml.EscapeText(&xmlName, []byte(line))
		// Each as the comment's HTML, and as its text.
		for _, msg := range []string{line, html.EscapeString(line)} {
			n++
			fmt.Fprintf(&b, `<post dsq:id="%d"><thread dsq:id="t"/><message><![CDATA[%s]]></message><createdAt>2020-01-01T00:00:00Z</createdAt><author><name>%s</name></author></post>`,
				n, strings.ReplaceAll(msg, "]]>", ""), xmlName.String())
		}
	}
	b.WriteString(`</disqus>`)
	s := newImportSite(t)
	if _, err := s.importText("disqus", b.String(), false); err != nil {
		t.Fatalf("import: %v", err)
	}
	st := s.db
	p, err := st.Page(context.Background(), "news", "https://news.example.com/x")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := st.PageComments(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < n/2 {
		t.Errorf("only %d of %d comments were stored; every vector as text should be", len(cs), n)
	}
	allowed := map[string][]string{"p": nil, "br": nil, "hr": nil, "em": nil, "strong": nil, "del": nil, "code": nil, "pre": nil,
		"blockquote": nil, "ul": nil, "ol": {"start"}, "li": nil, "a": {"href", "rel", "target"}}
	for _, c := range cs {
		z := html.NewTokenizer(strings.NewReader(c.HTML))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			attrs, ok := allowed[tok.Data]
			if !ok {
				t.Errorf("comment #%d: element <%s> in %q", c.Number, tok.Data, c.HTML)
			}
			for _, a := range tok.Attr {
				if !slices.Contains(attrs, a.Key) {
					t.Errorf("comment #%d: attribute %s on <%s> in %q", c.Number, a.Key, tok.Data, c.HTML)
				}
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if a.Key == "href" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") && !strings.HasPrefix(v, "#") {
					t.Errorf("comment #%d: link to %q", c.Number, a.Val)
				}
			}
		}
	}
}

// threadJSON is a page's thread as readers get it, as JSON, with comment
// ids replaced by numbers (ids differ between two databases).
func threadJSON(t *testing.T, st store.Store, url string) string {
	t.Helper()
	v, err := service.New(st, render.New()).Thread(context.Background(), service.ThreadRequest{SiteID: "news", URL: url, Sort: "oldest", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := st.PageComments(context.Background(), v.Page.ID)
	num := map[int64]int{}
	for _, c := range all {
		num[c.ID] = c.Number
	}
	type comment struct {
		Number, Parent, Quote int
		Author, HTML, Status  string
		Created, Edited       string
		Score, Replies        int
		Featured              bool
	}
	out := struct {
		URL, Title string
		Count      int
		Closed     bool
		Comments   []comment
	}{v.Page.URL, v.Page.Title, v.Page.Count, v.Closed, nil}
	for _, c := range v.Thread.Comments {
		out.Comments = append(out.Comments, comment{c.Number, num[c.ParentID], num[c.QuoteID], c.AuthorName, c.HTML, c.Status,
			c.Created.Format("2006-01-02T15:04:05.000Z"), c.Edited.Format("2006-01-02T15:04:05.000Z"), c.Score, c.Replies, c.Featured})
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExportImportRoundTrip builds threads through the service (replies,
// quotes, votes, reports, a held, a rejected and a deleted comment, a
// featured one, a closed page, pages with a policy override, one of them
// with no comments yet), exports the site, imports the export into a fresh
// server, and finds the same threads and page settings there.
func TestExportImportRoundTrip(t *testing.T) {
	orig := newImportSite(t)
	ctx := context.Background()
	const a, b, c = "https://news.example.com/2026/a", "https://news.example.com/2026/b", "https://news.example.com/2026/c"
	func() {
		st, svc := orig.db, orig.svc
		post := func(actor *service.Actor, url, text string, parent, quote int64) *parley.Comment {
			t.Helper()
			r, err := svc.Post(ctx, *actor, service.PostInput{SiteID: "news", URL: url, Title: "Story " + url[len(url)-1:], Text: text, Name: "Reader", ParentID: parent, QuoteID: quote})
			if err != nil {
				t.Fatalf("post %q: %v", text, err)
			}
			if actor.User == nil {
				actor.User = r.NewUser
			}
			return r.Comment
		}
		ann, bo, cy := &service.Actor{IP: "192.0.2.1"}, &service.Actor{IP: "192.0.2.2"}, &service.Actor{IP: "192.0.2.3"}
		c1 := post(ann, a, "The **council** was right, see https://example.org/minutes", 0, 0)
		c2 := post(bo, a, "Not at all.\n\n> The council was right\n\nThey were not.", c1.ID, c1.ID)
		c3 := post(cy, a, "Off topic, sorry", 0, 0)
		c4 := post(ann, a, "Reply to the deleted one", c3.ID, 0)
		c5 := post(bo, a, "Another view", 0, 0)
		post(cy, b, "On page b", 0, 0)
		mod := service.Actor{Admin: true}
		if _, _, err := svc.Vote(ctx, *cy, c1.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Vote(ctx, *ann, c2.ID, -1); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Report(ctx, *cy, c2.ID, service.ReportInput{Reason: "abuse", Note: "rude"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(ctx, *cy, c3.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetStatus(ctx, c5.ID, parley.StatusRejected, []parley.Reason{{Rule: "moderator", Message: "no"}}, true); err != nil {
			t.Fatal(err)
		}
		if err := st.SetFeatured(ctx, c4.ID, true); err != nil {
			t.Fatal(err)
		}
		_ = mod
	}()
	admin := service.Actor{Admin: true}
	closed := true
	if _, err := orig.svc.UpdatePage(ctx, admin, service.PageRef{SiteID: "news", URL: b}, service.PageUpdate{Closed: &closed}); err != nil {
		t.Fatalf("close: %v", err)
	}
	// Overrides: on a page with comments, and on one nobody has commented
	// on yet (made by setting it).
	for url, override := range map[string]string{a: `{"mode":"pre_all","max_links":1}`, c: `{"banned_words":["spoiler"]}`} {
		o, err := moderation.ParseOverride([]byte(override))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orig.svc.UpdatePage(ctx, admin, service.PageRef{SiteID: "news", URL: url}, service.PageUpdate{Policy: &o, Create: true}); err != nil {
			t.Fatalf("policy of %s: %v", url, err)
		}
	}
	wantExport := service.ExportReport{Pages: 3, Users: 3, Comments: 6, Reports: 1}
	var export bytes.Buffer
	if rep, err := orig.svc.Export(ctx, &export, service.ExportOptions{SiteID: "news"}); err != nil || *rep != wantExport {
		t.Fatalf("export: %+v, %v; want %+v", rep, err, wantExport)
	}
	raw := export.Bytes()
	if strings.Contains(string(raw), "@") && strings.Contains(string(raw), `"email"`) {
		t.Errorf("the export holds e-mail addresses without WithEmails")
	}

	fresh := newImportSite(t)
	if rep, err := fresh.importText("parley", export.String(), false); err != nil || rep.Imported != 6 {
		t.Fatalf("import: %+v, %v; want 6 imported", rep, err)
	}
	for _, url := range []string{a, b} {
		if got, want := threadJSON(t, fresh.db, url), threadJSON(t, orig.db, url); got != want {
			t.Errorf("thread of %s after the round trip:\n%s\nwant:\n%s", url, got, want)
		}
	}
	// The pages' settings came along: closed flags and overrides.
	for _, url := range []string{a, b, c} {
		got, want := pageSettings(t, fresh.db, url), pageSettings(t, orig.db, url)
		if got != want {
			t.Errorf("settings of %s after the round trip: got %s, want %s", url, got, want)
		}
		if url != b && !strings.Contains(want, "policy={") {
			t.Errorf("settings of %s before the export: %s; want an override", url, want)
		}
	}
	// The held, rejected and deleted comments and the report came along.
	counts, err := fresh.db.QueueCounts(ctx, "news")
	if err != nil || counts[store.QueueRejected] != 1 || counts[store.QueueReported] != 1 {
		t.Errorf("queues after the round trip: %v, %v; want one rejected and one reported", counts, err)
	}
	// Exporting the copy gives the same comments.
	if rep, err := fresh.svc.Export(ctx, io.Discard, service.ExportOptions{SiteID: "news"}); err != nil || *rep != wantExport {
		t.Fatalf("export of the copy: %+v, %v; want %+v", rep, err, wantExport)
	}
}

// pageSettings describes the closed flag and policy override of a page of
// the site "news".
func pageSettings(t *testing.T, st store.Store, url string) string {
	t.Helper()
	p, err := st.Page(context.Background(), "news", url)
	if err != nil {
		return fmt.Sprintf("no page (%v)", err)
	}
	return fmt.Sprintf("closed=%v policy=%s", p.Closed, p.Policy)
}
