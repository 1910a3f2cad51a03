package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserDraftKept is issue 14's point 9: a half-written comment
// survives a reload (session storage) and comments being closed under the
// reader, where it is shown with a button to copy it, and comes back into
// the form when comments reopen; posting it clears the draft.
func TestBrowserDraftKept(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	const draft = "Half a thought about the open doors weekend, and"
	textarea := ".parley-form-new textarea[name=text]"
	value := shadowRoot + `.querySelector('` + textarea + `').value`

	b := newBrowser(t, chrome, "reader")
	b.open(demo)
	b.do("type half a comment", chromedp.SendKeys(inWidget(textarea), draft))
	b.open(demo) // a reload
	if got := eval[string](b, "the form after a reload", value); got != draft {
		t.Errorf("after a reload the form holds %q, want the draft %q", got, draft)
	}

	setClosed := func(closed bool) {
		t.Helper()
		res, err := srv.client().do("PATCH", "/api/v1/admin/sites/demo/pages/policy?create=true&url="+url.QueryEscape(demo),
			map[string]any{"closed": closed, "create": true}, "Authorization", "Bearer "+adminToken)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("close the page: %v %d %.300s", err, res.Status, res.Body)
		}
	}
	setClosed(true)
	kept := waitFor[string](b, "the draft shown under the closed notice", `(() => {
		const ta = `+shadowRoot+`.querySelector('.parley-compose .parley-draft textarea');
		return ta && `+shadowRoot+`.querySelector('.parley-closed') ? ta.value : '';
	})()`)
	if kept != draft {
		t.Errorf("comments closed: the draft shown is %q, want %q", kept, draft)
	}
	if n := eval[int](b, "forms", shadowRoot+`.querySelectorAll('.parley-form-new').length`); n != 0 {
		t.Errorf("comments closed, yet %d comment forms", n)
	}
	b.do("copy the draft", chromedp.Click(inWidget(".parley-draft .parley-copy")))
	waitFor[bool](b, "Copied", shadowRoot+`.querySelector('.parley-draft .parley-copy').textContent === 'Copied'`)
	screenshot(t, b, "widget-draft-closed.png")

	setClosed(false)
	waitFor[bool](b, "the draft back in the form", shadowRoot+`.querySelector('`+textarea+`')?.value === `+jsString(draft))

	b.do("finish and post",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Dora"),
		chromedp.SendKeys(inWidget(textarea), " I hope it happens again."),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	waitFor[bool](b, "the posted comment", commentWithText("I hope it happens again.")+` > 0`)
	b.open(demo)
	if got := eval[string](b, "the form after posting and a reload", value); got != "" {
		t.Errorf("after posting and a reload the form holds %q, want it empty", got)
	}
	b.checkNoErrors()
	srv.checkAlive()
}
