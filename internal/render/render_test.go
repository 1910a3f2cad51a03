package render

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/testenv"
	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestRenderGolden renders every testdata/*.md and compares the result with
// testdata/*.golden.html; go test -run TestRenderGolden -update rewrites them.
func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	r := New()
	for _, in := range files {
		name := strings.TrimSuffix(filepath.Base(in), ".md")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Render(string(src)) + "\n"
			if err := checkHTML(got); err != nil {
				t.Errorf("unsafe output: %v\n%s", err, got)
			}
			golden := strings.TrimSuffix(in, ".md") + ".golden.html"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Render(%s) differs from %s:\n--- got\n%s--- want\n%s", in, golden, got, want)
			}
		})
	}
}

// TestRender pins single behaviours; the golden files show them in context.
func TestRender(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"paragraph", "Hello, world.", "<p>Hello, world.</p>"},
		{"empty", "", ""},
		{"blank", " \n\t\n", ""},
		{"emphasis", "*a* **b** ~~c~~", "<p><em>a</em> <strong>b</strong> <del>c</del></p>"},
		{"newline is a break", "a\nb", "<p>a<br>\nb</p>"},
		{"heading is bold", "# Big", "<p><strong>Big</strong></p>"},
		{"raw html is text", "<b>x</b>", "<p>&lt;b&gt;x&lt;/b&gt;</p>"},
		{"script is text", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
		{"link", "[a](https://example.com/x)", `<p><a href="https://example.com/x" rel="nofollow ugc noopener" target="_blank">a</a></p>`},
		{"autolink", "see https://example.com", `<p>see <a href="https://example.com" rel="nofollow ugc noopener" target="_blank">https://example.com</a></p>`},
		{"www autolink is https", "www.example.com", `<p><a href="https://www.example.com" rel="nofollow ugc noopener" target="_blank">www.example.com</a></p>`},
		{"email autolink", "me@example.com", `<p><a href="mailto:me@example.com" rel="nofollow ugc noopener">me@example.com</a></p>`},
		{"fragment link stays in page", "[#3](#c3)", `<p><a href="#c3" rel="nofollow ugc noopener">#3</a></p>`},
		{"javascript link is text", "[a](javascript:alert(1))", "<p>a</p>"},
		{"relative link is text", "[a](/admin)", "<p>a</p>"},
		{"user info link is text", "[bank](https://bank.example@evil.example/)", "<p>bank</p>"},
		{"image is a link", "![cat](https://img.example/cat.png)", `<p><a href="https://img.example/cat.png" rel="nofollow ugc noopener" target="_blank">cat</a></p>`},
		{"image without alt shows url", "![](https://img.example/c.png)", `<p><a href="https://img.example/c.png" rel="nofollow ugc noopener" target="_blank">https://img.example/c.png</a></p>`},
		{"data image is text", "![x](data:image/png;base64,AAAA)", "<p>x</p>"},
		{"ordered list start", "3. c\n4. d", "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>"},
		{"nul and invalid bytes", "a\x00b\xffc", "<p>a\uFFFDb\uFFFDc</p>"},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Render(tt.in); got != tt.want {
				t.Errorf("Render(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderNestingFlattened(t *testing.T) {
	r := New()
	for _, marker := range []string{">", "> ", "- ", "1. ", "* "} {
		t.Run(marker, func(t *testing.T) {
			in := strings.Repeat(marker, 50) + "deep"
			got := r.Render(in)
			for _, tag := range []string{"<blockquote", "<ul", "<ol"} {
				if n := strings.Count(got, tag); n > MaxDepth {
					t.Errorf("Render(%q) nests %d %s, want at most %d:\n%s", in, n, tag, MaxDepth, got)
				}
			}
			if !strings.Contains(got, "deep") {
				t.Errorf("Render(%q) lost the text:\n%s", in, got)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"plain", "Hello world", 50, "Hello world"},
		{"markup removed", "**Bold** and [a link](https://x.example) and `code`", 100, "Bold and a link and code"},
		{"blocks joined", "# Title\n\npara one\n\n- item\n- item two", 100, "Title para one item item two"},
		{"own quote left out", "> quoted text\n\nmy reply", 100, "my reply"},
		{"only a quote", "> quoted only", 100, "quoted only"},
		{"cut at a word", "The quick brown fox jumps over the lazy dog", 20, "The quick brown fox…"},
		{"cut inside a word backs off", "The quick brown fox jumps over the lazy dog", 18, "The quick brown…"},
		{"long word cut", "Supercalifragilistic", 10, "Supercali…"},
		{"exact fit", "abcde", 5, "abcde"},
		{"zero", "abc", 0, ""},
		{"one", "abc", 1, "…"},
		{"runes not bytes", "éééééééééé", 5, "éééé…"},
		{"white space collapsed", "a\t b\n\n\nc", 50, "a b c"},
		{"controls and bidi removed", "a\x07b c\u202ed\u2066e", 50, "a b cde"},
		{"html left as text", "<b>x</b> & y", 50, "<b>x</b> & y"},
		{"entities resolved", "&amp; &copy; &#65;", 50, "& © A"},
		{"escapes resolved", `\*not emphasis\*`, 50, "*not emphasis*"},
		{"image alt", "![a cat](https://img.example/c.png)", 50, "a cat"},
		{"autolink label", "see www.example.com", 50, "see www.example.com"},
		{"code block", "```\nx := 1\n```", 50, "x := 1"},
		{"invalid utf-8", "a\xffb", 50, "a\uFFFDb"},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Excerpt(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.n {
				t.Errorf("Excerpt(%q, %d) has %d runes", tt.in, tt.n, n)
			}
		})
	}
}

func TestCountLinks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"none", "no links here, example.com is not one", 0},
		{"markdown link", "[a](https://example.com)", 1},
		{"autolinks", "https://a.example www.b.example c@d.example <https://e.example>", 4},
		{"image", "![x](https://img.example/x.png)", 1},
		{"dropped links", "[a](javascript:alert(1)) [b](/rel) [c](ftp://x.example) ![d](data:image/png;base64,AA)", 0},
		{"in-page link", "[#3](#c3)", 0},
		{"link around image and autolink", "[![i](https://i.example) www.x.example](https://o.example)", 1},
		{"code is not a link", "`https://example.com`\n\n    https://example.org", 0},
		{"raw html is not a link", `<a href="https://example.com">x</a>`, 0},
		{"reference link", "[a][r]\n\n[r]: https://example.com", 1},
		{"many", strings.Repeat("https://spam.example/x ", 25), 25},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountLinks(tt.in); got != tt.want {
				t.Errorf("CountLinks(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if got := r.CountLinks(tt.in); got != tt.want {
				t.Errorf("Renderer.CountLinks(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if got := countOutLinks(r.Render(tt.in)); got != tt.want {
				t.Errorf("Render(%q) has %d links out, CountLinks says %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestRenderAttackCorpus renders every payload of the shared attack corpus:
// each file whole, each non-empty line, each line as a link and an image
// destination and as an autolink, and each string of blns.json.
func TestRenderAttackCorpus(t *testing.T) {
	dir := testenv.SharedData(t, "attack")
	payloads, err := attackPayloads(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 1000 {
		t.Fatalf("only %d payloads under %s; is the corpus complete?", len(payloads), dir)
	}
	r := New()
	failures := 0
	for _, p := range payloads {
		out := r.Render(p.text)
		if err := checkHTML(out); err != nil {
			failures++
			if failures <= 20 {
				t.Errorf("%s: Render(%q): %v\n%s", p.origin, p.text, err, out)
			}
		}
		if ex := r.Excerpt(p.text, 80); !utf8.ValidString(ex) || utf8.RuneCountInString(ex) > 80 {
			t.Errorf("%s: Excerpt(%q) = %q", p.origin, p.text, ex)
		}
		if got, want := r.CountLinks(p.text), countOutLinks(out); got != want {
			t.Errorf("%s: CountLinks(%q) = %d, but the HTML has %d", p.origin, p.text, got, want)
		}
	}
	t.Logf("rendered %d payloads from %s, %d failures", len(payloads), dir, failures)
}

type payload struct{ origin, text string }

// attackPayloads reads the corpus: every file except the README and the
// licences, whole and line by line.
func attackPayloads(dir string) ([]payload, error) {
	var out []payload
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := d.Name()
		if base == "README.md" || strings.HasPrefix(base, "LICENSE") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, payload{rel, string(b)})
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if strings.TrimSpace(line) == "" {
				continue
			}
			origin := fmt.Sprintf("%s:%d", rel, i+1)
			out = append(out,
				payload{origin, line},
				payload{origin + " as link", "[x](" + line + ")"},
				payload{origin + " as image", "![x](" + line + ")"},
				payload{origin + " as autolink", "<" + line + ">"},
			)
		}
		if strings.HasSuffix(base, ".json") {
			var strs []string
			if err := json.Unmarshal(b, &strs); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			for i, s := range strs {
				out = append(out, payload{fmt.Sprintf("%s[%d]", rel, i), s})
			}
		}
		return nil
	})
	return out, err
}

// pathological are 64 KiB inputs in the shapes that make markdown parsers
// super-linear (after CommonMark's pathological test suite), plus a few of
// our own.
var pathological = []struct {
	name string
	in   func(n int) string
}{
	{"nested quotes", func(n int) string { return strings.Repeat(">", n) + "a" }},
	{"nested quotes spaced", func(n int) string { return strings.Repeat("> ", n/2) + "a" }},
	{"nested list one line", func(n int) string { return strings.Repeat("- ", n/2) + "a" }},
	{"nested ordered one line", func(n int) string { return strings.Repeat("1. ", n/3) + "a" }},
	{"nested lists indented", func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(strings.Repeat("  ", i) + "* a\n")
		}
		return b.String()
	}},
	{"stars", func(n int) string { return strings.Repeat("*", n) }},
	{"stars and words", func(n int) string { return strings.Repeat("*a ", n/3) }},
	{"nested strong emphasis", func(n int) string {
		return strings.Repeat("*a **a ", n/14) + "b" + strings.Repeat(" a** a*", n/14)
	}},
	{"emphasis closers", func(n int) string { return strings.Repeat("a_ ", n/3) }},
	{"emphasis openers", func(n int) string { return strings.Repeat("_a ", n/3) }},
	{"mismatched delimiters", func(n int) string { return strings.Repeat("*a_ ", n/4) }},
	{"mismatched below threshold", func(n int) string {
		return strings.Repeat(strings.Repeat("*a_ ", maxDelims/2)+"\n\n", n/(2*maxDelims+2))
	}},
	{"delimiters multiple of 3", func(n int) string { return "a**b" + strings.Repeat("c* ", n/3) }},
	{"tildes", func(n int) string { return strings.Repeat("~a ", n/3) }},
	{"link openers", func(n int) string { return strings.Repeat("[a", n/2) }},
	{"link closers", func(n int) string { return strings.Repeat("a]", n/2) }},
	{"nested brackets", func(n int) string { return strings.Repeat("[", n/2) + "a" + strings.Repeat("]", n/2) }},
	{"link openers and emphasis closers", func(n int) string { return strings.Repeat("[ a_", n/4) }},
	{"unclosed links angle", func(n int) string { return strings.Repeat("[a](<b", n/6) }},
	{"unclosed links", func(n int) string { return strings.Repeat("[a](b", n/5) }},
	{"brackets and parens", func(n int) string { return strings.Repeat("[ (](", n/5) }},
	{"images in a link", func(n int) string {
		return "[" + strings.Repeat("![a](https://x.example) www.y.example ", n/40) + "](https://z.example)"
	}},
	{"backticks", func(n int) string {
		var b strings.Builder
		for i := 1; b.Len() < n; i++ {
			b.WriteString("e" + strings.Repeat("`", i))
		}
		return b.String()
	}},
	{"unclosed html comment", func(n int) string { return "</" + strings.Repeat("<!--", n/4) }},
	{"unclosed tags", func(n int) string { return strings.Repeat("<a ", n/3) }},
	{"html block lines", func(n int) string { return "<div>\n" + strings.Repeat("<x onclick=y>\n", n/14) }},
	{"backslashes", func(n int) string { return "[" + strings.Repeat(`\`, n) + "\n" }},
	{"entities", func(n int) string { return strings.Repeat("&#", n/2) }},
	{"reference definitions", func(n int) string { return strings.Repeat("[x]: /u\n", n/16) + strings.Repeat("[x]", n/6) }},
	{"www autolinks", func(n int) string { return strings.Repeat("www.a.bc ", n/9) }},
	{"email autolinks", func(n int) string { return strings.Repeat("a@b.cd ", n/7) }},
	{"url prefixes", func(n int) string { return strings.Repeat("https://", n/8) }},
	{"short lines", func(n int) string { return strings.Repeat("a\n", n/2) }},
}

// TestRenderPathological checks that every pathological input renders to
// sane output in time linear in its size. Wall-clock budgets flake on a
// shared machine, so the test compares the CPU time of this thread (not
// wall time: another process taking the core does not count) rendering the
// input at 64 KiB with the same input at 4 KiB, each the cheapest of five
// tries: linear work grows about 16×, the quadratic blow-ups this guards
// against 256× and more, and the limit sits at 64×, four times from each.
// Shapes that are merely n^1.5 (runs of ever longer backtick strings cost
// about 64×) stay far below the 100 ms floor at 64 KiB, which a quadratic
// blow-up passes by seconds. (The absolute times are in
// BenchmarkRenderPathological.)
func TestRenderPathological(t *testing.T) {
	const size = 64 << 10
	r := New()
	cost := func(in string) time.Duration {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		best := time.Duration(1<<63 - 1)
		for range 5 {
			start := threadCPU()
			r.Render(in)
			r.Excerpt(in, 200)
			CountLinks(in)
			best = min(best, threadCPU()-start)
		}
		return best
	}
	for _, p := range pathological {
		t.Run(p.name, func(t *testing.T) {
			in := p.in(size)
			out := r.Render(in)
			if err := checkHTML(out); err != nil {
				t.Errorf("unsafe output: %v", err)
			}
			if len(out) > 16*len(in)+1024 {
				t.Errorf("%d bytes rendered to %d bytes", len(in), len(out))
			}
			if raceEnabled || testing.Short() {
				return
			}
			small, large := cost(p.in(size/16)), cost(in)
			// A floor keeps timer granularity on tiny inputs from deciding.
			if large > 100*time.Millisecond && large > 64*max(small, time.Millisecond/2) {
				t.Errorf("16× the input took %.1f× the CPU time (%v → %v): not linear", float64(large)/float64(small), small, large)
			}
		})
	}
}

// TestCapIndent pins the indentation guard: ordinary indentation passes,
// a staircase is cut to maxIndent columns, tabs count to the next stop.
func TestCapIndent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"    code\n", "    code\n"},
		{strings.Repeat(" ", maxIndent) + "* a\n", strings.Repeat(" ", maxIndent) + "* a\n"},
		{strings.Repeat(" ", maxIndent+9) + "* a\n", strings.Repeat(" ", maxIndent) + "* a\n"},
		{strings.Repeat("\t", maxIndent/4+3) + "x", strings.Repeat("\t", maxIndent/4) + "x"},
		{" \t" + strings.Repeat("\t", maxIndent/4) + "x", " \t" + strings.Repeat("\t", maxIndent/4-1) + "x"},
	}
	for _, tt := range tests {
		got, cut := capIndent(tt.in)
		if got != tt.want || cut != (tt.in != tt.want) {
			t.Errorf("capIndent(%q) = %q, %v; want %q", tt.in, got, cut, tt.want)
		}
	}
}

// TestDefuseLeavesOrdinaryTextAlone makes sure the guard against
// pathological input changes nothing a person would write.
func TestDefuseLeavesOrdinaryTextAlone(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.md"))
	inputs := []string{comment, strings.Repeat(comment+"\n\n", 100)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		if got := defuse(in); got != in {
			t.Errorf("defuse changed %q into %q", in, got)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	r := New()
	inputs := []string{comment, "# h\n\n> q\n\n- a\n- b", "![x](https://a.example) www.b.example"}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = r.Render(in)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(inputs)
				if got := r.Render(inputs[k]); got != want[k] {
					t.Errorf("concurrent Render(%q) = %q, want %q", inputs[k], got, want[k])
					return
				}
				r.Excerpt(inputs[k], 20)
				CountLinks(inputs[k])
			}
		})
	}
	wg.Wait()
}

// comment is a typical reader comment of about 500 characters.
const comment = `I read the council's report too, and the **budget figures** don't add up. ` +
	`Page 14 says the new bridge costs *£12 million*, but the [planning application]` +
	`(https://planning.example.gov.uk/apps/2026/0412?view=full) puts it at £15m, ` +
	`and that's before the road works.

> The project is on time and on budget

Which budget? The one from 2024 or the revised one? Someone should ask at the ` +
	`next meeting on Thursday. Details at www.example-council.org/meetings if anyone wants to go.`

func BenchmarkRender(b *testing.B) {
	r := New()
	b.SetBytes(int64(len(comment)))
	b.ReportAllocs()
	for b.Loop() {
		r.Render(comment)
	}
}

func BenchmarkExcerpt(b *testing.B) {
	r := New()
	b.ReportAllocs()
	for b.Loop() {
		r.Excerpt(comment, 140)
	}
}

func BenchmarkRenderPathological(b *testing.B) {
	r := New()
	for _, p := range pathological {
		in := p.in(64 << 10)
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				r.Render(in)
			}
		})
	}
}

func FuzzRender(f *testing.F) {
	f.Add(comment)
	files, _ := filepath.Glob(filepath.Join("testdata", "*.md"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b))
		}
	}
	// Seed from the attack corpus when it is there; TestRenderAttackCorpus
	// is the test that insists on it.
	dir := os.Getenv("PARLEY_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(testenv.Root(), "..", "shared", "data")
	}
	if ps, err := attackPayloads(filepath.Join(dir, "attack")); err == nil {
		for _, p := range ps {
			f.Add(p.text)
		}
	}
	r := New()
	f.Fuzz(func(t *testing.T, in string) {
		out := r.Render(in)
		if err := checkHTML(out); err != nil {
			t.Fatalf("Render(%q): %v\n%s", in, err, out)
		}
		ex := r.Excerpt(in, 50)
		if !utf8.ValidString(ex) || utf8.RuneCountInString(ex) > 50 {
			t.Fatalf("Excerpt(%q, 50) = %q", in, ex)
		}
		if got, want := r.CountLinks(in), countOutLinks(out); got != want {
			t.Fatalf("CountLinks(%q) = %d, but Render made %d links out:\n%s", in, got, want, out)
		}
	})
}

// allowed lists the elements Render may produce and their attributes.
var allowed = map[string]map[string]bool{
	"p": {}, "br": {}, "hr": {}, "em": {}, "strong": {}, "del": {}, "code": {}, "pre": {},
	"blockquote": {}, "ul": {}, "li": {},
	"ol": {"start": true},
	"a":  {"href": true, "rel": true, "target": true},
}

// checkHTML parses out with the HTML tokenizer a browser-grade parser uses and
// reports the first thing a comment must not contain: invalid UTF-8, an
// element or attribute off the allow-list (so no script, style, event
// handler or image), a link without the rel attribute, a URL with another
// scheme than http, https or mailto (so no javascript:, vbscript: or data:),
// a comment or doctype, or unbalanced tags.
func checkHTML(out string) error {
	if !utf8.ValidString(out) {
		return errors.New("invalid UTF-8")
	}
	if strings.Contains(strings.ToLower(out), "<script") {
		return errors.New("contains <script")
	}
	var open []string
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				return z.Err()
			}
			if len(open) > 0 {
				return fmt.Errorf("unclosed <%s>", strings.Join(open, "> <"))
			}
			return nil
		case html.CommentToken, html.DoctypeToken:
			return fmt.Errorf("unexpected %v token %q", tt, z.Token().Data)
		case html.EndTagToken:
			tok := z.Token()
			if len(open) == 0 || open[len(open)-1] != tok.Data {
				return fmt.Errorf("</%s> closes nothing open (open: %v)", tok.Data, open)
			}
			open = open[:len(open)-1]
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			attrs, ok := allowed[tok.Data]
			if !ok {
				return fmt.Errorf("element <%s> is not allowed", tok.Data)
			}
			var rel, href string
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					return fmt.Errorf("event handler %s on <%s>", a.Key, tok.Data)
				}
				if !attrs[a.Key] {
					return fmt.Errorf("attribute %s on <%s> is not allowed", a.Key, tok.Data)
				}
				switch a.Key {
				case "href":
					href = a.Val
					if err := checkURL(a.Val); err != nil {
						return err
					}
				case "rel":
					rel = a.Val
				case "target":
					if a.Val != "_blank" {
						return fmt.Errorf("target=%q", a.Val)
					}
				}
			}
			if tok.Data == "a" && (href == "" || rel != Rel) {
				return fmt.Errorf("link %q with rel=%q, want a href and rel=%q", href, rel, Rel)
			}
			if tt == html.StartTagToken && tok.Data != "br" && tok.Data != "hr" {
				open = append(open, tok.Data)
			}
		}
	}
}

// checkURL reports a URL a browser could run or embed: one whose scheme,
// after the white space and control characters browsers ignore, is not
// http, https or mailto, and that is not an in-page fragment.
func checkURL(v string) error {
	norm := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, v))
	for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
		if strings.Contains(norm, bad) && !strings.HasPrefix(norm, "http") && !strings.HasPrefix(norm, "mailto:") {
			return fmt.Errorf("dangerous URL %q", v)
		}
	}
	for _, ok := range []string{"http://", "https://", "mailto:", "#"} {
		if strings.HasPrefix(norm, ok) {
			return nil
		}
	}
	return fmt.Errorf("URL %q has a scheme off the allow-list", v)
}

// countOutLinks counts the links out of the page in rendered HTML.
func countOutLinks(out string) int {
	n := 0
	z := html.NewTokenizer(strings.NewReader(out))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken {
			continue
		}
		tok := z.Token()
		for _, a := range tok.Attr {
			if tok.Data == "a" && a.Key == "href" && !strings.HasPrefix(a.Val, "#") {
				n++
			}
		}
	}
	return n
}

// TestMaxLinks: a comment renders its first MaxLinks links, of every kind, and
// the rest as their text; CountLinks counts what renders.
func TestMaxLinks(t *testing.T) {
	r := New()
	var b strings.Builder
	for i := range MaxLinks {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "www.a%d.example ", i)
		case 1:
			fmt.Fprintf(&b, "[t%d](https://b%d.example) ", i, i)
		case 2:
			fmt.Fprintf(&b, "![alt%d](https://c%d.example/i.png) ", i, i)
		default:
			fmt.Fprintf(&b, "u%d@d.example ", i)
		}
	}
	b.WriteString("[over](https://over.example) www.over2.example ![overalt](https://over3.example/x.png) over4@e.example")
	got := r.Render(b.String())
	if n := strings.Count(got, "<a "); n != MaxLinks {
		t.Errorf("rendered %d links, want %d", n, MaxLinks)
	}
	for _, text := range []string{"over", "www.over2.example", "overalt", "over4@e.example"} {
		if !strings.Contains(got, " "+text) {
			t.Errorf("text %q of a link over the limit is missing", text)
		}
	}
	for _, url := range []string{"over.example", "over3.example"} {
		if strings.Contains(got, url) {
			t.Errorf("link over the limit to %s rendered", url)
		}
	}
	if n := r.CountLinks(b.String()); n != MaxLinks {
		t.Errorf("CountLinks = %d, want %d", n, MaxLinks)
	}
}
