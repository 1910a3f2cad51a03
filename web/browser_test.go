package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestWidgetInChromium loads the demo page and the served script in a real
// Chromium, from a server that has them but no API, and checks what the
// widget does on its own: it runs under the demo's strict CSP without a
// violation or an exception, adopts its stylesheet into the shadow root,
// reports the failure accessibly, and retries on "Try again". The thread
// against the real API is covered by the end-to-end tests.
func TestWidgetInChromium(t *testing.T) {
	chrome := testenv.Chromium(t)
	var threadReads atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("GET /embed.js", Script())
	mux.HandleFunc("GET /demo/publisher.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(DemoPublisherJS)
	})
	mux.HandleFunc("GET /demo", func(w http.ResponseWriter, r *http.Request) {
		b, err := DemoPage("demo")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})
	mux.HandleFunc("GET /api/v1/threads", func(w http.ResponseWriter, r *http.Request) {
		threadReads.Add(1)
		http.Error(w, "no API in this test", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chrome), chromedp.UserDataDir(t.TempDir()), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "disable-dev-shm-usage", "disable-background-networking"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	life, cancelLife := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelLife()
	alloc, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	var mu sync.Mutex
	var console []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()

	const root = `document.querySelector('#parley').shadowRoot`
	eval := func(what, expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/demo"),
		chromedp.WaitVisible(chromedp.CSS(`#parley[data-parley-state=error]`)),
	); err != nil {
		t.Fatalf("widget did not reach the error state: %v", err)
	}

	checks := []struct {
		name, expr, want string
	}{
		{"stylesheet adopted under the CSP", `getComputedStyle(` + root + `.querySelector('.parley-sr')).position`, "absolute"},
		{"no <style> element needed", `String(` + root + `.querySelectorAll('style, link').length)`, "0"},
		{"theme matches the light page", root + `.querySelector('.parley').dataset.theme`, "light"},
		{"header before any thread", root + `.querySelector('.parley-count').textContent`, "Comments"},
		{"error is a status with a retry", root + `.querySelector('.parley-status[role=status] .parley-retry').textContent`, "Try again"},
		{"error text", root + `.querySelector('.parley-status .parley-error').textContent`, "Comments are unavailable right now."},
		{"no form without a thread", `String(` + root + `.querySelector('.parley-form') === null)`, "true"},
	}
	for _, c := range checks {
		if got := eval(c.name, c.expr); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}

	before := threadReads.Load()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.JSPath(root+`.querySelector('.parley-retry')`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[chromedp.Void](`document.querySelector('#parley').dataset.parleyState === 'error' && `+
				root+`.querySelector('.parley-retry') !== null`, chromedp.WithPollingTimeout(10*time.Second))(ctx, tg)
			return err
		}),
	); err != nil {
		t.Fatalf("Try again: %v", err)
	}
	if got := threadReads.Load(); got <= before {
		t.Errorf("thread reads after Try again = %d, want more than %d", got, before)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		// The 503s are the point of the test, and the widget tells the
		// developer about each in the console; anything else is a fault.
		if strings.Contains(m, "status of 503") || strings.Contains(m, "Parley: comments are unavailable: loading the thread from") {
			continue
		}
		t.Errorf("console: %s", m)
	}
}
