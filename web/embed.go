// Package web holds the browser side of Parley, embedded into the binary:
// the reader's widget (widget/embed.js and widget/embed.css, plain
// JavaScript and CSS with no build step) and the demo article page that
// embeds it.
//
// The served script is embed.js with embed.css inlined, so a publisher's
// page makes one request for the widget and the stylesheet can be adopted
// into the widget's shadow root without a style-src exception in the
// page's Content-Security-Policy.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed widget/embed.js widget/embed.css widget/count.js widget/i18n/*.json
var widgetFiles embed.FS

//go:embed demo/index.html
var demoSource string

// DemoPublisherJS is the demo page's stand-in for a news site's own
// sign-in: it fetches a token from /demo/sso-token and calls Parley.login.
//
//go:embed demo/publisher.js
var DemoPublisherJS []byte

// Widget holds the widget's source files as written: embed.js and embed.css.
// Serve Script instead for readers; Widget is for tests and tools.
var Widget fs.FS = mustSub(widgetFiles, "widget")

// cssPlaceholder is the string literal in embed.js that the build replaces
// with the stylesheet.
const cssPlaceholder = `"__PARLEY_CSS__"`

// i18nPlaceholder is the string literal in embed.js that the build replaces
// with the message catalogues: English in full, the others by content hash.
const i18nPlaceholder = `"__PARLEY_I18N__"`

// catalogues are the widget's message catalogues but English, each served
// at /embed/i18n/<lang>.json; built before the script, which names their
// hashes.
var catalogues = mustBuildCatalogues()

// script is built once, at start-up, from the embedded sources.
var script = mustBuildScript()

// countScript is widget/count.js, the comment counts of index pages.
var countScript = func() *Asset {
	b, err := fs.ReadFile(widgetFiles, "widget/count.js")
	if err != nil {
		panic(err)
	}
	a, err := NewAsset("count.js", "text/javascript; charset=utf-8", b)
	if err != nil {
		panic(err)
	}
	return a
}()

// CountScript returns the script served at /count.js, which fills the
// [data-parley-count] elements of an index page with comment counts from
// one GET /api/v1/counts (web/README.md). Shared; do not modify.
func CountScript() *Asset { return countScript }

// Script returns the widget script as served at /embed.js: embed.js with the
// stylesheet inlined, ready to serve with ETag and gzip. The asset is shared;
// callers must not modify its byte slices.
func Script() *Asset { return script }

// Asset is a static file prepared for serving: its bytes, its gzipped bytes
// and a content hash used as the ETag.
type Asset struct {
	Name        string // e.g. "embed.js"
	ContentType string
	Body        []byte
	Gzip        []byte // Body compressed with gzip at the best compression level
	Hash        string // hex SHA-256 of Body, first 16 characters; changes with every change of the content
}

// NewAsset prepares body for serving under name with the given content type.
func NewAsset(name, contentType string, body []byte) (*Asset, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip %s: %w", name, err)
	}
	sum := sha256.Sum256(body)
	return &Asset{Name: name, ContentType: contentType, Body: body, Gzip: buf.Bytes(), Hash: hex.EncodeToString(sum[:])[:16]}, nil
}

// ETag returns the asset's strong entity tag, quoted.
func (a *Asset) ETag() string { return `"` + a.Hash + `"` }

// ServeHTTP serves the asset for GET and HEAD. Publishers' pages load it from
// an unversioned URL (/embed.js), so it is cached briefly and revalidated
// with its ETag; a request carrying ?v=<Hash> may be cached for a year.
// Gzip is sent to clients that accept it. Cross-Origin-Resource-Policy lets
// pages that require it (COEP) load the script from the comments host.
func (a *Asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("ETag", a.ETag())
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if r.URL.Query().Get("v") == a.Hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300, stale-while-revalidate=86400")
	}
	if etagMatch(r.Header.Get("If-None-Match"), a.Hash) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.Body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.Gzip
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

// etagMatch reports whether an If-None-Match header names the hash, as a
// strong or weak tag (compression proxies weaken tags), or is "*".
func etagMatch(header, hash string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == `"`+hash+`"` {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: gzip,
// or failing that *, listed with a q-value above zero.
func acceptsGzip(header string) bool {
	gzipQ, anyQ := -1.0, -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip":
			gzipQ = q
		case "*":
			anyQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// BuildScript returns the served script: js with its CSS placeholder
// replaced by css as a JavaScript string literal. Comments and indentation
// are stripped from the CSS; the script keeps every line where it is
// (compactJS), so that errors reported by readers' browsers point at the
// source lines.
func BuildScript(js, css []byte) ([]byte, error) {
	if n := bytes.Count(js, []byte(cssPlaceholder)); n != 1 {
		return nil, fmt.Errorf("embed.js: want one %s placeholder, found %d", cssPlaceholder, n)
	}
	js = compactJS(js)
	// json.Marshal escapes <, > and & and the line separators U+2028 and
	// U+2029, so the literal is valid JavaScript that cannot close a tag.
	lit, err := json.Marshal(compactCSS(string(css)))
	if err != nil {
		return nil, fmt.Errorf("embed.css: %w", err)
	}
	return bytes.Replace(js, []byte(cssPlaceholder), lit, 1), nil
}

var (
	cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	cssSpace   = regexp.MustCompile(`\s*\n\s*`)
)

// compactCSS removes comments and line breaks with their indentation. The
// stylesheet has no strings or urls that contain "/*" or line breaks.
func compactCSS(css string) string {
	css = cssComment.ReplaceAllString(css, "")
	return strings.TrimSpace(cssSpace.ReplaceAllString(css, "\n"))
}

// compactJS blanks the lines that are only a // comment and strips every
// line's indentation, except inside a template literal that spans lines,
// where the text is the string's. Line numbers stay the source's. It is a
// quarter of the widget's gzipped weight, for nothing a browser runs.
func compactJS(js []byte) []byte {
	lines := bytes.Split(js, []byte("\n"))
	inTemplate := false
	for i, l := range lines {
		if !inTemplate {
			t := bytes.TrimLeft(l, " \t")
			if bytes.HasPrefix(t, []byte("//")) {
				t = t[:0]
			}
			lines[i] = t
		}
		inTemplate = templateOpen(l, inTemplate)
	}
	return bytes.Join(lines, []byte("\n"))
}

// templateOpen reports whether a template literal is still open after the
// line, given whether one was open before it. Outside a template it skips
// quoted strings and stops at a // comment; the widget's regular
// expressions contain no quotes or backticks (TestCompactJS checks the
// result against the source with node).
func templateOpen(line []byte, open bool) bool {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			i++
		case open:
			if c == '`' {
				open = false
			}
		case c == '`':
			open = true
		case c == '"' || c == '\'':
			for i++; i < len(line) && line[i] != c; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case c == '/' && i+1 < len(line) && line[i+1] == '/':
			return false
		}
	}
	return open
}

func mustBuildScript() *Asset {
	js, err := fs.ReadFile(widgetFiles, "widget/embed.js")
	if err != nil {
		panic(err)
	}
	css, err := fs.ReadFile(widgetFiles, "widget/embed.css")
	if err != nil {
		panic(err)
	}
	body, err := BuildScript(js, css)
	if err != nil {
		panic(err)
	}
	if body, err = inlineCatalogues(body); err != nil {
		panic(err)
	}
	a, err := NewAsset("embed.js", "text/javascript; charset=utf-8", body)
	if err != nil {
		panic(err)
	}
	return a
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// demo is the demo article page. Its inline stylesheet is allowed by hash in
// the page's own Content-Security-Policy, which is as strict as a publisher's
// could be: the widget must work under it.
var demo = template.Must(template.New("demo").Parse(demoSource))

var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// DemoCSP is the Content-Security-Policy of the demo page: scripts and
// connections to its own origin only, its one inline stylesheet by hash, and
// nothing else. The widget needs no exception in it.
var DemoCSP = func() string {
	m := styleBlock.FindStringSubmatch(demoSource)
	if m == nil {
		panic("web: demo/index.html has no <style> block")
	}
	sum := sha256.Sum256([]byte(m[1]))
	return "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
		"style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"base-uri 'none'; form-action 'self'"
}()

// DemoPage renders the demo article page for the given site slug. The page
// loads /embed.js from its own origin, so it is served by the Parley server
// that holds the site.
func DemoPage(site string) ([]byte, error) { return DemoPageAt(site, "") }

// DemoPageAt is DemoPage with the article's canonical URL, so the thread is
// the same one whichever name of the server the page was opened under
// (http://localhost:8080/demo and http://127.0.0.1:8080/demo).
func DemoPageAt(site, canonical string) ([]byte, error) {
	var buf bytes.Buffer
	err := demo.Execute(&buf, struct {
		Site      string
		CSP       string
		Canonical string
	}{site, DemoCSP, canonical})
	if err != nil {
		return nil, fmt.Errorf("render demo page: %w", err)
	}
	return buf.Bytes(), nil
}

// Languages returns the languages the widget speaks, English first.
func Languages() []string {
	langs := []string{"en"}
	for l := range catalogues {
		langs = append(langs, l)
	}
	sort.Strings(langs[1:])
	return langs
}

// Catalogues returns the handler of /embed/i18n/<lang>.json: the message
// catalogue of one language but English (which is inside the script), with
// ETag and gzip, cached for a year under ?v=<hash> as the script asks for it.
func Catalogues() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := strings.CutPrefix(r.URL.Path, "/embed/i18n/")
		lang, ok := strings.CutSuffix(name, ".json")
		a := catalogues[lang]
		if !ok || a == nil {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}

// readCatalogue reads widget/i18n/<lang>.json as a JSON object.
func readCatalogue(lang string) (map[string]any, error) {
	b, err := fs.ReadFile(widgetFiles, "widget/i18n/"+lang+".json")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("widget/i18n/%s.json: %w", lang, err)
	}
	return m, nil
}

func mustBuildCatalogues() map[string]*Asset {
	files, err := fs.Glob(widgetFiles, "widget/i18n/*.json")
	if err != nil {
		panic(err)
	}
	out := map[string]*Asset{}
	for _, f := range files {
		lang := strings.TrimSuffix(path.Base(f), ".json")
		if lang == "en" {
			continue
		}
		m, err := readCatalogue(lang)
		if err != nil {
			panic(err)
		}
		body, err := json.Marshal(m)
		if err != nil {
			panic(err)
		}
		a, err := NewAsset(lang+".json", "application/json; charset=utf-8", body)
		if err != nil {
			panic(err)
		}
		out[lang] = a
	}
	return out
}

// inlineCatalogues replaces the script's I18N placeholder with
// {"en":{…},"langs":{"fr":"<hash>",…}}.
func inlineCatalogues(js []byte) ([]byte, error) {
	if n := bytes.Count(js, []byte(i18nPlaceholder)); n != 1 {
		return nil, fmt.Errorf("embed.js: want one %s placeholder, found %d", i18nPlaceholder, n)
	}
	en, err := readCatalogue("en")
	if err != nil {
		return nil, err
	}
	langs := map[string]string{}
	for l, a := range catalogues {
		langs[l] = a.Hash
	}
	lit, err := json.Marshal(map[string]any{"en": en, "langs": langs})
	if err != nil {
		return nil, err
	}
	return bytes.Replace(js, []byte(i18nPlaceholder), lit, 1), nil
}
