package e2e

import (
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestBrowserRetryAfterLostAnswer is issue 13's idempotency promise as a
// reader meets it: the widget's post reaches Parley and is stored, but its
// answer is lost on the way back (Chromium fails the response, as a
// dropped connection would). The widget sends the post again with the same
// Idempotency-Key, Parley answers with the first outcome, and the comment
// is shown, and stored, once.
func TestBrowserRetryAfterLostAnswer(t *testing.T) {
	chrome := testenv.Chromium(t)
	srv := startServer(t, t.TempDir())
	demo := srv.URL + "/demo"
	const text = "Posted once, although its first answer never arrived."

	b := newBrowser(t, chrome, "reader")
	b.open(demo)
	pattern := []*fetch.RequestPattern{{URLPattern: "*/api/v1/comments", RequestStage: fetch.RequestStageResponse}}
	if _, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{Patterns: pattern}); err != nil {
		t.Fatalf("enable request interception: %v", err)
	}
	var mu sync.Mutex
	var keys []string // the Idempotency-Key of each POST answered by Parley
	go func() {       // ends with the browser's context
		for ev, err := range chromedp.Events(b.ctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			mu.Lock()
			first := ev.Request.Method == "POST" && len(keys) == 0
			if ev.Request.Method == "POST" {
				k, _ := ev.Request.Headers["Idempotency-Key"].(string)
				keys = append(keys, k)
			}
			mu.Unlock()
			if first {
				chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
				continue
			}
			chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()

	b.do("write and post",
		chromedp.SendKeys(inWidget(".parley-form-new input[name=name]"), "Rita"),
		chromedp.SendKeys(inWidget(".parley-form-new textarea[name=text]"), text),
		chromedp.Click(inWidget(".parley-form-new button[type=submit]")),
	)
	defer func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("POSTs seen: %q", keys)
			mu.Unlock()
		}
	}()
	waitFor[bool](b, "the posted comment", commentWithText(text)+` > 0`)
	if n := eval[int](b, "comments shown", `[...`+shadowRoot+`.querySelectorAll('.parley-comment .parley-body')].filter((el) => el.textContent.includes(`+jsString(text)+`)).length`); n != 1 {
		t.Errorf("the widget shows the comment %d times, want once", n)
	}
	mu.Lock()
	got := append([]string(nil), keys...)
	mu.Unlock()
	if len(got) != 2 || got[0] == "" || got[0] != got[1] || len(got[0]) < 16 {
		t.Errorf("Idempotency-Keys of the POSTs Parley answered: %q; want the same non-empty key twice (the lost answer and the retry)", got)
	}
	th, err := srv.client().thread("demo", demo)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, c := range th.Comments {
		if strings.Contains(c.HTML, text) {
			stored++
		}
	}
	if stored != 1 {
		t.Errorf("stored %d times, want once", stored)
	}
	b.checkNoErrors()
	srv.checkAlive()
}
