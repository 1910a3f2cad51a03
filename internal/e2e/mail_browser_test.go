package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/mail/mailtest"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserReplyMail: in the widget a reader who has posted opens
// "Replies by e-mail", leaves an address and is told to confirm it; the
// confirmation arrives at the SMTP server. A server without --smtp-url
// says in the same place that it sends no e-mail.
func TestBrowserReplyMail(t *testing.T) {
	chrome := testenv.Chromium(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := startServer(t, t.TempDir(), "--smtp-url", smtp.URL(), "--mail-from", "comments@example.com")
	b := newBrowser(t, chrome, "reader")
	b.open(srv.URL + "/demo")
	b.do("post a comment",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Dora"),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), "Tell me when someone answers."),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	waitFor[bool](b, "the posted comment", commentWithText("Tell me when someone answers.")+` > 0`)
	b.do("open Replies by e-mail", chromedp.Click(inWidget(".parley-mail summary")))
	waitFor[bool](b, "the address field", shadowRoot+`.querySelector('.parley-mail-email') !== null`)
	b.do("leave an address",
		chromedp.SendKeys(inWidget(".parley-mail-email"), "dora@example.com"),
		chromedp.Click(inWidget(".parley-mail-save")),
	)
	status := waitFor[string](b, "the confirmation notice", `(`+shadowRoot+`.querySelector('.parley-mail-status') || {}).textContent || ''`)
	if !strings.Contains(status, "confirm your address") {
		t.Errorf("status %q", status)
	}
	screenshot(t, b, "widget-mail.png")
	if m := smtp.Wait(1, 10*time.Second)[0]; m.To[0] != "dora@example.com" {
		t.Errorf("the confirmation went to %v", m.To)
	}
	b.checkNoErrors()

	off := startServer(t, t.TempDir())
	b2 := newBrowser(t, chrome, "reader-off")
	b2.open(off.URL + "/demo")
	b2.do("open Replies by e-mail", chromedp.Click(inWidget(".parley-mail summary")))
	got := waitFor[string](b2, "the notice", `(`+shadowRoot+`.querySelector('.parley-mail-off') || {}).textContent || ''`)
	if got != "This comment server sends no e-mail." {
		t.Errorf("without --smtp-url the widget says %q", got)
	}
	b2.checkNoErrors()
}
