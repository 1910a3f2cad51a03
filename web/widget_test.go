package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

// budget is the most the widget may weigh, JS and CSS together, gzipped.
const budget = 25 * 1024

func readWidget(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Widget, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

func TestWidgetSizeBudget(t *testing.T) {
	js, css := readWidget(t, "embed.js"), readWidget(t, "embed.css")
	tests := []struct {
		name string
		body []byte
	}{
		{"served script with its CSS inlined", Script().Body},
		{"source files", []byte(js + css)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := gzipSize(t, tt.body)
			t.Logf("%d bytes, %d bytes gzipped (budget %d)", len(tt.body), n, budget)
			if n > budget {
				t.Errorf("gzipped size = %d bytes, want at most %d", n, budget)
			}
		})
	}
	if got := len(Script().Gzip); got > budget {
		t.Errorf("served gzip = %d bytes, want at most %d", got, budget)
	}
}

// codeLines returns the lines of a source file that are not comment lines
// (those starting with //, /* or *): documentation may show an absolute
// example URL, code may not.
func codeLines(src string) []string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/*") || strings.HasPrefix(s, "*") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestWidgetNoThirdPartyRequests checks that nothing in the widget names
// another host: every request goes to the API base the script came from.
func TestWidgetNoThirdPartyRequests(t *testing.T) {
	forbidden := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"absolute URL", regexp.MustCompile(`(?i)\b(https?|wss?|ftp)://`)},
		{"protocol-relative URL", regexp.MustCompile("[\"'`(]//[a-zA-Z0-9]")},
		{"CSS import", regexp.MustCompile(`(?i)@import`)},
		{"CSS url() other than data:", regexp.MustCompile(`\burl\(\s*['"]?[^'"\s)d]`)},
		{"dynamic import", regexp.MustCompile(`\bimport\s*\(`)},
		{"beacon", regexp.MustCompile(`sendBeacon|new Image\(|XMLHttpRequest|WebSocket`)},
	}
	for _, name := range []string{"embed.js", "embed.css", "count.js"} {
		lines := codeLines(readWidget(t, name))
		for _, f := range forbidden {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				for i, l := range lines {
					if f.re.MatchString(l) {
						t.Errorf("code line %d: %s", i+1, strings.TrimSpace(l))
					}
				}
			})
		}
	}

	// Every request is made relative to the API base.
	js := readWidget(t, "embed.js")
	for _, tt := range []struct {
		name, call, want string
	}{
		{"fetch", "fetch(", "fetch(base + path"},
		{"EventSource", "new EventSource(", "new EventSource(base + "},
	} {
		t.Run("requests/"+tt.name, func(t *testing.T) {
			if got, want := strings.Count(js, tt.call), strings.Count(js, tt.want); got != 1 || want != 1 {
				t.Errorf("%d calls of %s, %d of them %q; want exactly one, relative to the API base", got, tt.call, want, tt.want)
			}
		})
	}
}

// TestWidgetStrictCSPAndEscaping checks the rules that keep the widget
// working under a strict Content-Security-Policy and safe with hostile names
// and titles.
func TestWidgetStrictCSPAndEscaping(t *testing.T) {
	js := strings.Join(codeLines(readWidget(t, "embed.js")), "\n")
	tests := []struct {
		name    string
		pattern string
		max     int
	}{
		// The one HTML sink is setHTML, fed only with the server's sanitised HTML.
		{"innerHTML only in setHTML", `innerHTML`, 1},
		{"no outerHTML or insertAdjacentHTML", `outerHTML|insertAdjacentHTML|document\.write`, 0},
		{"no eval", `\beval\(|new Function|setTimeout\(\s*["'` + "`]", 0},
		{"no inline event attributes", `setAttribute\(\s*["']on|["'\s]on[a-z]+=`, 0},
		{"no style attributes", `\.style\b|["']style["']\s*:|setAttribute\(\s*["']style`, 0},
		{"no cookies from script", `document\.cookie`, 0},
		{"no javascript: URLs", `javascript:`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(regexp.MustCompile(tt.pattern).FindAllString(js, -1))
			if n > tt.max {
				t.Errorf("%d matches of %s, want at most %d", n, tt.pattern, tt.max)
			}
		})
	}
	if !strings.Contains(js, `const setHTML = (el, html) => {`+"\n"+`    el.innerHTML =`) {
		t.Error("innerHTML is used outside setHTML")
	}
}

// TestWidgetAPIContract checks the widget against the fixed API: its paths,
// and the report reasons of the domain.
func TestWidgetAPIContract(t *testing.T) {
	js := readWidget(t, "embed.js")
	for _, p := range []string{
		`"/api/v1/threads?"`, `"/api/v1/me?"`, `"/api/v1/comments"`, `"/api/v1/comments/precheck"`,
		`"/api/v1/comments/" + encodeURIComponent(id)`, "/report`", "/vote`", `"/api/v1/stream?"`,
		`"comment.created"`, `"comment.updated"`, `"comment.removed"`, `"page.count"`,
		`credentials: "include"`, `withCredentials: true`,
	} {
		if !strings.Contains(js, p) {
			t.Errorf("embed.js does not contain %s", p)
		}
	}
	events := []string{parley.EventCommentCreated, parley.EventCommentUpdated, parley.EventCommentRemoved, parley.EventPageCount,
		parley.EventPageUpdated, parley.EventSiteUpdated}
	for _, e := range events {
		if !strings.Contains(js, `on("`+e+`"`) {
			t.Errorf("embed.js does not subscribe to %s", e)
		}
	}
	var got []string
	for _, m := range regexp.MustCompile(`\["(\w+)", "[^"]+"\],`).FindAllStringSubmatch(js[strings.Index(js, "const REASONS"):strings.Index(js, "const SORTS")], -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != strings.Join(parley.ReportReasons, ",") {
		t.Errorf("report reasons = %v, want %v", got, parley.ReportReasons)
	}
}

// TestWidgetHooksDocumented checks that every test hook README.md lists is in
// the widget, so browser tests written from the README find their elements.
func TestWidgetHooksDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	js := readWidget(t, "embed.js")
	classes := regexp.MustCompile(`\.(parley-[a-z0-9-]+)`).FindAllStringSubmatch(string(readme), -1)
	if len(classes) < 15 {
		t.Fatalf("README lists %d hooks, want the full list", len(classes))
	}
	for _, m := range classes {
		if !strings.Contains(js, m[1]) {
			t.Errorf("README names .%s, which embed.js never uses", m[1])
		}
	}
}

// TestWidgetParses runs node --check on the source and the served script.
func TestWidgetParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the syntax check needs it")
	}
	dir := t.TempDir()
	files := map[string][]byte{"embed.js": []byte(readWidget(t, "embed.js")), "served.js": Script().Body, "count.js": CountScript().Body}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(node, "--check", p).CombinedOutput(); err != nil {
				t.Errorf("node --check %s: %v\n%s", name, err, out)
			}
		})
	}
}

// TestCompactJS: whole-line comments and indentation go, every line stays
// where it was, and a template literal that spans lines keeps its text.
func TestCompactJS(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"indent and comment", "  // why\n  const a = 1; // kept\n", "\nconst a = 1; // kept\n"},
		{"template spanning lines", "  const s = `a\n  // not a comment\n    b`;\n  x();", "const s = `a\n  // not a comment\n    b`;\nx();"},
		{"backtick in a string", "  const q = \"`\";\n  y();", "const q = \"`\";\ny();"},
		{"backtick in a comment", "  z(); // see `keep`\n  w();", "z(); // see `keep`\nw();"},
		{"nested template on one line", "  a(`${b ? `c` : \"d\"}`);\n    e();", "a(`${b ? `c` : \"d\"}`);\ne();"},
		{"escaped backtick", "  const s = `a\\`\n  b`;\n  f();", "const s = `a\\`\n  b`;\nf();"},
	} {
		if got := string(compactJS([]byte(tc.in))); got != tc.want {
			t.Errorf("%s: compactJS(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
	src := readWidget(t, "embed.js")
	out := compactJS([]byte(src))
	if a, b := strings.Count(src, "\n"), bytes.Count(out, []byte("\n")); a != b {
		t.Errorf("compacted widget has %d lines, the source %d: browsers' error lines would not match", b, a)
	}
	if len(out) > len(src)*85/100 {
		t.Errorf("compacted widget is %d bytes of %d: comments and indentation were not removed", len(out), len(src))
	}
}
