package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestBuildScript(t *testing.T) {
	tests := []struct {
		name    string
		js, css string
		want    string // substring of the output
		wantErr bool
	}{
		{"inlines the stylesheet", `const CSS = "__PARLEY_CSS__";`, ".a { color: red; }", `const CSS = ".a { color: red; }";`, false},
		{"strips comments and line breaks", `x("__PARLEY_CSS__")`, "/* note */\n.a {\n  color: red;\n}\n", `x(".a {\ncolor: red;\n}")`, false},
		{"cannot close a script tag", `x("__PARLEY_CSS__")`, `.a::after { content: "</script><b>"; }`, `\u003c/script\u003e\u003cb\u003e`, false},
		{"no placeholder", `const CSS = "";`, ".a{}", "", true},
		{"two placeholders", `"__PARLEY_CSS__" + "__PARLEY_CSS__"`, ".a{}", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildScript([]byte(tt.js), []byte(tt.css))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("got %s, want it to contain %s", got, tt.want)
			}
		})
	}
}

func TestScriptIsBuilt(t *testing.T) {
	s := Script()
	if bytes.Contains(s.Body, []byte(cssPlaceholder)) {
		t.Error("served script still holds the CSS placeholder")
	}
	if !bytes.Contains(s.Body, []byte(".parley-comment")) {
		t.Error("served script lacks the stylesheet")
	}
	if len(s.Hash) != 16 {
		t.Errorf("hash %q, want 16 hex characters", s.Hash)
	}
	zr, err := gzip.NewReader(bytes.NewReader(s.Gzip))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, s.Body) {
		t.Errorf("gzip does not decode to the body (err %v)", err)
	}
}

func TestAssetServeHTTP(t *testing.T) {
	a, err := NewAsset("x.js", "text/javascript; charset=utf-8", []byte("console.log('parley');\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		method, url  string
		header       map[string]string
		status       int
		encoding     string
		cacheControl string // prefix
		body         bool
	}{
		{"plain GET", "GET", "/x.js", nil, 200, "", "public, max-age=300", true},
		{"gzip", "GET", "/x.js", map[string]string{"Accept-Encoding": "br, gzip"}, 200, "gzip", "public, max-age=300", true},
		{"gzip refused", "GET", "/x.js", map[string]string{"Accept-Encoding": "gzip;q=0, *"}, 200, "", "public", true},
		{"versioned URL is immutable", "GET", "/x.js?v=" + a.Hash, nil, 200, "", "public, max-age=31536000, immutable", true},
		{"stale version is not", "GET", "/x.js?v=0000", nil, 200, "", "public, max-age=300", true},
		{"revalidation", "GET", "/x.js", map[string]string{"If-None-Match": a.ETag()}, 304, "", "public", false},
		{"weak revalidation", "GET", "/x.js", map[string]string{"If-None-Match": `"zz", W/` + a.ETag()}, 304, "", "public", false},
		{"changed content", "GET", "/x.js", map[string]string{"If-None-Match": `"0123456789abcdef"`}, 200, "", "public", true},
		{"HEAD", "HEAD", "/x.js", nil, 200, "", "public", false},
		{"POST", "POST", "/x.js", nil, 405, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			a.ServeHTTP(w, r)
			res := w.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status == 405 {
				return
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			if got := res.Header.Get("Cache-Control"); !strings.HasPrefix(got, tt.cacheControl) {
				t.Errorf("Cache-Control = %q, want prefix %q", got, tt.cacheControl)
			}
			if got := res.Header.Get("ETag"); got != a.ETag() {
				t.Errorf("ETag = %q, want %q", got, a.ETag())
			}
			body, _ := io.ReadAll(res.Body)
			if !tt.body {
				if len(body) != 0 {
					t.Errorf("body of %d bytes, want none", len(body))
				}
				return
			}
			if tt.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if !bytes.Equal(body, a.Body) {
				t.Errorf("body = %q, want %q", body, a.Body)
			}
			if got := res.Header.Get("Content-Type"); got != a.ContentType {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"*, gzip;q=0", false},
		{"deflate, br", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestDemoPage(t *testing.T) {
	tests := []struct {
		name, site string
		want       []string
		notWant    []string
	}{
		{
			name: "embeds the widget for the site",
			site: "demo",
			want: []string{`<div id="parley"></div><script src="/embed.js" data-site="demo" async></script>`, "Creative Commons", "<h1>"},
		},
		{
			name:    "escapes the slug",
			site:    `x"><script>alert(1)</script>`,
			want:    []string{`data-site="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`},
			notWant: []string{`<script>alert(1)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DemoPage(tt.site)
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %s", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(page, w) {
					t.Errorf("page contains %s", w)
				}
			}
		})
	}
}

// TestDemoPageCSP checks that the demo's own policy allows its inline style
// (by the hash of the bytes actually served) and nothing from elsewhere.
func TestDemoPageCSP(t *testing.T) {
	b, err := DemoPage("demo")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no style block")
	}
	sum := sha256.Sum256(m[1])
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(DemoCSP, hash) {
		t.Errorf("CSP %q lacks the style hash %s", DemoCSP, hash)
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(DemoCSP, want) {
			t.Errorf("CSP %q lacks %s", DemoCSP, want)
		}
	}
	if strings.Contains(DemoCSP, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", DemoCSP)
	}
	csp := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`).FindSubmatch(b)
	if csp == nil {
		t.Fatal("no CSP meta tag")
	}
	// The attribute is HTML-escaped ("'" as &#39;, "+" of the hash as
	// &#43;); the browser reads it unescaped.
	if got := html.UnescapeString(string(csp[1])); got != DemoCSP {
		t.Errorf("meta CSP = %q, want %q", got, DemoCSP)
	}
}

// TestDemoServesOverHTTP serves the demo page and the script the way the
// server does and checks that the page names the script the server has.
func TestDemoServesOverHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /embed.js", Script())
	mux.HandleFunc("GET /demo", func(w http.ResponseWriter, r *http.Request) {
		b, err := DemoPage("demo")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/demo")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	src := regexp.MustCompile(`<script src="([^"]+)"`).FindSubmatch(page)
	if src == nil {
		t.Fatal("demo page has no script")
	}
	res, err = http.Get(srv.URL + string(src[1]))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(res.Body) // the client undoes gzip itself
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(js, Script().Body) {
		t.Errorf("GET %s = %d with %d bytes, want the script (%d bytes)", src[1], res.StatusCode, len(js), len(Script().Body))
	}
}
