package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserCountScript is issue 14's point 14: count.js, served by the
// binary, fills the data-parley-count elements of an index page with each
// article's comment count, from one request to /api/v1/counts.
func TestBrowserCountScript(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	index := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Front page</title></head><body>
<ul>
<li><a id="a" href="/2026/busy" data-parley-count>Comments</a></li>
<li><a id="b" href="/2026/quiet#comments" data-parley-count>Comments</a></li>
<li><span id="c" data-parley-count="/2026/none"></span></li>
<li><span id="d" data-parley-count="/2026/busy"></span></li>
</ul>
<script src="%s/count.js" data-site="demo" async></script></body></html>`
	de := strings.Replace(strings.Replace(index, `lang="en"`, `lang="de"`, 1), `data-site="demo"`, `data-site="demo" data-one="{n} Kommentar" data-other="{n} Kommentare"`, 1)
	pub := publisherSite(t, srv, map[string]string{"/": index, "/de": de})
	allowOrigins(t, srv, srv.URL, pub)
	api := srv.client()
	for _, c := range []struct{ path, text string }{
		{"/2026/busy", "One on the busy article."}, {"/2026/busy", "Two on the busy article."},
		{"/2026/busy", "Three on the busy article."}, {"/2026/quiet", "The only one on the quiet article."},
	} {
		res, err := api.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": pub + c.path, "title": "T", "name": "Ann", "text": c.text})
		if err != nil || res.Status != http.StatusCreated {
			t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
		}
	}
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/", "3 comments|1 comment|0 comments|3 comments|3,1,0,3|1"},
		{"/de", "3 Kommentare|1 Kommentar|0 Kommentare|3 Kommentare|3,1,0,3|1"},
	} {
		b := newBrowser(t, chrome, "index "+tc.path)
		b.do("open the index", chromedp.Navigate(pub+tc.path))
		got := waitFor[string](b, "the counts", `(() => {
			const els = ['a', 'b', 'c', 'd'].map((id) => document.getElementById(id));
			if (els.some((el) => !el.hasAttribute('data-parley-n'))) return '';
			const reqs = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/counts')).length;
			return [...els.map((el) => el.textContent), els.map((el) => el.dataset.parleyN).join(','), reqs].join('|');
		})()`)
		if got != tc.want {
			t.Errorf("index %s: got %q, want %q (texts, data-parley-n, requests to /api/v1/counts)", tc.path, got, tc.want)
		}
		b.checkNoErrors()
	}
	srv.checkAlive()
}
