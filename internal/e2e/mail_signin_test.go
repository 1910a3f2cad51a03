package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/mail/mailtest"
)

// readerCookie is the client's reader session cookie, "" without one.
func (c *client) readerCookie() string {
	u, _ := url.Parse(c.srv.URL + "/")
	for _, k := range c.http.Jar.Cookies(u) {
		if k.Name == auth.ReaderCookie {
			return k.Value
		}
	}
	return ""
}

// replayStatus is the status of GET path with only the reader cookie value.
func replayStatus(t *testing.T, s *instance, value, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Cookie", auth.ReaderCookie+"="+value)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

var mailLink = regexp.MustCompile(`/api/v1/(?:mail/confirm|auth/email/verify)\?t=[A-Za-z0-9_\-%.~]+`)

// linkIn returns the path of the Parley link in a message.
func linkIn(t *testing.T, m mailtest.Message) string {
	t.Helper()
	raw := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(m.Data))
	l := mailLink.FindString(raw)
	if l == "" {
		t.Fatalf("no Parley link in the message to %v: %.600s", m.To, raw)
	}
	return l
}

// TestEmailLinkSignInRotatesSession (issue 13, promise 6): a guest who
// signs in by an e-mail link gets a new session id, and the cookie they
// came with stops working on the server; the reader's session on their
// first device is untouched (sign-in ends only the session it replaces).
func TestEmailLinkSignInRotatesSession(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := startServer(t, t.TempDir(), "--smtp-url", smtp.URL(), "--mail-from", "comments@example.com")
	demo := srv.URL + "/demo"
	export := "/api/v1/me/export"

	// Dora posts and confirms her address on her first device.
	first := srv.client()
	if res, err := first.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "name": "Dora", "text": "Tell me when someone answers."}); err != nil || res.Status != 201 {
		t.Fatalf("post: %v %d %.300s", err, res.Status, res.Body)
	}
	if res, err := first.do("PATCH", "/api/v1/me/mail", map[string]any{"email": "dora@example.com"}); err != nil || res.Status >= 300 {
		t.Fatalf("leave an address: %v %d %.300s", err, res.Status, res.Body)
	}
	if res, err := first.do("GET", linkIn(t, smtp.Wait(1, 10*time.Second)[0]), nil); err != nil || res.Status != 200 {
		t.Fatalf("confirm: %v %d %.300s", err, res.Status, res.Body)
	}
	dora := first.readerCookie()

	// On a second device she first posts as a guest, then signs in by link.
	second := srv.client()
	if res, err := second.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": demo, "name": "Guest", "text": "Before signing in here."}); err != nil || res.Status != 201 {
		t.Fatalf("guest post: %v %d %.300s", err, res.Status, res.Body)
	}
	guest := second.readerCookie()
	if res, err := second.do("POST", "/api/v1/auth/email", map[string]any{"email": "dora@example.com", "site": "demo"}); err != nil || res.Status != 202 {
		t.Fatalf("ask for a link: %v %d %.300s", err, res.Status, res.Body)
	}
	if res, err := second.do("GET", linkIn(t, smtp.Wait(2, 10*time.Second)[1]), nil); err != nil || res.Status != 200 {
		t.Fatalf("follow the link: %v %d %.300s", err, res.Status, res.Body)
	}
	signedIn := second.readerCookie()
	if signedIn == "" || signedIn == guest || signedIn == dora {
		t.Fatalf("the link sign-in kept a session id")
	}
	if got := replayStatus(t, srv, guest, export); got != 401 {
		t.Errorf("the guest cookie replayed after the link sign-in: export %d, want 401", got)
	}
	if got := replayStatus(t, srv, signedIn, export); got != 200 {
		t.Errorf("the new session: export %d, want 200", got)
	}
	if got := replayStatus(t, srv, dora, export); got != 200 {
		t.Errorf("the first device's session after a sign-in elsewhere: export %d, want 200", got)
	}
}
