package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
)

// The moderator UI: admin/index.html, admin/admin.js and admin/admin.css,
// plain HTML, JavaScript and CSS with no build step. It talks only to the
// admin API of docs/admin-api.md on its own origin.

//go:embed admin/index.html admin/admin.js admin/admin.css
var adminFiles embed.FS

// AdminFiles holds the moderator UI's source files as written: index.html,
// admin.js and admin.css. Serve Admin instead; AdminFiles is for tests and
// tools.
var AdminFiles fs.FS = mustSub(adminFiles, "admin")

// AdminCSP is the Content-Security-Policy of every response under /admin:
// the page loads its script, stylesheet and API from its own origin and
// nothing else, has no inline script or style, and cannot be framed.
const AdminCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// admin is built once, at start-up, from the embedded sources.
var admin = mustBuildAdmin()

// adminUI is the moderator UI prepared for serving.
type adminUI struct {
	page *Asset // index.html with the assets' versioned URLs
	js   *Asset
	css  *Asset
}

// Admin returns the handler of the moderator UI: the page at /admin and
// /admin/, its script at /admin/admin.js and its stylesheet at
// /admin/admin.css. The page names the assets with ?v=<hash>, so they are
// cached for a year and replaced by a new binary at once; the page itself is
// revalidated on every load. Every response carries AdminCSP and
// X-Frame-Options: DENY. Mount it for both "/admin" and "/admin/".
func Admin() http.Handler { return admin }

// AdminPage returns the moderator UI's page as served, for tests and tools.
// The asset is shared; callers must not modify its byte slices.
func AdminPage() *Asset { return admin.page }

// ServeHTTP serves the moderator UI.
func (a *adminUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", AdminCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	switch r.URL.Path {
	case "/admin", "/admin/":
		a.servePage(w, r)
	case "/admin/admin.js":
		a.js.ServeHTTP(w, r)
	case "/admin/admin.css":
		a.css.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// servePage serves index.html: never from a cache without revalidation,
// since it names the current assets, and never to another origin.
func (a *adminUI) servePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := a.page
	h := w.Header()
	h.Set("Content-Type", p.ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.ETag())
	h.Set("Vary", "Accept-Encoding")
	if etagMatch(r.Header.Get("If-None-Match"), p.Hash) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := p.Body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = p.Gzip
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body) //nolint:errcheck // the client went away; nothing to do
}

func mustBuildAdmin() *adminUI {
	read := func(name string) []byte {
		b, err := fs.ReadFile(adminFiles, "admin/"+name)
		if err != nil {
			panic(err)
		}
		return b
	}
	asset := func(name, typ string, body []byte) *Asset {
		a, err := NewAsset(name, typ, body)
		if err != nil {
			panic(err)
		}
		return a
	}
	ui := &adminUI{
		js:  asset("admin.js", "text/javascript; charset=utf-8", read("admin.js")),
		css: asset("admin.css", "text/css; charset=utf-8", read("admin.css")),
	}
	tmpl := template.Must(template.New("admin").Parse(string(read("index.html"))))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct{ JS, CSS string }{ui.js.Hash, ui.css.Hash}); err != nil {
		panic(err)
	}
	ui.page = asset("index.html", "text/html; charset=utf-8", buf.Bytes())
	return ui
}
