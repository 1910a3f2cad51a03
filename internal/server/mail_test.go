package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/mail/mailtest"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/service"
)

// mailArgs are the serve flags that send e-mail to srv, retrying fast.
func mailArgs(srv *mailtest.Server, extra ...string) []string {
	return append([]string{"--demo", "--demo-data=false", "--no-model",
		"--smtp-url=" + srv.URL(), "--mail-from=Parley Comments <comments@example.com>", "--mail-retry=100ms"}, extra...)
}

// client is one browser: its own cookie jar.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// do sends a JSON request and decodes the JSON answer into out (when not
// nil); it returns the status.
func (c *client) do(method, path string, in, out any, header ...string) int {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// get fetches a URL (a link from a message) and returns status and body.
func (c *client) get(u string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(u)
	if err != nil {
		c.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

type posted struct {
	Comment struct {
		ID int64 `json:"id"`
	} `json:"comment"`
	Status string `json:"status"`
}

// post writes a comment on the page and returns its id and status.
func (c *client) post(page, title, name, text string, parent int64) posted {
	c.t.Helper()
	var out posted
	if st := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "title": title,
		"name": name, "text": text, "parent": parent}, &out); st != http.StatusCreated {
		c.t.Fatalf("POST comment %q: %d", text, st)
	}
	return out
}

// parts is a received message taken apart.
type parts struct {
	msg        *mail.Message
	text, html string
}

func parse(t *testing.T, m mailtest.Message) parts {
	t.Helper()
	msg := m.Parsed(t)
	p := parts{msg: msg}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := r.NextRawPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(part)
		}
		b, _ := io.ReadAll(body)
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("want a text and an HTML part, got text %q html %q", p.text, p.html)
	}
	return p
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// link returns the first link of the text part that contains want.
func (p parts) link(t *testing.T, want string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(p.text, -1) {
		if strings.Contains(l, want) {
			return l
		}
	}
	t.Fatalf("no link with %q in:\n%s", want, p.text)
	return ""
}

// confirmAddress leaves an address for reader c and follows the
// confirmation link that arrives (the n-th message).
func confirmAddress(t *testing.T, c *client, smtp *mailtest.Server, email string, n int) {
	t.Helper()
	var got struct {
		ConfirmationSent bool `json:"confirmation_sent"`
		Enabled          bool `json:"enabled"`
	}
	if st := c.do("PATCH", "/api/v1/me/mail", map[string]any{"email": email}, &got); st != http.StatusOK || !got.ConfirmationSent || !got.Enabled {
		t.Fatalf("PATCH /api/v1/me/mail: %d %+v", st, got)
	}
	m := smtp.Wait(n, 10*time.Second)[n-1]
	if m.To[0] != email {
		t.Fatalf("confirmation went to %v, want %s", m.To, email)
	}
	p := parse(t, m)
	if st, body := c.get(p.link(t, "/api/v1/mail/confirm")); st != http.StatusOK || !strings.Contains(body, "Address confirmed") {
		t.Fatalf("confirm link: %d %s", st, body)
	}
	var me struct{ Email string }
	c.do("GET", "/api/v1/me/mail", nil, &me)
	if me.Email != email {
		t.Fatalf("after confirming: address %q, want %q", me.Email, email)
	}
}

// TestReplyNotification: a reader who confirmed an address gets one message
// per reply to their comment, with a Message-ID, one-click unsubscribe
// headers, a text and an HTML part in which every user-supplied string is
// escaped, no header injected from a title, a link to the reply, and an
// unsubscribe link that works with one POST. Their own replies tell them
// nothing. On both stores.
func TestReplyNotification(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			smtp := mailtest.Start(t, mailtest.Options{})
			srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp)...), be.opts(t))
			base := srv.URL()
			page := base + "/demo"
			title := "Budget <b>vote</b> & \"more\"\r\nBcc: victim@example.com"

			ann, eve := newClient(t, base), newClient(t, base)
			root := ann.post(page, title, "Ann", "My first comment.", 0)
			confirmAddress(t, ann, smtp, "ann@example.com", 1)

			ann.post(page, "", "Ann", "Replying to myself.", root.Comment.ID) // tells Ann nothing
			reply := eve.post(page, "", "Eve <img src=x onerror=alert(1)>", "I disagree <script>alert(1)</script> & so on.", root.Comment.ID)
			m := smtp.Wait(2, 10*time.Second)[1]
			p := parse(t, m)
			if testing.Verbose() {
				t.Logf("%s", m.Data)
			}
			h := p.msg.Header
			if m.To[0] != "ann@example.com" || m.From != "comments@example.com" {
				t.Errorf("envelope from %s to %v", m.From, m.To)
			}
			subject := mailtest.Header(p.msg, "Subject")
			if !strings.HasPrefix(subject, "Eve ") || !strings.Contains(subject, "replied to your comment on Budget") || strings.ContainsAny(subject, "\r\n") {
				t.Errorf("Subject: %q", subject)
			}
			if h.Get("Bcc") != "" || h.Get("Cc") != "" {
				t.Errorf("a header was injected: Bcc %q Cc %q", h.Get("Bcc"), h.Get("Cc"))
			}
			if id := h.Get("Message-ID"); !regexp.MustCompile(`^<parley-mail-\d+\.[\w-]+@127\.0\.0\.1>$`).MatchString(id) {
				t.Errorf("Message-ID %q", id)
			}
			unsub := h.Get("List-Unsubscribe")
			if !strings.HasPrefix(unsub, "<"+base+"/api/v1/mail/unsubscribe?") || !strings.HasSuffix(unsub, ">") {
				t.Errorf("List-Unsubscribe %q", unsub)
			}
			if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post %q", got)
			}
			for _, bad := range []string{"<script>", "<img", "<b>vote"} {
				if strings.Contains(p.html, bad) {
					t.Errorf("the HTML part has %q unescaped:\n%s", bad, p.html)
				}
			}
			for _, want := range []string{"&lt;script&gt;", "&lt;img src=x", "&lt;b&gt;vote&lt;/b&gt;", fmt.Sprintf(`href="%s#parley-c-%d"`, page, reply.Comment.ID)} {
				if !strings.Contains(p.html, want) {
					t.Errorf("the HTML part lacks %q:\n%s", want, p.html)
				}
			}
			if !strings.Contains(p.text, "I disagree <script>alert(1)</script> & so on.") ||
				p.link(t, "#parley-c-") != fmt.Sprintf("%s#parley-c-%d", page, reply.Comment.ID) {
				t.Errorf("text part:\n%s", p.text)
			}

			// One click: the mail client POSTs the List-Unsubscribe URL.
			u := strings.Trim(unsub, "<>")
			res, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("one-click unsubscribe: %d", res.StatusCode)
			}
			var me struct{ Replies bool }
			ann.do("GET", "/api/v1/me/mail", nil, &me)
			if me.Replies {
				t.Errorf("after unsubscribing, replies are still on")
			}
			// A forged link does nothing.
			if st, _ := newClient(t, base).get(strings.Replace(u, "s=", "s=x", 1)); st != http.StatusOK {
				t.Errorf("GET of an unsubscribe link shows the page: %d", st)
			}
			res, _ = http.Post(strings.Replace(u, "s=", "s=x", 1), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("a forged unsubscribe link: %d, want 403", res.StatusCode)
			}
			eve.post(page, "", "Eve", "One more reply.", root.Comment.ID)
			waitQueueIdle(t, srv)
			if n := len(smtp.Messages()); n != 2 {
				t.Errorf("after unsubscribing: %d messages, want still 2", n)
			}
		})
	}
}

// waitQueueIdle waits until the mail consumer has caught up with the log
// and the queue has nothing due.
func waitQueueIdle(t *testing.T, srv *server.Server) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the consumer's poll and the sender's
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n, caughtUp, err := srv.Mail().Backlog(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && caughtUp {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the mail queue did not drain")
}

// admin sends an admin API request with the server's token.
func admin(t *testing.T, srv *server.Server, method, path string, in, out any) int {
	t.Helper()
	return newClient(t, srv.URL()).do(method, path, in, out, "Authorization", "Bearer "+srv.AdminToken())
}

// TestHeldReplyNotifiesOnceApproved: a reply held for moderation tells
// nobody until a moderator approves it, then exactly once (approving it
// again after a rejection does not tell again); a rejected reply never
// does. On both stores.
func TestHeldReplyNotifiesOnceApproved(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			smtp := mailtest.Start(t, mailtest.Options{})
			srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp)...), be.opts(t))
			if st := admin(t, srv, "PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"suspect_words": []string{"holdme"}}, nil); st != http.StatusOK {
				t.Fatalf("PATCH policy: %d", st)
			}
			base := srv.URL()
			page := base + "/demo"
			ann, bob := newClient(t, base), newClient(t, base)
			root := ann.post(page, "Held replies", "Ann", "Start.", 0)
			confirmAddress(t, ann, smtp, "ann@example.com", 1)

			held := bob.post(page, "", "Bob", "Held: holdme, first.", root.Comment.ID)
			rejected := bob.post(page, "", "Bob", "Held: holdme, second.", root.Comment.ID)
			if held.Status != "pending" || rejected.Status != "pending" {
				t.Fatalf("statuses %q %q, want both pending", held.Status, rejected.Status)
			}
			waitQueueIdle(t, srv)
			if n := len(smtp.Messages()); n != 1 {
				t.Fatalf("while held: %d messages, want only the confirmation", n)
			}
			decide := func(id int64, action string) {
				t.Helper()
				if st := admin(t, srv, "POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": action}, nil); st != http.StatusOK {
					t.Fatalf("%s %d: %d", action, id, st)
				}
			}
			decide(rejected.Comment.ID, "reject")
			decide(held.Comment.ID, "approve")
			m := smtp.Wait(2, 10*time.Second)[1]
			if p := parse(t, m); !strings.Contains(p.text, "first.") || strings.Contains(p.text, "second.") {
				t.Errorf("the notification is not of the approved reply:\n%s", p.text)
			}
			// Rejected and approved again: the reader was told already.
			decide(held.Comment.ID, "reject")
			decide(held.Comment.ID, "approve")
			waitQueueIdle(t, srv)
			if n := len(smtp.Messages()); n != 2 {
				t.Errorf("after all decisions: %d messages, want 2 (confirmation and one reply)", n)
			}
		})
	}
}

// TestReplyDigest: replies to one reader on one page within the interval
// are one message, then one digest of the rest once the interval is over;
// a reply on another page is not held back by it.
func TestReplyDigest(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--reply-interval=2s")...), server.Options{})
	base := srv.URL()
	ann, bob := newClient(t, base), newClient(t, base)
	root := ann.post(base+"/demo", "Digest page", "Ann", "Start.", 0)
	other := ann.post(base+"/demo?page=2", "Other page", "Ann", "Elsewhere.", 0)
	confirmAddress(t, ann, smtp, "ann@example.com", 1)

	start := time.Now()
	bob.post(base+"/demo", "", "Bob", "Reply one.", root.Comment.ID)
	smtp.Wait(2, 10*time.Second)
	bob.post(base+"/demo", "", "Bob", "Reply two.", root.Comment.ID)
	bob.post(base+"/demo", "", "Carol", "Reply three.", root.Comment.ID)
	bob.post(base+"/demo?page=2", "", "Bob", "Reply elsewhere.", other.Comment.ID)
	ms := smtp.Wait(3, 10*time.Second)
	if p := parse(t, ms[2]); !strings.Contains(p.text, "Reply elsewhere.") || time.Since(start) > 2*time.Second {
		t.Errorf("the reply on the other page came after %v:\n%s", time.Since(start), p.text)
	}
	ms = smtp.Wait(4, 10*time.Second)
	if time.Since(start) < 2*time.Second {
		t.Errorf("the digest came after %v, before the 2s interval", time.Since(start))
	}
	p := parse(t, ms[3])
	if s := mailtest.Header(p.msg, "Subject"); s != "2 new replies to your comments on Digest page" ||
		!strings.Contains(p.text, "Reply two.") || !strings.Contains(p.text, "Reply three.") || !strings.Contains(p.html, "Carol") {
		t.Errorf("digest %q:\n%s", s, p.text)
	}
	waitQueueIdle(t, srv)
	if n := len(smtp.Messages()); n != 4 {
		t.Errorf("%d messages, want 4", n)
	}
}

// replyIDs returns the ids of the replies a message tells of (its links to
// them), and the message's Message-ID.
func replyIDs(t *testing.T, m mailtest.Message) ([]string, string) {
	t.Helper()
	p := parse(t, m)
	var ids []string
	for _, l := range regexp.MustCompile(`#parley-c-(\d+)`).FindAllStringSubmatch(p.text, -1) {
		ids = append(ids, l[1])
	}
	return ids, p.msg.Header.Get("Message-ID")
}

// TestMailRefusedRecipient: a reader types an address the SMTP server has
// no mailbox for (550 5.1.1 to RCPT TO). That message is given up after
// the one refusal, not retried, and it does not hold back the queue: the
// next reader's confirmation and notifications go out at once, and the
// queue drains.
func TestMailRefusedRecipient(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{Unknown: []string{"nobody@example.com"}})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--reply-interval=1ms")...), server.Options{})
	base := srv.URL()
	bob, ann := newClient(t, base), newClient(t, base)
	page := base + "/demo?page=refused"
	bob.post(page, "Refused", "Bob", "A root by Bob.", 0)
	var got struct {
		ConfirmationSent bool `json:"confirmation_sent"`
	}
	if st := bob.do("PATCH", "/api/v1/me/mail", map[string]any{"email": "nobody@example.com"}, &got); st != http.StatusOK || !got.ConfirmationSent {
		t.Fatalf("PATCH /api/v1/me/mail with the unknown address: %d %+v", st, got)
	}
	for deadline := time.Now().Add(10 * time.Second); smtp.Refused() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the confirmation to the unknown address was never tried")
		}
	}
	// Ann's mail goes out behind the refused message, every time.
	annRoot := ann.post(page, "", "Ann", "A root by Ann.", 0).Comment.ID
	confirmAddress(t, ann, smtp, "ann@example.com", 1)
	bob.post(page, "", "Bob", "Bob answers Ann.", annRoot)
	if ms := smtp.Wait(2, 10*time.Second); ms[1].To[0] != "ann@example.com" {
		t.Errorf("the reply notification went to %v", ms[1].To)
	}
	waitQueueIdle(t, srv)
	time.Sleep(700 * time.Millisecond) // several retry intervals (--mail-retry=100ms)
	if n := smtp.Refused(); n != 1 {
		t.Errorf("the unknown address was tried %d times, want once (then given up)", n)
	}
	for _, m := range smtp.Messages() {
		if m.To[0] != "ann@example.com" {
			t.Errorf("a message to %v arrived", m.To)
		}
	}
}

// TestMailOutage: the SMTP server goes away in the middle of a burst of
// notifications, then refuses a few messages with a temporary error when
// it is back. Every notification is delivered, exactly once, and every
// message once: nothing is lost while the server is down, and a message
// it accepted is not sent again.
func TestMailOutage(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--reply-interval=1ms")...), server.Options{})
	base := srv.URL()
	ann, bob := newClient(t, base), newClient(t, base)
	const pages, burst = 30, 90
	roots := make([]int64, pages)
	for i := range roots {
		roots[i] = ann.post(fmt.Sprintf("%s/demo?page=%d", base, i), fmt.Sprintf("Page %d", i), "Ann", fmt.Sprintf("Root %d.", i), 0).Comment.ID
	}
	confirmAddress(t, ann, smtp, "ann@example.com", 1)

	want := map[string]bool{}
	reply := func(i int) {
		id := bob.post(fmt.Sprintf("%s/demo?page=%d", base, i%pages), "", "Bob", fmt.Sprintf("Reply %d.", i), roots[i%pages]).Comment.ID
		want[fmt.Sprint(id)] = true
	}
	for i := range burst / 3 {
		reply(i)
	}
	smtp.Wait(5, 10*time.Second) // delivery has begun
	smtp.Stop()
	for i := burst / 3; i < burst; i++ {
		reply(i)
	}
	time.Sleep(1500 * time.Millisecond) // a few failed attempts, backing off
	queued, _, err := srv.Mail().Backlog(t.Context())
	if err != nil || queued == 0 {
		t.Fatalf("during the outage: %d queued, %v; want messages waiting", queued, err)
	}
	smtp.Restart()
	smtp.RejectNext(3)

	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := map[string]int{}
		for _, m := range smtp.Messages()[1:] {
			ids, _ := replyIDs(t, m)
			for _, id := range ids {
				seen[id]++
			}
		}
		if len(seen) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitQueueIdle(t, srv)
	seen, msgIDs := map[string]int{}, map[string]int{}
	ms := smtp.Messages()[1:]
	for _, m := range ms {
		ids, mid := replyIDs(t, m)
		msgIDs[mid]++
		for _, id := range ids {
			seen[id]++
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("reply %s was told %d times, want once", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d replies told, want %d", len(seen), len(want))
	}
	for mid, n := range msgIDs {
		if n != 1 {
			t.Errorf("message %s arrived %d times", mid, n)
		}
	}
	t.Logf("%d replies in %d messages, %d during the first third", len(want), len(ms), burst/3)
}

// clock is a test's settable time.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// TestEmailSignIn: a sign-in link is sent only to an address a reader
// has, but the answer is the same for any address; the link signs in only
// the browser that asked, once, within 15 minutes; an address gets at most
// 3 links an hour and an IP may ask 10 times an hour.
func TestEmailSignIn(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	clk := &clock{}
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp)...), server.Options{Now: clk.Now})
	base := srv.URL()
	ann := newClient(t, base)
	ann.post(base+"/demo", "Sign-in", "Ann", "Hello.", 0)
	confirmAddress(t, ann, smtp, "ann@example.com", 1)
	var me struct {
		Me struct{ ID string } `json:"me"`
	}
	ann.do("GET", "/api/v1/me?site=demo", nil, &me)
	annID := me.Me.ID

	ask := func(c *client, email string) (int, string) {
		t.Helper()
		var out struct{ Status string }
		st := c.do("POST", "/api/v1/auth/email", map[string]any{"email": email, "site": "demo"}, &out)
		return st, out.Status
	}
	laptop := newClient(t, base)
	st1, known := ask(laptop, "Ann@Example.com")
	st2, unknown := ask(newClient(t, base), "nobody@example.com")
	if st1 != http.StatusAccepted || st2 != http.StatusAccepted || known != unknown || known == "" {
		t.Fatalf("known address: %d %q; unknown: %d %q; want the same 202", st1, known, st2, unknown)
	}
	if st, _ := ask(laptop, "not an address"); st != http.StatusBadRequest {
		t.Errorf("a malformed address: %d, want 400", st)
	}
	m := smtp.Wait(2, 10*time.Second)[1]
	if m.To[0] != "ann@example.com" {
		t.Fatalf("the link went to %v", m.To)
	}
	p := parse(t, m)
	if p.msg.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("a sign-in link has List-Unsubscribe")
	}
	link := p.link(t, "/api/v1/auth/email/verify")

	// Another browser cannot use it, and does not spend it.
	if st, body := newClient(t, base).get(link); st != http.StatusForbidden || !strings.Contains(body, "browser where you asked") {
		t.Errorf("the link in another browser: %d %s", st, body)
	}
	if st, body := laptop.get(link); st != http.StatusOK || !strings.Contains(body, "Signed in") {
		t.Fatalf("the link in the browser that asked: %d %s", st, body)
	}
	me.Me.ID = ""
	laptop.do("GET", "/api/v1/me?site=demo", nil, &me)
	if me.Me.ID != annID {
		t.Errorf("signed in as %q, want Ann %q", me.Me.ID, annID)
	}
	if st, _ := laptop.get(link); st != http.StatusNotFound {
		t.Errorf("the link a second time: %d, want 404", st)
	}

	// A link expires after 15 minutes.
	phone := newClient(t, base)
	ask(phone, "ann@example.com")
	late := parse(t, smtp.Wait(3, 10*time.Second)[2]).link(t, "/api/v1/auth/email/verify")
	clk.Advance(16 * time.Minute)
	if st, _ := phone.get(late); st != http.StatusNotFound {
		t.Errorf("a link after 16 minutes: %d, want 404", st)
	}

	// Three links an hour to one address; the fourth is not sent, and
	// the answer does not say so.
	ask(phone, "ann@example.com")
	smtp.Wait(4, 10*time.Second)
	if st, s := ask(phone, "ann@example.com"); st != http.StatusAccepted || s != known {
		t.Errorf("a fourth link: %d %q", st, s)
	}
	for i := 6; i <= 10; i++ {
		if st, _ := ask(phone, fmt.Sprintf("other%d@example.com", i)); st != http.StatusAccepted {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	if st, _ := ask(phone, "ann@example.com"); st != http.StatusTooManyRequests {
		t.Errorf("the 11th request from one IP in an hour: %d, want 429", st)
	}
	waitQueueIdle(t, srv)
	if n := len(smtp.Messages()); n != 4 {
		t.Errorf("%d messages, want 4 (a confirmation, three links)", n)
	}
}

// syncBuffer is a log destination for one test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMailSecretsNotLogged: over implicit TLS with authentication, the
// server refuses Parley's password; the log says what failed, at startup
// and at each attempt, without the password or the recipient's address.
func TestMailSecretsNotLogged(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{TLS: "implicit", Username: "parley", Password: "the-right-one"})
	wrong := strings.Replace(smtp.URL(), ":the-right-one@", ":Sup3r-Secret-pw@", 1)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := servertest.Config(t, "--demo", "--demo-data=false", "--no-model", "--smtp-url="+wrong,
		"--mail-from=comments@example.com", "--mail-retry=100ms")
	srv := servertest.Start(t, cfg, server.Options{Logger: logger, MailTLS: smtp.ClientTLS()})
	c := newClient(t, srv.URL())
	c.post(srv.URL()+"/demo", "Secrets", "Ann", "Hello.", 0)
	c.do("PATCH", "/api/v1/me/mail", map[string]any{"email": "secret-reader@example.com"}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "send failed") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "send failed") || !strings.Contains(out, "smtps://parley@127.0.0.1") {
		t.Fatalf("the log does not tell of the failure:\n%s", out)
	}
	for _, secret := range []string{"Sup3r-Secret-pw", "secret-reader@example.com"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	if len(smtp.Messages()) != 0 {
		t.Errorf("a message was accepted with a wrong password")
	}
}

// TestModeratorAlerts: a comment reported over the site's threshold, a
// queue of held comments over the limit and a suspected brigade alert the
// site's moderators, once per condition per interval (a second comment
// over the threshold within the interval waits for the digest); a
// moderator who chose the daily digest gets the first alert and nothing
// more that day; a moderator of another site gets nothing.
func TestModeratorAlerts(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--alert-interval=2s", "--alert-queue-size=2")...), server.Options{})
	ctx := t.Context()
	svc := srv.Service()
	if err := svc.CreateSite(ctx, &parley.Site{ID: "other", Name: "Other", Origins: []string{"https://other.example.com"}}); err != nil {
		t.Fatal(err)
	}
	add := func(name, email, site string) *parley.User {
		u, err := svc.AddStaff(ctx, service.StaffInput{Role: parley.RoleModerator, SiteID: site, Name: name, Email: email, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	add("Mod A", "mod-a@example.com", "demo")
	digest := add("Mod C", "mod-c@example.com", "demo")
	add("Mod X", "mod-x@example.com", "other")
	on := true
	if _, err := srv.Mail().SetStaffMail(ctx, service.Actor{User: digest}, nil, &on); err != nil {
		t.Fatal(err)
	}
	if st := admin(t, srv, "PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"report_threshold": 1, "suspect_words": []string{"holdme"}}, nil); st != http.StatusOK {
		t.Fatalf("PATCH policy: %d", st)
	}
	base := srv.URL()
	ann, bob := newClient(t, base), newClient(t, base)
	x := ann.post(base+"/demo", "Alerts", "Ann", "Reported first.", 0)
	y := bob.post(base+"/demo?page=2", "Second page", "Bob", "Reported second.", 0)
	z := bob.post(base+"/demo?page=2", "", "Bob", "Reported third.", 0)
	report := func(id int64) {
		for range 2 { // two new readers of weight 0.5 make the threshold of 1
			c := newClient(t, base)
			c.post(base+"/demo?page=3", "", "Reader", fmt.Sprintf("I am reader %d.", time.Now().UnixNano()), 0)
			if st := c.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", id), map[string]any{"reason": "spam"}, nil); st != http.StatusAccepted {
				t.Fatalf("report %d: %d", id, st)
			}
		}
	}
	to := func(addr string) (subjects []string, texts []string) {
		for _, m := range smtp.Messages() {
			if m.To[0] == addr {
				p := parse(t, m)
				subjects = append(subjects, mailtest.Header(p.msg, "Subject"))
				texts = append(texts, p.text)
			}
		}
		return subjects, texts
	}
	waitFor := func(addr string, n int) ([]string, []string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, tx := to(addr)
			if len(s) >= n || time.Now().After(deadline) {
				return s, tx
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	const overThreshold = "[demo] A comment was reported over the threshold"
	report(x.Comment.ID)
	start := time.Now()
	for _, addr := range []string{"mod-a@example.com", "mod-c@example.com"} {
		s, tx := waitFor(addr, 1)
		if len(s) != 1 || s[0] != overThreshold || !strings.Contains(tx[0], "Comment #1 by Ann") || !strings.Contains(tx[0], base+"/admin/") {
			t.Fatalf("%s: alerts %q:\n%s", addr, s, tx)
		}
	}
	report(y.Comment.ID) // over the threshold too, within the interval: waits
	time.Sleep(300 * time.Millisecond)
	if s, _ := to("mod-a@example.com"); slices.Index(s[1:], overThreshold) >= 0 && time.Since(start) < 2*time.Second {
		t.Errorf("within the interval Mod A has %q, want one alert of reports", s)
	}
	// The two comments held by their reports fill the queue to its
	// limit of 2; two more held ones change nothing within the interval.
	ann.post(base+"/demo", "", "Ann", "holdme one.", 0)
	ann.post(base+"/demo", "", "Ann", "holdme two.", 0)
	// Four new readers reporting Bob within minutes: a brigade.
	report(z.Comment.ID)
	s, tx := waitFor("mod-a@example.com", 4)
	got := map[string]string{}
	for i := range s {
		got[s[i]] += tx[i]
	}
	for _, want := range []string{overThreshold, "[demo] 2 comments are waiting for a moderator", "[demo] Suspected report brigade", "[demo] 2 moderation alerts"} {
		if _, ok := got[want]; !ok {
			t.Errorf("Mod A has no alert %q; has %q", want, s)
		}
	}
	n := 0
	for _, subj := range s {
		if subj == overThreshold || subj == "[demo] Suspected report brigade" {
			n++
		}
	}
	if n != 2 { // one of each; the second over the threshold is in the digest
		t.Errorf("Mod A has %q: want one alert of reports and one of the brigade besides the digest", s)
	}
	if d := got["[demo] 2 moderation alerts"]; !strings.Contains(d, "Comment #1 by Bob") || !strings.Contains(d, "Comment #2 by Bob") {
		t.Errorf("the digest is not of Bob's two comments:\n%s", d)
	}
	if s, _ := to("mod-c@example.com"); len(s) != 1 {
		t.Errorf("the daily-digest moderator got %q, want only the first alert", s)
	}
	if s, _ := to("mod-x@example.com"); len(s) != 0 {
		t.Errorf("the other site's moderator got %q", s)
	}
}

// toLoopback sends requests for the https:// base URL to the server's
// plain-http address, so that a cookie jar treats the server as the HTTPS
// site it is configured to be (Secure cookies are kept and sent).
type toLoopback struct{ addr string }

func (l toLoopback) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = "http", l.addr
	return http.DefaultTransport.RoundTrip(r)
}

// setCookie returns the Set-Cookie of the name in a response, nil without.
func setCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSignInCookieOverHTTPS: behind an https:// base URL, the cookie that
// binds a sign-in link to the browser is HttpOnly, Secure, SameSite=None
// and Partitioned (CHIPS), limited to the sign-in paths, so that a
// widget's cross-site request may set it even where third-party cookies
// are blocked; the reader's session set by the link is the same; and the
// deletion of the binding cookie once used is partitioned too (a browser
// deletes a partitioned cookie only so). Over plain http it is Lax,
// neither Secure nor Partitioned.
func TestSignInCookieOverHTTPS(t *testing.T) {
	const base = "https://comments.example.com"
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--base-url="+base)...), server.Options{})
	addr := strings.TrimPrefix(srv.URL(), "http://")
	browser := func() *client {
		jar, _ := cookiejar.New(nil)
		return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: toLoopback{addr}}}
	}
	ann := browser()
	ann.post(base+"/demo", "Cookies", "Ann", "Hello.", 0)
	confirmAddress(t, ann, smtp, "ann@example.com", 1)

	laptop := browser()
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/email", strings.NewReader(`{"email":"ann@example.com","site":"demo"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := laptop.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	c := setCookie(res, "parley_signin")
	if res.StatusCode != http.StatusAccepted || c == nil {
		t.Fatalf("POST /api/v1/auth/email: %d, cookie %v", res.StatusCode, c)
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteNoneMode || !c.Partitioned || c.Path != "/api/v1/auth/email" || c.MaxAge != 15*60 {
		t.Errorf("binding cookie %q: want HttpOnly; Secure; SameSite=None; Partitioned; Path=/api/v1/auth/email; Max-Age=900", c.String())
	}

	link := parse(t, smtp.Wait(2, 10*time.Second)[1]).link(t, "/api/v1/auth/email/verify")
	res, err = laptop.http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Signed in") {
		t.Fatalf("the link in the browser that asked: %d %s", res.StatusCode, body)
	}
	if d := setCookie(res, "parley_signin"); d == nil || d.MaxAge >= 0 || !d.Partitioned || !d.Secure || d.SameSite != http.SameSiteNoneMode || d.Path != "/api/v1/auth/email" {
		t.Errorf("deletion of the binding cookie %v: want Max-Age=0 with Partitioned; Secure; SameSite=None; the same path", d)
	}
	if r := setCookie(res, "__Host-parley_reader"); r == nil || !r.Partitioned || !r.Secure || r.SameSite != http.SameSiteNoneMode || r.Path != "/" {
		t.Errorf("the reader's session %v: want __Host-, Partitioned; Secure; SameSite=None; Path=/", r)
	}

	// Plain http (local use): Lax, not Secure, not partitioned.
	plain := servertest.Start(t, servertest.Config(t, mailArgs(smtp)...), server.Options{})
	req, _ = http.NewRequest("POST", plain.URL()+"/api/v1/auth/email", strings.NewReader(`{"email":"x@example.com","site":"demo"}`))
	req.Header.Set("Content-Type", "application/json")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if c := setCookie(res, "parley_signin"); c == nil || c.Secure || c.Partitioned || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("over http the binding cookie is %v, want SameSite=Lax, neither Secure nor Partitioned", c)
	}
}

// TestReaderReplySettings: a reader who turns reply notifications off in
// their settings (PATCH /api/v1/me/mail {"replies": false}) is told of no
// reply; turned on again, of the next one; another reader's settings are
// their own.
func TestReaderReplySettings(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--reply-interval=1ms")...), server.Options{})
	base := srv.URL()
	ann, cat, bob := newClient(t, base), newClient(t, base), newClient(t, base)
	annRoot := ann.post(base+"/demo", "Settings", "Ann", "Ann's start.", 0)
	catRoot := cat.post(base+"/demo", "", "Cat", "Cat's start.", 0)
	confirmAddress(t, ann, smtp, "ann@example.com", 1)
	confirmAddress(t, cat, smtp, "cat@example.com", 2)

	var me struct{ Replies bool }
	if st := ann.do("PATCH", "/api/v1/me/mail", map[string]any{"replies": false}, &me); st != http.StatusOK || me.Replies {
		t.Fatalf("PATCH replies off: %d %+v", st, me)
	}
	bob.post(base+"/demo", "", "Bob", "To Ann, unheard.", annRoot.Comment.ID)
	bob.post(base+"/demo", "", "Bob", "To Cat, heard.", catRoot.Comment.ID)
	ms := smtp.Wait(3, 10*time.Second)
	waitQueueIdle(t, srv)
	if ms = smtp.Messages(); len(ms) != 3 || ms[2].To[0] != "cat@example.com" {
		t.Fatalf("with Ann's replies off: %d messages, the third to %v; want 3, the third to Cat", len(ms), ms[len(ms)-1].To)
	}

	if st := ann.do("PATCH", "/api/v1/me/mail", map[string]any{"replies": true}, &me); st != http.StatusOK || !me.Replies {
		t.Fatalf("PATCH replies on: %d %+v", st, me)
	}
	bob.post(base+"/demo", "", "Bob", "To Ann, heard.", annRoot.Comment.ID)
	m := smtp.Wait(4, 10*time.Second)[3]
	if p := parse(t, m); m.To[0] != "ann@example.com" || !strings.Contains(p.text, "To Ann, heard.") || strings.Contains(p.text, "unheard") {
		t.Errorf("after turning replies on, to %v:\n%s", m.To, p.text)
	}
	waitQueueIdle(t, srv)
	if n := len(smtp.Messages()); n != 4 {
		t.Errorf("%d messages, want 4", n)
	}
}

// TestDailyAlertDigest: a moderator who chose the daily digest gets the
// first alert at once; the alerts of the next 24 hours wait, whatever the
// alert interval, and arrive as one digest once the day is over, while a
// moderator without the digest is alerted each interval.
func TestDailyAlertDigest(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	clk := &clock{}
	srv := servertest.Start(t, servertest.Config(t, mailArgs(smtp, "--alert-interval=1s")...), server.Options{Now: clk.Now})
	ctx := t.Context()
	svc := srv.Service()
	daily, err := svc.AddStaff(ctx, service.StaffInput{Role: parley.RoleModerator, SiteID: "demo", Name: "Mod D", Email: "mod-d@example.com", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddStaff(ctx, service.StaffInput{Role: parley.RoleModerator, SiteID: "demo", Name: "Mod E", Email: "mod-e@example.com", Password: "a long enough password"}); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := srv.Mail().SetStaffMail(ctx, service.Actor{User: daily}, nil, &on); err != nil {
		t.Fatal(err)
	}
	if st := admin(t, srv, "PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"report_threshold": 1}, nil); st != http.StatusOK {
		t.Fatalf("PATCH policy: %d", st)
	}
	base := srv.URL()
	report := func(page string, n int) {
		t.Helper()
		author := newClient(t, base)
		c := author.post(base+"/demo?page="+page, "Page "+page, fmt.Sprintf("Author %d", n), fmt.Sprintf("Reported comment %d.", n), 0)
		for range 2 { // two new readers of weight 0.5 make the threshold of 1
			r := newClient(t, base)
			r.post(base+"/demo?page=r"+page, "", "Reader", fmt.Sprintf("I am reader %d.", time.Now().UnixNano()), 0)
			if st := r.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", c.Comment.ID), map[string]any{"reason": "spam"}, nil); st != http.StatusAccepted {
				t.Fatalf("report: %d", st)
			}
		}
	}
	to := func(addr string) []parts {
		var out []parts
		for _, m := range smtp.Messages() {
			if m.To[0] == addr {
				out = append(out, parse(t, m))
			}
		}
		return out
	}
	waitFor := func(addr string, n int) []parts {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(to(addr)) < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := to(addr); len(got) < n {
			t.Fatalf("%s has %d messages, want %d", addr, len(got), n)
		}
		return to(addr)
	}
	report("1", 1)
	if got := waitFor("mod-d@example.com", 1); !strings.Contains(got[0].text, "Reported comment 1.") && !strings.Contains(got[0].text, "Author 1") {
		t.Errorf("the first alert to the daily moderator:\n%s", got[0].text)
	}
	waitFor("mod-e@example.com", 1)
	time.Sleep(1200 * time.Millisecond) // past the alert interval
	report("2", 2)
	waitFor("mod-e@example.com", 2) // each interval for Mod E
	clk.Advance(time.Hour)
	time.Sleep(time.Second) // the sender's polls: the daily digest stays queued
	if got := to("mod-d@example.com"); len(got) != 1 {
		t.Fatalf("within the day the daily moderator has %d messages, want 1", len(got))
	}
	clk.Advance(24 * time.Hour)
	got := waitFor("mod-d@example.com", 2)
	if d := got[1].text; !strings.Contains(d, "Author 2") || strings.Contains(d, "Author 1") {
		t.Errorf("the daily digest is not of the second alert only:\n%s", d)
	}
	t.Logf("digest subject %q", mailtest.Header(got[1].msg, "Subject"))
	waitQueueIdle(t, srv)
	if n := len(to("mod-d@example.com")); n != 2 {
		t.Errorf("the daily moderator has %d messages, want 2", n)
	}
}
