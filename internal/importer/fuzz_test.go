package importer

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/render"
)

// fuzzReader reads every record of an arbitrary input: the reader must
// neither panic nor loop, and what it yields must be within its caps.
func fuzzReader(t *testing.T, format string, data []byte) {
	rd, err := NewReader(format, strings.NewReader(string(data)))
	if err != nil {
		return
	}
	for n := 0; ; n++ {
		rec, err := rd.Next()
		if err != nil {
			if err != io.EOF && rec.Comment != nil {
				t.Fatalf("a record with an error: %+v", rec)
			}
			return
		}
		if n > len(data)+10 {
			t.Fatalf("%d records from %d bytes: the reader does not advance", n, len(data))
		}
		if c := rec.Comment; c != nil {
			if len(c.Body) > MaxBody || len(c.Author.Name) > MaxShort || len(c.ID) > MaxShort {
				t.Fatalf("a field over its cap: body %d, name %d, id %d", len(c.Body), len(c.Author.Name), len(c.ID))
			}
			if format != FormatRemark42 && format != FormatParley && !utf8.ValidString(c.Body) {
				t.Fatalf("invalid UTF-8 from the XML reader: %q", c.Body)
			}
		}
	}
}

// seed adds the files of testdata and, when present, the attack corpus.
func seed(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil && len(b) < 1<<20 {
				f.Add(b)
			}
		}
	}
}

// attack is the attack corpus beside the repository (PARLEY_SHARED_DATA
// overrides); seeds from it are added when it is there.
func attack(sub string) string {
	base := os.Getenv("PARLEY_SHARED_DATA")
	if base == "" {
		base = filepath.Join("..", "..", "..", "shared", "data")
	}
	return filepath.Join(base, "attack", sub)
}

func FuzzDisqus(f *testing.F) {
	seed(f, "testdata/disqus.xml", filepath.Join(attack("xxe"), "*.xml"), filepath.Join(attack("import-baseline"), "*disqus*.xml"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, FormatDisqus, data) })
}

func FuzzWordPress(f *testing.F) {
	seed(f, "testdata/wordpress.xml", filepath.Join(attack("xxe"), "*.xml"), filepath.Join(attack("import-baseline"), "*wordpress*.xml"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, FormatWordPress, data) })
}

func FuzzRemark42(f *testing.F) {
	seed(f, "testdata/remark42.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, FormatRemark42, data) })
}

func FuzzParley(f *testing.F) {
	seed(f, "testdata/parley.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, FormatParley, data) })
}

func FuzzMarkdown(f *testing.F) {
	f.Add(`<p>a <b>b</b> <a href="https://x.example">c</a></p><script>x</script>`)
	if b, err := os.ReadFile(filepath.Join(attack("xss"), "patt-IntrudersXSS.txt")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
	}
	r := render.New()
	f.Fuzz(func(t *testing.T, s string) {
		out := strings.ToLower(r.Render(Markdown(s)))
		for _, bad := range []string{`href="javascript`, `href="data:`, `href="vbscript`, "<script", "<img", "<iframe"} {
			if strings.Contains(out, bad) {
				t.Fatalf("Markdown(%q) renders %q, which holds %q", s, out, bad)
			}
		}
		if onAttr(out) {
			t.Fatalf("Markdown(%q) renders %q, with an event handler", s, out)
		}
	})
}

// onAttr reports whether rendered HTML has an on… attribute inside a tag.
func onAttr(h string) bool {
	inTag := false
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '<':
			inTag = true
		case '>':
			inTag = false
		case ' ':
			if inTag && strings.HasPrefix(h[i+1:], "on") {
				return true
			}
		}
	}
	return false
}
