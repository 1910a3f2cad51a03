package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// watchConsole collects every console message of b's page and returns a
// function giving the messages so far.
func watchConsole(b *browser) func() []string {
	var mu sync.Mutex
	var got []string
	msgs := chromedp.Console(b.ctx)
	go func() { // ends with the browser's context
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, m.String())
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// publisherPage serves html at / from its own origin (a loopback port of
// its own), as a publisher's article page embedding the widget from srv.
// %s in html is replaced by the Parley server's base URL.
func publisherPage(t *testing.T, srv *instance, html string) string {
	t.Helper()
	return publisherSite(t, srv, map[string]string{"/": html})
}

// publisherSite is publisherPage for several pages, by path.
func publisherSite(t *testing.T, srv *instance, pages map[string]string) string {
	t.Helper()
	pub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		html, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.ReplaceAll(html, "%s", srv.URL))
	}))
	t.Cleanup(pub.Close)
	return pub.URL
}

// allowOrigins sets the demo site's allowed origins with `parley site set`
// and waits until the running server answers the first with CORS headers.
func allowOrigins(t *testing.T, srv *instance, origins ...string) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "site", "set", "--id", "demo", "--origin", strings.Join(origins, ","), "--data", srv.DataDir)
	cmd.Env = append(os.Environ(), "PARLEY_LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parley site set: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := srv.client().do("GET", "/api/v1/counts?site=demo&url="+srv.URL+"/demo", nil, "Origin", origins[len(origins)-1])
		if err == nil && res.Header.Get("Access-Control-Allow-Origin") == origins[len(origins)-1] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("origin %s not allowed 20 s after site set (%v)", origins[len(origins)-1], err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const article = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Publisher article</title></head>
<body><h1>Publisher article</h1><div id="parley"></div><script src="%s/embed.js" data-site="%SITE%" async></script></body></html>`

// TestBrowserSetupMistakes is issue 14's point 10: the mistakes a developer
// makes embedding the widget the first time. The demo opened as localhost
// instead of 127.0.0.1 shows its thread and takes a comment; a wrong site
// slug and an origin the site does not allow show readers a calm "Comments
// are unavailable" without the server's words, and tell the developer in
// the console exactly what to fix.
func TestBrowserSetupMistakes(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	if res, err := srv.client().do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "title": "T", "name": "Ann", "text": "Posted on the server's own address."}); err != nil || res.Status != http.StatusCreated {
		t.Fatalf("seed comment: %v %d %.300s", err, res.Status, res.Body)
	}

	t.Run("demo at localhost", func(t *testing.T) {
		b := newBrowser(t, chrome, "reader at localhost")
		local := strings.Replace(demo, "127.0.0.1", "localhost", 1)
		b.open(local)
		waitFor[bool](b, "the seeded comment", commentWithText("Posted on the server's own address.")+` > 0`)
		b.do("post from localhost",
			chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Lou"),
			chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), "Writing from localhost works too."),
			chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
		)
		waitFor[bool](b, "the comment posted from localhost", commentWithText("Writing from localhost works too.")+` > 0`)
		if e := eval[string](b, "form error", shadowRoot+`.querySelector('.parley-form-new .parley-error').textContent`); e != "" {
			t.Errorf("posting from localhost: error %q", e)
		}
		b.checkNoErrors()
	})

	allowed := publisherPage(t, srv, strings.Replace(article, "%SITE%", "nwes", 1))
	unlisted := publisherPage(t, srv, strings.Replace(article, "%SITE%", "demo", 1))
	allowOrigins(t, srv, srv.URL, allowed)

	for _, tc := range []struct {
		name, page string
		reader     string   // the whole status line readers see
		console    []string // what the developer is told
	}{
		{"wrong site slug", allowed, "Comments are unavailable.",
			[]string{`site "nwes" not found`, `data-site="nwes"`, "parley site list"}},
		{"unlisted origin", unlisted, "Comments are unavailable right now. Try again",
			[]string{"does not allow this page's origin, " + unlisted, `parley site set --id demo --origin`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, chrome, tc.name)
			logs := watchConsole(b)
			b.do("open "+tc.page, chromedp.Navigate(tc.page), chromedp.WaitVisible(chromedp.CSS(`#parley[data-parley-state=error]`)))
			if got := waitFor[string](b, "the status line", shadowRoot+`.querySelector('.parley-status').textContent`); got != tc.reader {
				t.Errorf("readers see %q, want %q", got, tc.reader)
			}
			shown := eval[string](b, "the widget's text", shadowRoot+`.querySelector('.parley').textContent`)
			for _, bad := range []string{"nwes", "not found", "origin", "connection", "error"} {
				if strings.Contains(shown, bad) {
					t.Errorf("readers see %q, which names %q", shown, bad)
				}
			}
			want := strings.Join(tc.console, " … ")
			var all string
			for range 100 {
				all = strings.Join(logs(), "\n")
				ok := true
				for _, w := range tc.console {
					ok = ok && strings.Contains(all, w)
				}
				if ok {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			for _, w := range tc.console {
				if !strings.Contains(all, w) {
					t.Errorf("console lacks %q (want %s); it has:\n%s", w, want, all)
				}
			}
			b.checkNoErrors()
		})
	}
	srv.checkAlive()
}

// TestBrowserNoticesFitTheOutcome is issue 14's point 11: a new reader's
// comment held by pre-moderation and one refused by the flood limit each
// get their own message, and neither tells the reader to edit the text,
// which is fine.
func TestBrowserNoticesFitTheOutcome(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir(), "--rate-limit=true")
	if res, err := srv.client().do("PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"mode": "pre_new", "flood_per_minute": 1},
		"Authorization", "Bearer "+adminToken); err != nil || res.Status != http.StatusOK {
		t.Fatalf("PATCH policy: %v %d %.300s", err, res.Status, res.Body)
	}
	b := newBrowser(t, chrome, "new reader")
	b.open(srv.URL + "/demo")
	b.do("post a first comment",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Nina"),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), "A first comment from a new reader."),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	held := waitFor[string](b, "the held notice", shadowRoot+`.querySelector('.parley-form-new .parley-notice').textContent`)
	if want := "This site reviews comments from new readers before they appear."; !strings.HasPrefix(held, want) {
		t.Errorf("held notice %q, want it to start %q", held, want)
	}
	if nudge := eval[bool](b, "nudge hidden", shadowRoot+`.querySelector('.parley-form-new .parley-nudge').hidden`); !nudge {
		t.Error("a comment held for the reader's newness got the edit-your-text nudge")
	}

	const second = "And a second thought, straight after."
	b.do("post again at once",
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), second),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	flood := waitFor[string](b, "the flood message", shadowRoot+`.querySelector('.parley-form-new .parley-error').textContent`)
	if want := "You are posting faster than this site allows. Please wait a minute"; !strings.HasPrefix(flood, want) {
		t.Errorf("flood message %q, want it to start %q", flood, want)
	}
	for name, msg := range map[string]string{"held": held, "flood": flood} {
		if strings.Contains(strings.ToLower(msg), "edit") {
			t.Errorf("%s message %q tells the reader to edit", name, msg)
		}
	}
	if text := eval[string](b, "the text kept", shadowRoot+`.querySelector('.parley-form-new textarea').value`); text != second {
		t.Errorf("after the flood refusal the form holds %q, want the text kept", text)
	}
	if n := eval[int](b, "edit buttons", shadowRoot+`.querySelectorAll('.parley-form-new .parley-nudge:not([hidden]) .parley-nudge-edit').length`); n != 0 {
		t.Errorf("%d Edit buttons offered for a flood refusal", n)
	}
	b.checkNoErrors()
	srv.checkAlive()
}

// TestBrowserNudgeNamesThePoint is issue 14's point 4 in the widget: the
// writer whose text trips the site's word list is told the policy point
// it touches, not the word, which the moderator still sees marked.
func TestBrowserNudgeNamesThePoint(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	if res, err := srv.client().do("PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"suspect_words": []string{"scumbags"}},
		"Authorization", "Bearer "+adminToken); err != nil || res.Status != http.StatusOK {
		t.Fatalf("PATCH policy: %v %d %.300s", err, res.Status, res.Body)
	}
	b := newBrowser(t, chrome, "writer")
	b.open(srv.URL + "/demo")
	const text = "The people who printed those leaflets are scumbags."
	b.do("write",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Wes"),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	nudge := waitFor[string](b, "the nudge", `(() => { const n = `+shadowRoot+`.querySelector('.parley-form-new .parley-nudge'); return n && !n.hidden ? n.querySelector('p').textContent : ''; })()`)
	// The list's point, and the model's where it scores the text too.
	if want := "Your comment may be held for review: it uses language this site does not allow"; !strings.HasPrefix(nudge, want) || !strings.HasSuffix(nudge, ". Edit it, or post anyway.") {
		t.Errorf("nudge %q, want it to start %q", nudge, want)
	}
	if strings.Contains(nudge, "scumbags") {
		t.Errorf("the nudge names the trigger word: %q", nudge)
	}
	b.do("post anyway", chromedp.Click(inWidget(".parley-form-new .parley-nudge-post")))
	waitFor[bool](b, "the held comment", commentWithText("leaflets are scumbags")+` > 0`)

	// The moderator's queue item keeps the evidence.
	res, err := srv.client().admin("GET", "/api/v1/admin/queue?site=demo&status=pending", nil)
	if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), `suspect word \"scumbags\"`) || !strings.Contains(string(res.Body), `"spans":[{"start":42,"end":50}]`) {
		t.Errorf("moderator's queue: %v %d %.600s; want the word and its span", err, res.Status, res.Body)
	}
	b.checkNoErrors()
}
