package e2e

import (
	"github.com/parleyhq/parley/internal/testenv"
	"net/http"
	"testing"
)

// TestBrowserWidgetLanguages is issue 14's point 5: the widget speaks the
// page's language (or data-lang's), formats numbers and times with Intl
// for it, and lays an Arabic thread out right to left.
func TestBrowserWidgetLanguages(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	page := func(htmlLang, dataLang string) string {
		attr := ""
		if dataLang != "" {
			attr = ` data-lang="` + dataLang + `"`
		}
		return `<!doctype html><html lang="` + htmlLang + `"><head><meta charset="utf-8"><title>Article</title></head>
<body><div id="parley"></div><script src="%s/embed.js" data-site="demo"` + attr + ` async></script></body></html>`
	}
	paths := map[string]string{
		"/ar": page("ar", ""), "/fr": page("en", "fr"), "/de": page("de-AT", ""), "/es": page("es", ""),
		"/it": page("en", "it-IT"), "/xx": page("xx", ""),
	}
	pub := publisherSite(t, srv, paths)
	allowOrigins(t, srv, srv.URL, pub)

	// Each page holds a comment and a reply to it.
	api := srv.client()
	for path := range paths {
		var posted apiPosted
		res, err := api.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": pub + path, "title": "Article", "name": "Amal", "text": "First thoughts on " + path + "."})
		if err != nil || res.Status != http.StatusCreated || res.decode(&posted) != nil {
			t.Fatalf("post on %s: %v %d %.300s", path, err, res.Status, res.Body)
		}
		res, err = api.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": pub + path, "title": "Article", "name": "Badr", "text": "A reply on " + path + ".", "parent": posted.Comment.ID})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("reply on %s: %v %d %.300s", path, err, res.Status, res.Body)
		}
	}

	for _, tc := range []struct {
		path, lang, dir string
		count, post     string // the header and the Post button
	}{
		{"/ar", "ar", "rtl", "تعليقان على Article", "نشر التعليق"},
		{"/fr", "fr", "ltr", "2 commentaires sur Article", "Publier le commentaire"},
		{"/de", "de", "ltr", "2 Kommentare zu Article", "Kommentar veröffentlichen"},
		{"/es", "es", "ltr", "2 comentarios en Article", "Publicar comentario"},
		{"/it", "it", "ltr", "2 commenti su Article", "Pubblica il commento"},
		{"/xx", "en", "ltr", "2 comments on Article", "Post comment"},
	} {
		t.Run(tc.lang+tc.path, func(t *testing.T) {
			b := newBrowser(t, chrome, tc.path)
			b.open(pub + tc.path)
			root := shadowRoot + `.querySelector('.parley')`
			checks := []struct{ what, expr, want string }{
				{"lang", root + `.lang`, tc.lang},
				{"dir", root + `.dir`, tc.dir},
				{"computed direction", `getComputedStyle(` + root + `).direction`, tc.dir},
				{"header", shadowRoot + `.querySelector('.parley-count').textContent`, tc.count},
				{"Post button", shadowRoot + `.querySelector('.parley-form-new button[type=submit]').textContent`, tc.post},
				// Numbers and times are Intl's for the language.
				{"counter", shadowRoot + `.querySelector('.parley-form-new .parley-counter').textContent`,
					eval[string](b, "Intl numbers", `(() => { const f = new Intl.NumberFormat(`+jsString(tc.lang)+`); return f.format(0) + ' / ' + f.format(5000); })()`)},
				{"time", shadowRoot + `.querySelector('.parley-time').textContent`,
					eval[string](b, "Intl time", `new Intl.RelativeTimeFormat(`+jsString(tc.lang)+`, { numeric: 'auto' }).format(0, 'second')`)},
			}
			for _, c := range checks {
				if got := eval[string](b, c.what, c.expr); got != c.want {
					t.Errorf("%s = %q, want %q", c.what, got, c.want)
				}
			}
			// Replies are indented from the start of the line: the right in
			// Arabic, with the thread line on that side.
			geo := eval[string](b, "reply layout", `(() => {
				const reply = `+shadowRoot+`.querySelector('.parley-replies .parley-comment');
				const parent = reply.parentElement.closest('.parley-comment');
				const box = getComputedStyle(reply.parentElement);
				const r = reply.getBoundingClientRect(), p = parent.getBoundingClientRect();
				const indentLeft = Math.round(r.left - p.left), indentRight = Math.round(p.right - r.right);
				return [indentLeft > 0 ? 'left' : indentRight > 0 ? 'right' : 'none', box.borderLeftWidth, box.borderRightWidth].join(' ');
			})()`)
			want := "left 2px 0px"
			if tc.dir == "rtl" {
				want = "right 0px 2px"
			}
			if geo != want {
				t.Errorf("reply indentation and thread line = %q, want %q", geo, want)
			}
			if tc.lang == "ar" {
				screenshot(t, b, "widget-ar.png")
			}
			b.checkNoErrors()
		})
	}
	srv.checkAlive()
}
