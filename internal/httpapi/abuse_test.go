package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// TestFloodRulePerIPv6Prefix (issue 13, promise 4): the moderation
// pipeline's per-address flood rule (flood_per_minute_ip) counts an IPv6
// client by its /64, as the HTTP rate limits do: posts from as many
// addresses of one /64 as the limit allows are published, the next one,
// from yet another address of that /64, is rejected by the flood rule, and
// posts from two other /64s (the next one up, and one far away) are not.
// Each post is a new reader's, so only the per-address count applies; the
// rate limits are off. Both stores.
func TestFloodRulePerIPv6Prefix(t *testing.T) {
	dsn, schema := pgSchema(t)
	proxy := config.Proxies{mustPrefix("127.0.0.1/32")}
	for _, be := range []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{flood: true, trustProxy: proxy})},
		{"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{flood: true, trustProxy: proxy})}} {
		e := be.e
		t.Run(be.name, func(t *testing.T) {
			const limit = 4
			if res := e.reader("").do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"flood_per_minute_ip": limit}, bearer...); res.status != 200 {
				t.Fatalf("policy: %d %s", res.status, res.body)
			}
			n := 0
			post := func(ip string) string {
				t.Helper()
				n++
				res := e.reader(fmt.Sprintf("R%d", n)).do("POST", "/api/v1/comments",
					map[string]any{"site": "news", "url": articleURL, "text": fmt.Sprintf("comment %d from %s", n, ip), "name": "R"},
					"X-Forwarded-For", ip)
				if res.status != 201 {
					t.Fatalf("post from %s: %d %s", ip, res.status, res.body)
				}
				m := res.json(t)
				rules := []string{}
				for _, r := range m["reasons"].([]any) {
					rules = append(rules, r.(map[string]any)["rule"].(string))
				}
				return m["status"].(string) + ":" + strings.Join(rules, ",")
			}
			// The limit's worth of addresses of one /64, all different.
			for i := range limit {
				ip := fmt.Sprintf("2001:db8:7:7:%x::%x", i*0x1111, i+1)
				if got := post(ip); got != "approved:" {
					t.Errorf("post %d from %s: %s, want approved", i, ip, got)
				}
			}
			if got := post("2001:db8:7:7:ffff:ffff:ffff:fffe"); got != "rejected:flood" {
				t.Errorf("one more from another address of the /64: %s, want rejected:flood", got)
			}
			for _, ip := range []string{"2001:db8:7:8::1", "2001:db8:ffff:1::1"} {
				if got := post(ip); got != "approved:" {
					t.Errorf("post from %s, another /64: %s, want approved", ip, got)
				}
			}
		})
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

// TestPostFlood is promise 4's flood: 10,000 POSTs from one address, each
// from a new reader (so only the per-address budget holds them), sent by
// eight clients at once. Only the budget (a burst of 3, then 10 a minute) is
// accepted, every other answer is 429 with Retry-After, the store grows by
// the accepted comments alone, and another reader's thread reads go on
// meanwhile (their p99 is logged; the bound asserted is generous).
func TestPostFlood(t *testing.T) {
	const posts, workers = 10000, 8
	e := newEnv(t, envOpts{rateLimit: true})
	thread := func() (int, time.Duration) {
		t0 := time.Now()
		res := e.reader("").do("GET", "/api/v1/threads?site=news&url="+escape(articleURL)+"&limit=200", nil)
		if res.status != 200 {
			t.Errorf("thread read during the flood: %d", res.status)
			return 0, 0
		}
		return len(commentsOf(res.json(t))), time.Since(t0)
	}
	start := time.Now()
	var accepted, limited, other, noRetry atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := range next {
				body := strings.NewReader(fmt.Sprintf(`{"site":"news","url":%q,"text":"flood %d","name":"F"}`, articleURL, i))
				req, _ := http.NewRequest("POST", e.url+"/api/v1/comments", body)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				switch res.StatusCode {
				case 201:
					accepted.Add(1)
				case 429:
					limited.Add(1)
					if res.Header.Get("Retry-After") == "" {
						noRetry.Add(1)
					}
				default:
					other.Add(1)
				}
			}
		}()
	}
	var lat []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < posts; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
	}()
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
			_, d := thread()
			lat = append(lat, d)
			time.Sleep(5 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	budget := int64(3 + int(elapsed.Minutes()*10) + 1)
	shown, _ := thread()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100]
	t.Logf("%d POSTs in %v: %d accepted (budget %d), %d got 429; %d thread reads meanwhile, p50 %v, p99 %v",
		posts, elapsed.Round(time.Millisecond), accepted.Load(), budget, limited.Load(), len(lat), lat[len(lat)/2].Round(time.Microsecond), p99.Round(time.Microsecond))
	if accepted.Load() > budget || accepted.Load() < 3 {
		t.Errorf("%d accepted, want between 3 and the budget %d", accepted.Load(), budget)
	}
	if limited.Load()+accepted.Load() != posts || other.Load() != 0 {
		t.Errorf("%d accepted + %d limited + %d other, want all %d either accepted or 429", accepted.Load(), limited.Load(), other.Load(), posts)
	}
	if noRetry.Load() != 0 {
		t.Errorf("%d 429s without Retry-After", noRetry.Load())
	}
	if int64(shown) != accepted.Load() {
		t.Errorf("the thread holds %d comments, want the %d accepted", shown, accepted.Load())
	}
	if p99 > time.Second {
		t.Errorf("thread read p99 %v during the flood, want well under a second", p99)
	}
}
