package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/internal/webhook"
)

// The receiver's side, as the README shows it (between the markers, copied
// there verbatim: TestReadmeSnippet checks). Standard library only.

// README:begin
// verifyParley checks a webhook post from Parley: header is its
// Parley-Signature header, body the raw request body, secret the
// endpoint's signing secret. It refuses signatures older than 5 minutes.
func verifyParley(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp in Parley-Signature")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside the replay window")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("signature does not match")
}

// hookHandler answers Parley's posts: 2xx once handled, anything else to
// have the delivery retried. Parley-Delivery is the same on every retry.
func hookHandler(secret string, handle func(event string, body []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := verifyParley(secret, r.Header.Get("Parley-Signature"), body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := handle(r.Header.Get("Parley-Event"), body); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// README:end

// TestReadmeSnippet proves that the README's receiver code is this file's
// and that it accepts what Sign makes and refuses the rest.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	snippet := s[strings.Index(s, "// README:begin\n")+len("// README:begin\n") : strings.Index(s, "\n// README:end")]
	readme, err := os.ReadFile(filepath.Join(testenv.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+strings.TrimSpace(snippet)+"\n```") {
		t.Errorf("README.md does not show the receiver code of readme_test.go verbatim in a ```go block; copy it from there")
	}

	const secret = "whsec_readme"
	body := []byte(`{"id":"evt_1","type":"comment.created"}`)
	now := time.Now()
	tests := []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
		ok                   bool
	}{
		{"signed now", secret, webhook.Sign([]byte(secret), now, body), body, now, true},
		{"signed 4 minutes ago", secret, webhook.Sign([]byte(secret), now.Add(-4*time.Minute), body), body, now, true},
		{"two signatures, the second valid (a secret being changed)", secret,
			"t=" + strconv.FormatInt(now.Unix(), 10) + ",v1=00ff," + strings.Split(webhook.Sign([]byte(secret), now, body), ",")[1], body, now, true},
		{"replayed after 6 minutes", secret, webhook.Sign([]byte(secret), now.Add(-6*time.Minute), body), body, now, false},
		{"from the future", secret, webhook.Sign([]byte(secret), now.Add(6*time.Minute), body), body, now, false},
		{"another secret", "whsec_other", webhook.Sign([]byte(secret), now, body), body, now, false},
		{"body changed", secret, webhook.Sign([]byte(secret), now, body), []byte(`{"id":"evt_2","type":"comment.created"}`), now, false},
		{"timestamp changed", secret, strings.Replace(webhook.Sign([]byte(secret), now, body), "t=", "t=1", 1), body, now, false},
		{"no header", secret, "", body, now, false},
		{"no v1", secret, "t=" + strconv.FormatInt(now.Unix(), 10), body, now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verifyParley(tt.secret, tt.header, tt.body, tt.now)
			lib := webhook.Verify([]byte(tt.secret), tt.header, tt.body, tt.now, 0)
			if (got == nil) != tt.ok || (lib == nil) != tt.ok {
				t.Errorf("verifyParley = %v, webhook.Verify = %v; want accepted %v", got, lib, tt.ok)
			}
		})
	}

	// The handler, against a real post.
	var seen string
	h := httptest.NewServer(hookHandler(secret, func(event string, b []byte) error { seen = event; return nil }))
	defer h.Close()
	for _, tc := range []struct {
		sig  string
		want int
	}{{webhook.Sign([]byte(secret), now, body), 204}, {webhook.Sign([]byte("nope"), now, body), 401}} {
		req, _ := http.NewRequest("POST", h.URL, strings.NewReader(string(body)))
		req.Header.Set("Parley-Signature", tc.sig)
		req.Header.Set("Parley-Event", "comment.created")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("post signed %s: %d, want %d", tc.sig, res.StatusCode, tc.want)
		}
	}
	if seen != "comment.created" {
		t.Errorf("handled event %q, want comment.created", seen)
	}
}

// TestBackoff pins the retry schedule: doubling from the first wait, at
// most an hour, which over 24 hours makes some 30 attempts at the default.
func TestBackoff(t *testing.T) {
	s := webhook.NewSender(nil, nil)
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	var total time.Duration
	for i, w := range want {
		if got := s.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	n := 0
	for total = 0; total <= webhook.RetryFor; n++ {
		total += s.Backoff(n + 1)
	}
	if n < 25 || n > 35 {
		t.Errorf("%d attempts in 24 h, want about 30", n)
	}
}
