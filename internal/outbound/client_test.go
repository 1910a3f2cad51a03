package outbound

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server is a 127.0.0.1 test server that counts the requests it answers.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func ok(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok "+r.Header.Get("User-Agent")) }

func allow(t *testing.T, s string) Allowlist {
	t.Helper()
	l, err := ParseAllowlist(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestClientRefusals proves, against real 127.0.0.1 servers, that a request
// reaches a non-public address only through the operator's allow-list: by
// literal address, by a name that resolves to it (the check is on the
// resolved address), and through a redirect from an allowed host.
func TestClientRefusals(t *testing.T) {
	target := newServer(t, ok)
	port := target.Listener.Addr().(*net.TCPAddr).Port
	byName := "http://localhost:" + itoa(port) + "/"
	redirector := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/", http.StatusFound)
	})
	redirectorByName := "http://localhost:" + itoa(redirector.Listener.Addr().(*net.TCPAddr).Port) + "/"

	tests := []struct {
		name  string
		allow string
		url   string
		want  bool // reached the target
	}{
		{"literal loopback", "", target.URL, false},
		{"name resolving to loopback", "", byName, false},
		{"literal allowed by range", "127.0.0.0/8", target.URL, true},
		{"literal allowed by address", "127.0.0.1", target.URL, true},
		{"name allowed by host", "localhost", byName, true},
		{"name allowed, its address not", "localhost", target.URL, false},
		{"redirect from an allowed host to a refused address", "localhost", redirectorByName, false},
		{"redirect, both allowed", "127.0.0.1", redirector.URL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := target.hits.Load()
			body, err := get(NewClient(Options{Allow: allow(t, tt.allow)}), tt.url)
			reached := target.hits.Load() > before
			if reached != tt.want {
				t.Fatalf("GET %s with allow %q: reached the target = %v, want %v (err %v)", tt.url, tt.allow, reached, tt.want, err)
			}
			var be *BlockedError
			switch {
			case tt.want && err != nil:
				t.Errorf("GET %s: %v", tt.url, err)
			case tt.want && body != "ok "+DefaultUserAgent:
				t.Errorf("GET %s = %q, want the default user agent echoed", tt.url, body)
			case !tt.want && !errors.As(err, &be):
				t.Errorf("GET %s: %v, want a *BlockedError", tt.url, err)
			case !tt.want && be.Reason != "loopback":
				t.Errorf("GET %s refused as %q, want loopback", tt.url, be.Reason)
			}
		})
	}
}

// TestClientCaps proves the size, time and redirect limits and that
// environment proxies are not used.
func TestClientCaps(t *testing.T) {
	lo := allow(t, "127.0.0.1")
	big := strings.Repeat("x", 2<<20)
	declared := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	chunked := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 64; i++ {
			io.WriteString(w, big[:32<<10])
			w.(http.Flusher).Flush()
		}
	})
	slow := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	var loop *server
	loop = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	})

	if _, err := get(NewClient(Options{Allow: lo}), declared.URL); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2 MiB with Content-Length: %v, want ErrTooLarge", err)
	}
	if _, err := get(NewClient(Options{Allow: lo}), chunked.URL); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2 MiB chunked: %v, want ErrTooLarge", err)
	}
	if body, err := get(NewClient(Options{Allow: lo, MaxResponseBytes: 4 << 20}), chunked.URL); err != nil || len(body) != 2<<20 {
		t.Errorf("2 MiB chunked under a 4 MiB cap: %d bytes, %v", len(body), err)
	}
	start := time.Now()
	if _, err := get(NewClient(Options{Allow: lo, Timeout: 200 * time.Millisecond}), slow.URL); err == nil {
		t.Errorf("slow server: no error, want a timeout")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow server: gave up after %v, want about 200ms", d)
	}
	if _, err := get(NewClient(Options{Allow: lo}), loop.URL); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("redirect loop: %v, want ErrTooManyRedirects", err)
	}
	if n := loop.hits.Load(); n != DefaultMaxRedirects+1 {
		t.Errorf("redirect loop: %d requests, want %d", n, DefaultMaxRedirects+1)
	}
	resp, err := NewClient(Options{Allow: lo, MaxRedirects: -1}).Get(loop.URL)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("MaxRedirects -1: %v %v, want the 302 itself", resp, err)
	} else {
		resp.Body.Close()
	}
	if _, err := NewClient(Options{}).Get("file:///etc/passwd"); !errors.Is(err, ErrScheme) {
		t.Errorf("file URL: %v, want ErrScheme", err)
	}

	// An environment proxy would dial the target past the guard.
	proxy := newServer(t, ok)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	target := newServer(t, ok)
	if _, err := get(NewClient(Options{Allow: lo}), target.URL); err != nil || proxy.hits.Load() != 0 || target.hits.Load() != 1 {
		t.Errorf("with HTTP_PROXY set: err %v, proxy saw %d, target saw %d; want 0 and 1", err, proxy.hits.Load(), target.hits.Load())
	}
}

// TestInNetworkNamespace runs the refusal tests again inside a new network
// namespace holding only a loopback interface (unshare -rn), so that a
// broken guard could not reach anything beyond this machine. Where user
// namespaces are not permitted it skips, saying so.
func TestInNetworkNamespace(t *testing.T) {
	if os.Getenv("PARLEY_OUTBOUND_NETNS") == "1" {
		t.Skip("already inside the namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed: the refusal tests ran in the host namespace only")
	}
	if out, err := exec.Command("unshare", "-rn", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare -rn not permitted here (%v: %s): the refusal tests ran in the host namespace only", err, strings.TrimSpace(string(out)))
	}
	cmd := exec.Command("unshare", "-rn", "sh", "-c",
		`ip link set lo up 2>/dev/null || true; exec "$0" -test.run '^(TestDialRefusesEveryClass|TestClientRefusals|TestClientCaps)$' -test.count=1 -test.v`,
		os.Args[0])
	cmd.Env = append(os.Environ(), "PARLEY_OUTBOUND_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("refusal tests inside the namespace: %v\n%s", err, out)
	}
	for _, name := range []string{"TestDialRefusesEveryClass", "TestClientRefusals", "TestClientCaps"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("%s did not pass inside the namespace:\n%s", name, out)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
