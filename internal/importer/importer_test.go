package importer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readAll reads every record of an export.
func readAll(t testing.TB, format string, r io.Reader) ([]Record, error) {
	rd, err := NewReader(format, r)
	if err != nil {
		return nil, err
	}
	var out []Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, rec)
		if len(out) > 1_000_000 {
			t.Fatalf("%s: a reader that never ends", format)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		format, file string
	}{
		{FormatDisqus, "disqus.xml"},
		{FormatWordPress, "wordpress.xml"},
		{FormatRemark42, "remark42.jsonl"},
		{FormatParley, "parley.jsonl"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := readAll(t, tc.format, f)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			got, err := json.MarshalIndent(recs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file+".golden.json")
			if *update {
				os.WriteFile(golden, append(got, '\n'), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Errorf("records differ from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

func TestGzipAndFormatErrors(t *testing.T) {
	raw, err := os.ReadFile("testdata/disqus.xml")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	plain, err := readAll(t, FormatDisqus, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := readAll(t, FormatDisqus, &gz)
	if err != nil || len(zipped) != len(plain) {
		t.Errorf("gzip: %d records, %v; want %d", len(zipped), err, len(plain))
	}
	for _, tc := range []struct {
		name, format, input string
	}{
		{"disqus given WXR", FormatDisqus, `<rss><channel/></rss>`},
		{"wordpress given Disqus", FormatWordPress, `<disqus></disqus>`},
		{"remark42 given XML", FormatRemark42, `<disqus></disqus>`},
		{"remark42 of a newer version", FormatRemark42, `{"version":7}`},
		{"parley given remark42", FormatParley, `{"version":1}`},
		{"parley of a newer version", FormatParley, `{"type":"header","format":"parley","version":2}`},
		{"empty parley", FormatParley, ``},
		{"truncated disqus", FormatDisqus, `<disqus><post dsq:id="1"><message>cut`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.format, strings.NewReader(tc.input))
			if !errors.Is(err, ErrFormat) {
				t.Errorf("got %v, want an error wrapping ErrFormat", err)
			}
		})
	}
	if _, err := NewReader("blogger", strings.NewReader("")); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// TestBadBytes shows that invalid UTF-8 and control characters are
// replaced, with a warning, instead of failing the import.
func TestBadBytes(t *testing.T) {
	in := "<disqus><thread dsq:id=\"1\"><link>https://x.example/a</link></thread>" +
		"<post dsq:id=\"2\"><thread dsq:id=\"1\"/><message>caf\xe9 \x01bell\x00</message></post></disqus>"
	recs, err := readAll(t, FormatDisqus, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var warned bool
	var body string
	for _, r := range recs {
		warned = warned || strings.Contains(r.Warning, "replaced")
		if r.Comment != nil {
			body = r.Comment.Body
		}
	}
	if !warned || body != "caf\uFFFD \uFFFDbell\uFFFD" {
		t.Errorf("got body %q, warned %v; want replacement characters and a warning", body, warned)
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("a", MaxBody+10)
	in := `<disqus><thread dsq:id="1"><link>https://x.example/a</link></thread><post dsq:id="2"><thread dsq:id="1"/><message>` +
		big + `</message><author><name>` + strings.Repeat("n", 3*MaxShort) + `</name></author></post></disqus>`
	recs, err := readAll(t, FormatDisqus, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	c := recs[len(recs)-1].Comment
	if c == nil || len(c.Body) != MaxBody || !c.Truncated || len(c.Author.Name) != MaxShort {
		t.Fatalf("got %+v; want the body cut at MaxBody and marked, the name at MaxShort", recs[len(recs)-1])
	}
	// A JSON line over MaxLine is skipped with a warning; the next is read.
	var b strings.Builder
	b.WriteString(`{"version":1}` + "\n")
	b.WriteString(`{"id":"1","text":"` + strings.Repeat("x", MaxLine) + `","locator":{"url":"https://x.example/a"}}` + "\n")
	b.WriteString(`{"id":"2","text":"ok","locator":{"url":"https://x.example/a"}}` + "\n")
	recs, err = readAll(t, FormatRemark42, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !strings.Contains(recs[0].Warning, "over") || recs[2].Comment == nil || recs[2].Comment.ID != "2" {
		t.Errorf("got %+v; want a warning, the page and comment 2", recs)
	}
}

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"paragraphs and emphasis", "<p>One <b>two</b></p><p><i>three</i></p>", "One **two**\n\n*three*"},
		{"line break", "a<br>b<br/>c", "a\nb\nc"},
		{"safe link", `<a href="https://example.org/x (1)">the report</a>`, "[the report](https://example.org/x%20%281%29)"},
		{"javascript link is text", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"data link is text", `<a href="data:text/html,x">click</a>`, "click"},
		{"script dropped", `hi<script>alert(1)</script><style>p{}</style> there`, "hi there"},
		{"event handler gone", `<img src=x onerror=alert(1)>ok`, "ok"},
		{"image becomes a link", `<img src="https://img.example/a.png">`, "[image](https://img.example/a.png)"},
		{"markup characters escaped", `2 * 3 = 6 [ok] _x_ <b>`, `2 \* 3 = 6 \[ok\] \_x\_ **`},
		{"html in text stays text", `&lt;script&gt;alert(1)&lt;/script&gt;`, `\<script>alert(1)\</script>`},
		{"heading marker escaped", `<p># not a heading</p>`, `\# not a heading`},
		{"quote", `<blockquote>quoted<br>two</blockquote><p>reply</p>`, "> quoted\n> two\n\nreply"},
		{"list", `<ul><li>a</li><li>b</li></ul><ol><li>c</li></ol>`, "- a\n\n- b\n\n1. c"},
		{"code", `<code>x*y</code> and <pre>a *b*
c</pre>`, "`x*y` and\n\n```\na *b*\nc\n```"},
		{"entities", `caf&eacute; &amp; &#39;tea&#39;`, "café & 'tea'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Markdown(tc.in); got != tc.want {
				t.Errorf("Markdown(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestParleyPagePolicy: a page line's policy override is passed on as the
// JSON it is; a page line without one (an export written before overrides
// were carried) or with null has none; one over MaxPolicy is dropped with
// a warning after its page, which is kept.
func TestParleyPagePolicy(t *testing.T) {
	const header = `{"type":"header","format":"parley","version":1,"site":"news","exported":"2026-02-01T10:00:00Z"}`
	page := func(url, rest string) string {
		return `{"type":"page","url":"https://x.example/` + url + `","title":"T"` + rest + `,"created":"2026-01-20T07:00:00Z"}`
	}
	big := `{"banned_words":["` + strings.Repeat("w", MaxPolicy) + `"]}`
	in := strings.Join([]string{header,
		page("set", `,"policy": {"mode":"pre_all", "max_links":0} `),
		page("old", ``),
		page("null", `,"policy":null`),
		page("big", `,"closed":true,"policy":`+big),
		page("after", `,"policy":{"max_links":2}`),
	}, "\n")
	recs, err := readAll(t, FormatParley, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		switch {
		case r.Page != nil:
			got = append(got, fmt.Sprintf("page %s closed=%v policy=%s", r.Page.Key[len("https://x.example/"):], r.Page.Closed, r.Page.Policy))
		case strings.Contains(r.Warning, "policy override of page https://x.example/big is over"):
			got = append(got, "warning about big")
		default:
			got = append(got, fmt.Sprintf("%+v", r))
		}
	}
	want := []string{
		`page set closed=false policy={"mode":"pre_all", "max_links":0}`,
		`page old closed=false policy=`,
		`page null closed=false policy=`,
		`page big closed=true policy=`,
		`warning about big`,
		`page after closed=false policy={"max_links":2}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\ngot  %q\nwant %q", got, want)
	}
}
