package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func readAdmin(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(AdminFiles, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// adminCode returns the lines of a JavaScript or CSS source that are not
// comments, so that prose may mention what code must not do.
func adminCode(src string) string {
	var out []string
	inBlock := false
	for _, l := range strings.Split(src, "\n") {
		s := strings.TrimSpace(l)
		switch {
		case inBlock:
			inBlock = !strings.Contains(s, "*/")
		case strings.HasPrefix(s, "/*"):
			inBlock = !strings.Contains(s, "*/")
		case strings.HasPrefix(s, "//"):
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestAdminServes(t *testing.T) {
	ui := Admin()
	js := readAdmin(t, "admin.js")
	css := readAdmin(t, "admin.css")
	page := AdminPage()
	tests := []struct {
		name        string
		method, url string
		header      map[string]string
		status      int
		contentType string // prefix
		cache       string // prefix of Cache-Control
		encoding    string
		body        string // the decoded body, when not empty
	}{
		{"page", "GET", "/admin", nil, 200, "text/html", "no-cache", "", string(page.Body)},
		{"page with slash", "GET", "/admin/", nil, 200, "text/html", "no-cache", "", string(page.Body)},
		{"page gzipped", "GET", "/admin", map[string]string{"Accept-Encoding": "gzip"}, 200, "text/html", "no-cache", "gzip", string(page.Body)},
		{"page revalidated", "GET", "/admin/", map[string]string{"If-None-Match": page.ETag()}, 304, "text/html", "no-cache", "", ""},
		{"page HEAD", "HEAD", "/admin", nil, 200, "text/html", "no-cache", "", ""},
		{"page POST", "POST", "/admin/", nil, 405, "text/plain", "", "", ""},
		{"script", "GET", "/admin/admin.js", nil, 200, "text/javascript", "public, max-age=300", "", js},
		{"script versioned", "GET", "/admin/admin.js?v=" + admin.js.Hash, map[string]string{"Accept-Encoding": "gzip"}, 200, "text/javascript", "public, max-age=31536000, immutable", "gzip", js},
		{"stylesheet", "GET", "/admin/admin.css?v=" + admin.css.Hash, nil, 200, "text/css", "public, max-age=31536000, immutable", "", css},
		{"unknown asset", "GET", "/admin/secret.txt", nil, 404, "text/plain", "", "", ""},
		{"source not served", "GET", "/admin/index.html", nil, 404, "text/plain", "", "", ""},
		{"no directory walk", "GET", "/admin/../embed.go", nil, 404, "text/plain", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			ui.ServeHTTP(w, r)
			res := w.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			// Every answer under /admin, errors included, is locked down.
			if got := res.Header.Get("Content-Security-Policy"); got != AdminCSP {
				t.Errorf("Content-Security-Policy = %q, want %q", got, AdminCSP)
			}
			if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options = %q, want DENY", got)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tt.status == 304 || tt.status >= 400 {
				return
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.contentType) {
				t.Errorf("Content-Type = %q, want prefix %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); !strings.HasPrefix(got, tt.cache) {
				t.Errorf("Cache-Control = %q, want prefix %q", got, tt.cache)
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			body, _ := io.ReadAll(res.Body)
			if tt.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body of %d bytes differs from the %d expected", len(body), len(tt.body))
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered with a body of %d bytes", len(body))
			}
		})
	}
}

// TestAdminCSPIsStrict pins the policy the brief asks for: nothing inline,
// nothing from another origin, no framing.
func TestAdminCSPIsStrict(t *testing.T) {
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"connect-src":     "'self'",
		"img-src":         "'self' data:",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
		"form-action":     "'self'",
	}
	got := map[string]string{}
	for _, d := range strings.Split(AdminCSP, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		got[name] = value
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %q, want %q", name, got[name], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("policy has %d directives, want %d: %s", len(got), len(want), AdminCSP)
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(AdminCSP, bad) {
			t.Errorf("policy allows %s", bad)
		}
	}
}

// TestAdminPageNamesVersionedAssets checks that the page loads the script
// and stylesheet by their content hash, so a new binary is never mixed with
// a cached script.
func TestAdminPageNamesVersionedAssets(t *testing.T) {
	page := string(AdminPage().Body)
	for _, want := range []string{
		`<script src="/admin/admin.js?v=` + admin.js.Hash + `" defer></script>`,
		`<link rel="stylesheet" href="/admin/admin.css?v=` + admin.css.Hash + `">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "{{") {
		t.Error("page still holds template actions")
	}
}

// TestAdminHTMLWorksUnderCSP checks the page for what the policy would block
// or what a strict page must not hold: inline scripts, inline styles, event
// attributes, other hosts, and forms that would put a password in a URL.
func TestAdminHTMLWorksUnderCSP(t *testing.T) {
	html := readAdmin(t, "index.html")
	tests := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"inline script", regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`)},
		{"script without src", regexp.MustCompile(`<script(?:\s(?:defer|async|type="[^"]*"))*>`)},
		{"style element", regexp.MustCompile(`<style`)},
		{"style attribute", regexp.MustCompile(`\sstyle=`)},
		{"event attribute", regexp.MustCompile(`\son[a-z]+=`)},
		{"other host", regexp.MustCompile(`(?i)(https?:)?//[a-z0-9]`)},
		{"GET form (would put fields in the URL)", regexp.MustCompile(`<form(?:\s(?:id|novalidate|class)(?:="[^"]*")?)*>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m := tt.re.FindString(html); m != "" {
				t.Errorf("index.html has %q", m)
			}
		})
	}
}

// TestAdminNoThirdPartyRequests checks that the script and stylesheet name
// no other host: every request goes to the page's own origin.
func TestAdminNoThirdPartyRequests(t *testing.T) {
	forbidden := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"absolute URL", regexp.MustCompile(`(?i)\b(https?|wss?|ftp)://`)},
		{"protocol-relative URL", regexp.MustCompile("[\"'`(]//[a-zA-Z0-9]")},
		{"CSS import", regexp.MustCompile(`(?i)@import`)},
		{"CSS url()", regexp.MustCompile(`\burl\(`)},
		{"dynamic import", regexp.MustCompile(`\bimport\s*\(`)},
		{"beacon or other channel", regexp.MustCompile(`sendBeacon|new Image\(|XMLHttpRequest|WebSocket|importScripts`)},
	}
	for _, name := range []string{"admin.js", "admin.css"} {
		code := adminCode(readAdmin(t, name))
		for _, f := range forbidden {
			t.Run(name+"/"+f.name, func(t *testing.T) {
				if m := f.re.FindString(code); m != "" {
					t.Errorf("%s has %q", name, m)
				}
			})
		}
	}
	js := adminCode(readAdmin(t, "admin.js"))
	for _, tt := range []struct{ call, want string }{
		{"fetch(", "fetch(API + path"},
		{"new EventSource(", "new EventSource(API + "},
	} {
		if got, want := strings.Count(js, tt.call), strings.Count(js, tt.want); got != 1 || want != 1 {
			t.Errorf("%d calls of %s, %d of them %q; want exactly one, on the admin API", got, tt.call, want, tt.want)
		}
	}
}

// TestAdminNoHTMLFromStrings checks the escaping rule: comment text, names,
// notes and messages never reach the DOM as HTML. The UI has no HTML sink
// at all, so no future line can feed one with untrusted data.
func TestAdminNoHTMLFromStrings(t *testing.T) {
	js := adminCode(readAdmin(t, "admin.js"))
	tests := []struct {
		name    string
		pattern string
	}{
		{"innerHTML", `innerHTML`},
		{"outerHTML, insertAdjacentHTML, document.write", `outerHTML|insertAdjacentHTML|document\.write`},
		{"HTML parsing", `DOMParser|createContextualFragment|parseHTMLUnsafe|setHTML`},
		{"eval", `\beval\(|new Function|setTimeout\(\s*["'` + "`]"},
		{"inline event attributes", `setAttribute\(\s*["']on|["'\s]on[a-z]+=`},
		{"style attributes", `\.style\b|["']style["']\s*:|setAttribute\(\s*["']style`},
		{"cookies or storage of the session", `document\.cookie|localStorage|sessionStorage`},
		{"javascript: URLs", `javascript:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m := regexp.MustCompile(tt.pattern).FindString(js); m != "" {
				t.Errorf("admin.js uses %q", m)
			}
		})
	}
	// Evidence is highlighted by code point: spans index Array.from(text).
	for _, want := range []string{`Array.from(text`, `h("mark"`} {
		if !strings.Contains(js, want) {
			t.Errorf("admin.js lacks %s", want)
		}
	}
}

// TestAdminAPIContract checks the script against docs/admin-api.md: every
// endpoint it needs, the CSRF header and the stream's event name.
func TestAdminAPIContract(t *testing.T) {
	js := adminCode(readAdmin(t, "admin.js"))
	for _, want := range []string{
		`new URL("../api/v1/admin"`,
		`"POST", "/login"`,
		`"POST", "/logout"`,
		`"GET", "/me"`,
		`"GET", "/sites"`,
		`"/queue?"`,
		`"/counts?"`,
		"`/comments/${id}/decision`",
		`"/comments/bulk"`,
		"`/comments/${id}/audit`",
		"`/users/${encodeURIComponent(id)}?`",
		"`/users/${encodeURIComponent(userId)}/sanction`",
		"`/users/${encodeURIComponent(id)}/reject-pending`",
		"`/users/${encodeURIComponent(userId)}/notes`",
		"`/sites/${encodeURIComponent(S.site)}/policy`",
		`"/stream?"`,
		`"queue.changed"`,
		`"X-CSRF-Token"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("admin.js lacks %s", want)
		}
	}
	for _, status := range []string{"pending", "reported", "unmoderated", "rejected", "approved"} {
		if !strings.Contains(js, `["`+status+`", "`) {
			t.Errorf("admin.js has no %s queue tab", status)
		}
	}
	// The policy form has a field for each setting the issue names.
	html := readAdmin(t, "index.html")
	for _, name := range []string{"mode", "pre_new_min_approved", "closed", "max_length", "max_links", "banned_words", "suspect_words",
		"report_threshold", "flood_per_minute", "flood_per_minute_ip", "flood_duplicate_window", "toxicity_hold", "toxicity_reject",
		"auto_premod.window", "auto_premod.rejected"} {
		if !strings.Contains(html, `name="`+name+`"`) {
			t.Errorf("policy form has no field %s", name)
		}
	}
}

// TestAdminShortcutsDocumented checks that every shortcut the script
// handles is in the help dialog.
func TestAdminShortcutsDocumented(t *testing.T) {
	js := adminCode(readAdmin(t, "admin.js"))
	html := readAdmin(t, "index.html")
	help := html[strings.Index(html, `<dialog id="help"`):]
	help = help[:strings.Index(help, "</dialog>")]
	for _, m := range regexp.MustCompile(`case "([a-z?])":`).FindAllStringSubmatch(js, -1) {
		if !strings.Contains(help, "<kbd>"+m[1]+"</kbd>") {
			t.Errorf("shortcut %s is not in the help", m[1])
		}
	}
	if !strings.Contains(help, "<kbd>1</kbd>–<kbd>5</kbd>") {
		t.Error("the queue keys 1–5 are not in the help")
	}
	for _, k := range []string{"j", "k", "a", "r", "b", "f", "n", "x", "?"} {
		if !strings.Contains(js, `"`+k+`"`) {
			t.Errorf("shortcut %s is not handled", k)
		}
	}
}

// TestAdminParses runs node --check on the script.
func TestAdminParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the syntax check needs it")
	}
	p := filepath.Join(t.TempDir(), "admin.js")
	if err := os.WriteFile(p, []byte(readAdmin(t, "admin.js")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, "--check", p).CombinedOutput(); err != nil {
		t.Errorf("node --check admin.js: %v\n%s", err, out)
	}
}

// TestAdminServesNothingBeyondItsPrefix checks that the handler, mounted on
// /admin and /admin/, answers nothing it does not own.
func TestAdminServesNothingBeyondItsPrefix(t *testing.T) {
	for _, path := range []string{"/", "/adminx", "/admin/admin.js/", "/admin/admin.jsx", "/embed.js"} {
		w := httptest.NewRecorder()
		Admin().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}

// TestAdminEvidenceRuns runs the script's runs function in node: the
// evidence spans the server sends (code-point offsets) must mark exactly
// those characters, also after astral characters such as emoji, where
// UTF-16 indexes would be off by one per character.
func TestAdminEvidenceRuns(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the check needs it")
	}
	js := readAdmin(t, "admin.js")
	m := regexp.MustCompile(`(?s)\n  const runs = \(text, reasons\) => \{\n.*?\n  \};\n`).FindString(js)
	if m == "" {
		t.Fatal("admin.js has no `const runs = (text, reasons) => {…};` at the top level of its IIFE")
	}
	type span struct {
		Start int `json:"start"`
		End   int `json:"end"`
	}
	type reason struct {
		Rule  string `json:"rule"`
		Spans []span `json:"spans"`
	}
	tests := []struct {
		name    string
		text    string
		reasons []reason
		want    [][2]string // [part, rules]
	}{
		{"no reasons", "all fine", nil, [][2]string{{"all fine", ""}}},
		{"empty text", "", []reason{{"suspect_word", []span{{0, 3}}}}, [][2]string{}},
		{"one word", "you are scum, ok", []reason{{"suspect_word", []span{{8, 12}}}},
			[][2]string{{"you are ", ""}, {"scum", "suspect_word"}, {", ok", ""}}},
		{"after emoji", "😀😀 you scum", []reason{{"suspect_word", []span{{7, 11}}}},
			[][2]string{{"😀😀 you ", ""}, {"scum", "suspect_word"}}},
		{"combining accent is its own code point", "cafe\u0301 scum", []reason{{"banned_word", []span{{6, 10}}}},
			[][2]string{{"cafe\u0301 ", ""}, {"scum", "banned_word"}}},
		{"overlapping rules", "abcdef", []reason{{"a", []span{{0, 4}}}, {"b", []span{{2, 6}}}},
			[][2]string{{"ab", "a"}, {"cd", "a b"}, {"ef", "b"}}},
		{"adjacent spans of one rule merge", "abcdef", []reason{{"a", []span{{0, 2}, {2, 4}}}},
			[][2]string{{"abcd", "a"}, {"ef", ""}}},
		{"a rule twice on one span", "abc", []reason{{"a", []span{{0, 3}}}, {"a", []span{{1, 2}}}},
			[][2]string{{"abc", "a"}}},
		{"spans out of range are clipped", "abc", []reason{{"a", []span{{-5, 1}, {2, 99}, {7, 9}}}},
			[][2]string{{"a", "a"}, {"b", ""}, {"c", "a"}}},
		{"empty and reversed spans mark nothing", "abc", []reason{{"a", []span{{1, 1}, {2, 1}}}},
			[][2]string{{"abc", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := json.Marshal(map[string]any{"text": tt.text, "reasons": tt.reasons})
			prog := m + "\nconst input = " + string(in) + ";\nprocess.stdout.write(JSON.stringify(runs(input.text, input.reasons)));\n"
			out, err := exec.Command(node, "-e", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, out)
			}
			var got [][2]string
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("node printed %s: %v", out, err)
			}
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("runs = %q, want %q", got, tt.want)
			}
		})
	}
}
