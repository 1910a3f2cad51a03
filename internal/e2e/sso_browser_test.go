package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserSSO is issue 11's single sign-on scenario on the demo page,
// whose "Sign in" buttons play the publisher (its backend, /demo/sso-token,
// signs a token with the demo site's secret): a staff member signs in and
// posts, and their comment carries the Staff badge; a reader signs in,
// posts, sees the badge, and signs out; the same account from a second
// browser is the same reader.
func TestBrowserSSO(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	const (
		staffText  = "From the newsroom: the council meeting is on Thursday at seven."
		readerText = "Thanks, I will be there with a few neighbours."
	)

	staff := newBrowser(t, chrome, "staff")
	staff.open(demo)
	ssoSignIn(staff, "staff", "Miriam Osei")
	post(staff, staffText)
	idS := waitFor[int64](staff, "the staff comment", commentWithText(staffText))
	if b := badgeOf(staff, idS); b != "Staff" {
		t.Errorf("the staff comment's badge in the staff's own view: %q, want Staff", b)
	}

	reader := newBrowser(t, chrome, "reader")
	reader.open(demo)
	ssoSignIn(reader, "reader", "Sam Reader")
	post(reader, readerText)
	idR := waitFor[int64](reader, "the reader's comment", commentWithText(readerText))
	waitFor[bool](reader, "the staff comment", commentWithText(staffText)+` > 0`)
	if b := badgeOf(reader, idS); b != "Staff" {
		t.Errorf("the staff comment's badge as a reader sees it: %q, want Staff", b)
	}
	if b := badgeOf(reader, idR); b != "" {
		t.Errorf("the reader's own comment has a badge: %q", b)
	}
	if n := authorOf(reader, idR); n != "Sam Reader" {
		t.Errorf("the reader's comment is by %q, want the publisher's name Sam Reader", n)
	}

	// The same account in another browser (its own profile and cookies) is
	// the same reader: the comment is theirs there too.
	second := newBrowser(t, chrome, "second device")
	second.open(demo)
	waitFor[bool](second, "the reader's comment", commentWithText(readerText)+` > 0`)
	if isMine(second, idR) {
		t.Fatalf("before signing in, the second browser already owns the reader's comment")
	}
	ssoSignIn(second, "reader", "Sam Reader")
	waitFor[bool](second, "the reader's comment marked as theirs", mineExpr(idR))

	// Signing out: the comment is no longer theirs, the form asks for a name.
	reader.click("sign out", "#demo-login [data-logout]")
	waitFor[bool](reader, "the guest form", shadowRoot+`.querySelector('.parley-form-new input[name=name]') !== null`)
	waitFor[bool](reader, "the comment no longer marked as theirs", `!(`+mineExpr(idR)+`)`)

	for _, b := range []*browser{staff, reader, second} {
		b.checkNoErrors()
	}
}

// ssoSignIn clicks the demo publisher's sign-in button and waits until the
// widget shows the reader signed in: the form no longer asks for a name.
func ssoSignIn(b *browser, as, name string) {
	b.t.Helper()
	b.click("sign in as "+as, `#demo-login [data-as="`+as+`"]`)
	waitFor[bool](b, "the publisher's bar to name "+name, `document.querySelector('#demo-login .demo-who').textContent.includes(`+jsString(name)+`)`)
	waitFor[bool](b, "the signed-in form", shadowRoot+`.querySelector('.parley-form-new textarea') !== null && `+
		shadowRoot+`.querySelector('.parley-form-new input[name=name]') === null`)
}

// post writes a comment in the new-comment form and sends it.
func post(b *browser, text string) {
	b.t.Helper()
	b.do("post "+text,
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
}

func commentEl(id int64) string {
	return shadowRoot + fmt.Sprintf(`.querySelector('#parley-c-%d > .parley-main')`, id)
}

func badgeOf(b *browser, id int64) string {
	b.t.Helper()
	return eval[string](b, "badge", `(() => { const x = `+commentEl(id)+`.querySelector('.parley-meta .parley-badge'); return x ? x.textContent : ''; })()`)
}

func authorOf(b *browser, id int64) string {
	b.t.Helper()
	return eval[string](b, "author", commentEl(id)+`.querySelector('.parley-meta .parley-author bdi').textContent`)
}

func mineExpr(id int64) string {
	return commentEl(id) + `.querySelector('.parley-meta .parley-you') !== null`
}

func isMine(b *browser, id int64) bool {
	b.t.Helper()
	return eval[bool](b, "mine", mineExpr(id))
}
