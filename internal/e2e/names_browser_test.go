package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserHatefulDisplayName: a reader who calls themself "Muslims are
// vermin" is refused in the widget with the policy point, not the words;
// the text is kept, and with an ordinary name the comment is published.
func TestBrowserHatefulDisplayName(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	b := newBrowser(t, chrome, "reader")
	b.open(srv.URL + "/demo")
	const text = "The new timetable works well for the early shift."
	b.do("post under a hateful name",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Muslims are vermin"),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	msg := waitFor[string](b, "the refusal", shadowRoot+`.querySelector('.parley-form-new .parley-error').textContent`)
	if !strings.Contains(msg, "display name is not accepted") || !strings.Contains(msg, "attacks a group of people") {
		t.Errorf("refusal %q, want the name refused for attacking a group", msg)
	}
	if low := strings.ToLower(msg); strings.Contains(low, "vermin") || strings.Contains(low, "muslim") {
		t.Errorf("refusal %q repeats the words", msg)
	}
	if got := eval[string](b, "the text kept", shadowRoot+`.querySelector('.parley-form-new textarea').value`); got != text {
		t.Errorf("after the refusal the form holds %q, want the text kept", got)
	}
	eval[string](b, "clear the name", shadowRoot+`.querySelector('.parley-form-new input[name=name]').value = ''`)
	b.do("choose an ordinary name",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Dick Smith"),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	waitFor[int64](b, "the comment published", commentWithText(text))
	b.checkNoErrors()
	srv.checkAlive()
}
