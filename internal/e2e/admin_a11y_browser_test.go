package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// landmarksJS describes the page as a screen reader's landmark list would:
// the visible <main> elements, and the text of the <h1> in the one there is.
const landmarksJS = `(() => {
	const shown = (el) => !el.closest('[hidden]');
	const mains = [...document.querySelectorAll('main, [role=main]')].filter(shown);
	const h1s = mains.length === 1 ? [...mains[0].querySelectorAll('h1')].filter(shown) : [];
	return mains.length + ' main, h1: ' + h1s.map((h) => h.textContent.trim()).join(' | ');
})()`

// TestBrowserAdminLandmarks is issue 14's point 13: the sign-in screen and
// every view of the moderator UI have one <main> landmark and an <h1>.
func TestBrowserAdminLandmarks(t *testing.T) {
	chrome := testenv.Chromium(t)
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const email, password = "mo@example.com", "a long enough password"
	addModerator(t, dataDir, "demo", "Mo", email, password)
	mod := newBrowser(t, chrome, "moderator")
	mod.do("open /admin", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
	if got, want := eval[string](mod, "sign-in landmarks", landmarksJS), "1 main, h1: Parley moderation"; got != want {
		t.Errorf("sign-in: %s, want %s", got, want)
	}
	signIn(mod, srv, email, password)
	for _, v := range []struct{ view, h1 string }{
		{"queue", "Moderation queue"},
		{"pages", "Pages"},
		{"settings", "Site settings — demo"},
		{"queue", "Moderation queue"},
	} {
		mod.click("the "+v.view+" view", `.view-btn[data-view=`+v.view+`]`)
		waitFor[bool](mod, "the "+v.view+" view", `!document.querySelector('#`+v.view+`-view').hidden`)
		if got, want := eval[string](mod, v.view+" landmarks", landmarksJS), "1 main, h1: "+v.h1; got != want {
			t.Errorf("%s view: %s, want %s", v.view, got, want)
		}
	}
	mod.checkNoErrors()
	srv.checkAlive()
}
