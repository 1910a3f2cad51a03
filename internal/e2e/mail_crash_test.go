package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/mail/mailtest"
)

// mailPage is the n-th article of the mail crash test: one page per reply,
// so that each notification is a message of its own (no digest).
func mailPage(n int) string { return fmt.Sprintf("https://news.example.com/2026/12/mail-%d", n) }

var (
	replyLink = regexp.MustCompile(`#parley-c-(\d+)`)
	messageID = regexp.MustCompile(`(?m)^Message-ID: (<[^>]+>)`)
)

// toldOf returns the reply a received notification tells of, and its
// Message-ID.
func toldOf(m mailtest.Message) (reply, id string) {
	body := strings.ReplaceAll(string(m.Data), "=\r\n", "") // quoted-printable soft breaks
	if r := replyLink.FindStringSubmatch(body); r != nil {
		reply = r[1]
	}
	if r := messageID.FindStringSubmatch(body); r != nil {
		id = r[1]
	}
	return reply, id
}

// unsentMail counts the unsent messages of the queue, read from the
// database file beside the running server (SQLite allows it, in WAL mode).
func unsentMail(t *testing.T, dataDir string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "parley.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM mail_queue WHERE sent IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMailCrash kills Parley with SIGKILL while it delivers 1,000 queued
// reply notifications (queued while the SMTP server was down). After a
// restart every notification is delivered: each reply is told of in a
// message, 1,000 distinct Message-IDs arrive, each exactly once, except
// the one message the kill may catch between the SMTP server's acceptance
// and its mark in the queue (counted: received plus unsent is 1,001), which
// must be the last accepted before the kill and arrives twice with the
// same Message-ID.
func TestMailCrash(t *testing.T) {
	const n = 1000
	smtp := mailtest.Start(t, mailtest.Options{})
	dataDir := t.TempDir()
	args := []string{"--no-model", "--smtp-url", smtp.URL(), "--mail-from", "Parley <comments@example.com>",
		"--mail-retry", "200ms", "--reply-interval", "1ms", "--mail-lease", "3s"}
	srv := startProcess(t, dataDir, args...)

	// Ann starts a thread on each of n pages and leaves her address.
	ann := srv.client()
	roots := make([]int64, n)
	post := func(c *client, page int, name, text string, parent int64) int64 {
		t.Helper()
		res, err := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": mailPage(page), "title": fmt.Sprintf("Mail %d", page),
			"name": name, "text": text, "parent": parent})
		var p apiPosted
		if err != nil || res.Status != http.StatusCreated || res.decode(&p) != nil || p.Status != "approved" {
			t.Fatalf("POST %q: %v %d %.200s", text, err, res.Status, res.Body)
		}
		return p.Comment.ID
	}
	parallel := func(fn func(i int)) {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < n; i += 4 {
					fn(i)
				}
			})
		}
		wg.Wait()
	}
	roots[0] = post(ann, 0, "Ann", "Thread 0.", 0) // her first post makes her reader (and cookie)
	parallel(func(i int) {
		if i > 0 {
			roots[i] = post(ann, i, "Ann", fmt.Sprintf("Thread %d.", i), 0)
		}
	})
	res, err := ann.do("PATCH", "/api/v1/me/mail", map[string]any{"email": "ann@example.com"})
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("PATCH /api/v1/me/mail: %v %d %s", err, res.Status, res.Body)
	}
	confirm := string(smtp.Wait(1, 10*time.Second)[0].Data)
	link := regexp.MustCompile(`http://\S+/api/v1/mail/confirm\?t=3D(\S+)`).FindStringSubmatch(strings.ReplaceAll(confirm, "=\r\n", ""))
	if link == nil {
		t.Fatalf("no confirmation link in:\n%s", confirm)
	}
	if res, err := ann.do("GET", "/api/v1/mail/confirm?t="+link[1], nil); err != nil || res.Status != http.StatusOK {
		t.Fatalf("confirm: %v %d", err, res.Status)
	}

	// The SMTP server goes down; n readers reply, one on each page.
	smtp.Stop()
	replies := map[string]bool{}
	var mu sync.Mutex
	start := time.Now()
	parallel(func(i int) {
		c := srv.client()
		id := post(c, i, fmt.Sprintf("Bob %d", i), fmt.Sprintf("Reply %d.", i), roots[i])
		mu.Lock()
		replies[fmt.Sprint(id)] = true
		mu.Unlock()
	})
	t.Logf("%d replies posted in %v", n, time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(60 * time.Second)
	for unsentMail(t, dataDir) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications queued after 60 s, want %d; %d messages received; log:\n%s", unsentMail(t, dataDir), n, len(smtp.Messages()), srv.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Back up; Parley is killed while it delivers.
	smtp.Restart()
	smtp.Wait(1+n/10, 60*time.Second)
	srv.kill()
	time.Sleep(300 * time.Millisecond) // data the dead client had written ends at the server now
	received := smtp.Messages()[1:]
	before := len(received)
	left := unsentMail(t, dataDir)
	// The messages the server holds plus those the queue still has are
	// n, or n+1 when the kill fell between the server's acceptance of a
	// message and its mark in the queue: the only message that may go out
	// twice, and it must be the last one the server accepted.
	inFlight := before + left - n
	t.Logf("killed after %d messages, %d left unsent, %d accepted but not marked", before, left, inFlight)
	if left == 0 {
		t.Fatalf("every message was sent before the kill: the test proves nothing")
	}
	if inFlight != 0 && inFlight != 1 {
		t.Fatalf("%d messages received and %d unsent of %d: %d in flight at the kill, want 0 or 1", before, left, n, inFlight)
	}
	_, lastID := toldOf(received[before-1])

	start = time.Now()
	srv = startProcess(t, dataDir, args...)
	deadline = time.Now().Add(60 * time.Second)
	for unsentMail(t, dataDir) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still unsent 60 s after the restart:\n%s", unsentMail(t, dataDir), srv.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the rest delivered %v after the restart", time.Since(start).Round(time.Millisecond))
	time.Sleep(500 * time.Millisecond) // anything sent twice would be here by now

	told, ids := map[string]int{}, map[string]int{}
	for _, m := range smtp.Messages()[1:] {
		reply, id := toldOf(m)
		told[reply]++
		ids[id]++
	}
	for reply := range replies {
		if told[reply] < 1 {
			t.Errorf("reply %s told %d times", reply, told[reply])
		}
	}
	if len(told) != n || len(ids) != n {
		t.Errorf("%d replies told in messages with %d Message-IDs, want %d of each", len(told), len(ids), n)
	}
	// Exactly once per Message-ID, but for the message in flight at the
	// kill (if any), which SMTP cannot tell apart from one never received
	// (RFC 1047): it comes twice, with the same Message-ID.
	for id, k := range ids {
		want := 1
		if inFlight == 1 && id == lastID {
			want = 2
		}
		if k != want {
			t.Errorf("Message-ID %s received %d times, want %d", id, k, want)
		}
	}
	t.Logf("%d messages, %d distinct; %d sent again after the kill", len(smtp.Messages())-1, len(ids), inFlight)
}
