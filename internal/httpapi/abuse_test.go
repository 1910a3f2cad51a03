package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/config"
)

// TestRateLimitPerIPv6Prefix proves that IPv6 clients are limited per /64:
// posts from four addresses of one /64 share one budget (a burst of 3),
// while another /64 has its own. The clients are named by a trusted proxy's
// X-Forwarded-For, and each post comes from a new reader, so only the
// per-address limit applies.
func TestRateLimitPerIPv6Prefix(t *testing.T) {
	e := newEnv(t, envOpts{rateLimit: true, trustProxy: config.Proxies{mustPrefix("127.0.0.1/32")}})
	post := func(ip string, i int) int {
		return e.reader("R"+strconv.Itoa(i)).do("POST", "/api/v1/comments",
			map[string]any{"site": "news", "url": articleURL, "text": fmt.Sprintf("comment %d", i), "name": "R"},
			"X-Forwarded-For", ip).status
	}
	for i := 1; i <= 3; i++ {
		if got := post(fmt.Sprintf("2001:db8:1:2::%d", i), i); got != 201 {
			t.Fatalf("post %d from the /64: %d, want 201", i, got)
		}
	}
	if got := post("2001:db8:1:2:ffff:ffff:ffff:ffff", 4); got != 429 {
		t.Errorf("4th post from another address of the same /64: %d, want 429", got)
	}
	if got := post("2001:db8:1:3::1", 5); got != 201 {
		t.Errorf("post from the next /64: %d, want 201", got)
	}
	// Without the proxy trusted, the same header is the client's own word.
	e2 := newEnv(t, envOpts{rateLimit: true})
	for i := 1; i <= 4; i++ {
		status := e2.reader("S"+strconv.Itoa(i)).do("POST", "/api/v1/comments",
			map[string]any{"site": "news", "url": articleURL, "text": fmt.Sprintf("c %d", i), "name": "S"},
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)).status
		if want := map[bool]int{true: 201, false: 429}[i <= 3]; status != want {
			t.Errorf("untrusted XFF, post %d: %d, want %d", i, status, want)
		}
	}
}

// TestStreamCaps proves the per-address and global caps on open event
// streams: over either, a new stream gets 429 with Retry-After, and a
// stream closed frees its place.
func TestStreamCaps(t *testing.T) {
	e := newEnv(t, envOpts{trustProxy: config.Proxies{mustPrefix("127.0.0.1/32")}, maxStreams: 3, maxStreamsPerIP: 2})
	open := func(ip string) (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/stream?site=news&url="+escape(articleURL), nil)
		req.Header.Set("X-Forwarded-For", ip)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); res.Body.Close() })
		return res, cancel
	}
	want := func(res *http.Response, status int, what string) {
		t.Helper()
		if res.StatusCode != status {
			t.Fatalf("%s: %d, want %d", what, res.StatusCode, status)
		}
		if status == 429 && res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", what)
		}
	}
	a1, close1 := open("203.0.113.1")
	want(a1, 200, "first stream from A")
	a2, _ := open("203.0.113.1")
	want(a2, 200, "second stream from A")
	a3, _ := open("203.0.113.1")
	want(a3, 429, "third stream from A (per-address cap 2)")
	v6, _ := open("2001:db8:5:5::1")
	want(v6, 200, "first stream from B")
	v6b, _ := open("2001:db8:5:6::1")
	want(v6b, 429, "stream from C over the global cap 3")
	close1()
	a1.Body.Close()
	// The freed place is counted back once the handler returns.
	for i := 0; ; i++ {
		res, _ := open("203.0.113.1")
		if res.StatusCode == 200 {
			break
		}
		if i == 200 {
			t.Fatalf("a closed stream never freed its place")
		}
		res.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
