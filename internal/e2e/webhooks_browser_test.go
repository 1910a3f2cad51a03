package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/webhook"
)

// TestBrowserWebhooksView adds an endpoint in the admin UI's Webhooks view,
// presses "Send test event", and reads the delivery log: the receiver on
// loopback gets a webhook.test signed with the secret the page showed, and
// the log shows it delivered, with its status, latency and attempts. With
// --webhook-attempts=1, a test event the receiver refuses is given up at
// once: the log shows it failed with a Retry button, which delivers it.
func TestBrowserWebhooksView(t *testing.T) {
	chrome := testenv.Chromium(t)
	var mu sync.Mutex
	var got []string // verified event types
	var bodies [][]byte
	var sigs []string
	refuse := false
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Header.Get(webhook.EventHeader))
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(webhook.SignatureHeader))
		if refuse {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()

	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--outbound-allow", "127.0.0.1", "--webhook-attempts", "1")
	const email, password = "mo@example.com", "correct horse battery staple"
	addModerator(t, dataDir, "demo", "Mo", email, password)
	mod := newBrowser(t, chrome, "moderator")
	violations := watchCSP(t, mod)
	signIn(mod, srv, email, password)

	mod.click("the Webhooks view", `.view-btn[data-view="webhooks"]`)
	waitFor[bool](mod, "the empty list", `!document.querySelector('#webhooks-view').hidden && document.querySelector('#webhooks-empty').textContent.includes('no webhooks')`)
	mod.do("fill in the endpoint",
		chromedp.SendKeys(chromedp.CSS(`#webhook-form input[name=url]`), rc.URL+"/hook"),
		chromedp.Click(chromedp.CSS(`#webhook-form input[value="comment.created"]`)),
	)
	mod.click("Add endpoint", `#webhook-form button[type=submit]`)
	secret := waitFor[string](mod, "the secret, shown once", `(() => { const m = document.querySelector('#webhook-secret').textContent.match(/whsec_[0-9a-f]+/); return m ? m[0] : ''; })()`)
	waitFor[bool](mod, "the endpoint in the list", `[...document.querySelectorAll('#webhooks-list .webhook')].some((li) => li.textContent.includes(`+jsString(rc.URL+"/hook")+`) && li.textContent.includes('comment.created'))`)

	mod.click("Send test event", `#webhooks-list .webhook .actions button:first-child`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != webhook.TypeTest {
		t.Fatalf("the receiver got %q, want one webhook.test", got)
	}
	if err := webhook.Verify([]byte(secret), sigs[0], bodies[0], time.Now(), 0); err != nil {
		t.Errorf("the test event's signature, with the secret the page showed: %v", err)
	}
	if !strings.Contains(string(bodies[0]), `"site":"demo"`) {
		t.Errorf("test event body %s, want the site", bodies[0])
	}
	mu.Unlock()

	mod.click("Delivery log", `#webhooks-list .webhook .actions button:nth-child(2)`)
	waitFor[bool](mod, "the delivered test event in the log", `(() => {
		const row = document.querySelector('#webhooks-list table.deliveries tbody tr');
		const c = row ? [...row.cells].map((td) => td.textContent) : [];
		const ok = c[0] === 'webhook.test' && c[1] === 'delivered' && c[2] === '204' && / ms$/.test(c[3]) && c[4] === '1';
		// The outcome is stored just after the post: read the log again until it shows.
		if (!ok && !(window.__lastLog > Date.now() - 300)) {
			window.__lastLog = Date.now();
			document.querySelector('#webhooks-list .webhook .actions button:nth-child(2)').click();
		}
		return ok;
	})()`)

	// A refused delivery, given up at its only attempt, retried by hand.
	mu.Lock()
	refuse = true
	mu.Unlock()
	mod.click("Send test event", `#webhooks-list .webhook .actions button:first-child`)
	waitFor[bool](mod, "the failed test event in the log, with a Retry button", `(() => {
		const row = document.querySelector('#webhooks-list table.deliveries tbody tr');
		const c = row ? [...row.cells].map((td) => td.textContent) : [];
		const ok = c[1] === 'failed (given up)' && c[2] === '503' && c[4] === '1' && c[6].includes('maintenance') && !!row.querySelector('button.retry');
		if (!ok && !(window.__lastLog > Date.now() - 300)) {
			window.__lastLog = Date.now();
			document.querySelector('#webhooks-list .webhook .actions button:nth-child(2)').click();
		}
		return ok;
	})()`)
	mu.Lock()
	refuse = false
	mu.Unlock()
	mod.click("Retry", `#webhooks-list table.deliveries tbody tr button.retry`)
	waitFor[bool](mod, "the retried delivery delivered", `(() => {
		const row = document.querySelector('#webhooks-list table.deliveries tbody tr');
		const c = row ? [...row.cells].map((td) => td.textContent) : [];
		const ok = c[1] === 'delivered' && c[2] === '204' && c[4] === '1' && !row.querySelector('button.retry');
		if (!ok && !(window.__lastLog > Date.now() - 300)) {
			window.__lastLog = Date.now();
			document.querySelector('#webhooks-list .webhook .actions button:nth-child(2)').click();
		}
		return ok;
	})()`)
	mu.Lock()
	if len(got) != 3 {
		t.Errorf("the receiver got %d posts, want 3 (the test event, the refused one, its retry)", len(got))
	}
	mu.Unlock()
	if v := violations(); len(v) > 0 {
		t.Errorf("CSP violations: %q", v)
	}
	mod.checkNoErrors()
}
