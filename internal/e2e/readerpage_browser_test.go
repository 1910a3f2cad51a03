package e2e

import (
	"testing"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserReaderPage: on the demo article, a reader signed in by the
// publisher on two browsers changes their name on their own page (their
// next comment shows it), then signs out everywhere: the first browser is
// a guest at once, the second at its next load.
func TestBrowserReaderPage(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"

	laptop := newBrowser(t, chrome, "laptop")
	laptop.open(demo)
	ssoSignIn(laptop, "reader", "Sam Reader")
	phone := newBrowser(t, chrome, "phone")
	phone.open(demo)
	ssoSignIn(phone, "reader", "Sam Reader")

	clickMine := func(b *browser, label string) {
		b.t.Helper()
		waitFor[bool](b, "the button "+label, `[...`+shadowRoot+`.querySelectorAll('.parley-mydata button')].some((x) => x.textContent === `+jsString(label)+`)`)
		eval[bool](b, "click "+label, `([...`+shadowRoot+`.querySelectorAll('.parley-mydata button')].find((x) => x.textContent === `+jsString(label)+`).click(), true)`)
	}
	openMine := func(b *browser) {
		b.t.Helper()
		waitFor[bool](b, "Your comments & data", shadowRoot+`.querySelector('.parley-mydata') !== null`)
		eval[bool](b, "open Your comments & data", `(`+shadowRoot+`.querySelector('.parley-mydata').previousElementSibling.click(), true)`)
	}

	openMine(laptop)
	eval[bool](laptop, "answer the name prompt", `(window.prompt = () => "Samuel R.", true)`)
	clickMine(laptop, "Change your name")
	waitFor[bool](laptop, "the rename confirmed", shadowRoot+`.textContent.includes("Your next comments show your new name.")`)
	const text = "Posting under the name I chose myself."
	post(laptop, text)
	id := waitFor[int64](laptop, "the comment", commentWithText(text))
	if n := authorOf(laptop, id); n != "Samuel R." {
		t.Errorf("the comment is by %q, want the chosen name Samuel R.", n)
	}

	openMine(laptop)
	clickMine(laptop, "Sign out everywhere")
	waitFor[bool](laptop, "the guest form", shadowRoot+`.querySelector('.parley-form-new input[name=name]') !== null`)
	waitFor[bool](laptop, "the comment no longer marked as theirs", `!(`+mineExpr(id)+`)`)

	// The phone's session was revoked on the server: at its next load the
	// widget shows a guest, and the comment is not theirs.
	phone.open(demo)
	waitFor[bool](phone, "the comment", commentWithText(text)+` > 0`)
	waitFor[bool](phone, "the guest form on the phone", shadowRoot+`.querySelector('.parley-form-new input[name=name]') !== null`)
	if isMine(phone, id) {
		t.Error("the phone still owns the comment after signing out everywhere")
	}
	for _, b := range []*browser{laptop, phone} {
		b.checkNoErrors()
	}
}
