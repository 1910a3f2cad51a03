package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/testenv"
)

// freshDatabase creates an empty PostgreSQL database for one test and drops
// it afterwards; it returns the new database's URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := testenv.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", "PARLEY_TEST_POSTGRES", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "parley_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// sseCreated follows a thread's stream and sends the comment id of every
// comment.created event; it stops when ctx is done.
func sseCreated(t *testing.T, ctx context.Context, s *instance, site, pageURL string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/v1/stream?site="+site+"&url="+url.QueryEscape(pageURL), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	ch := make(chan string, 100)
	ready := make(chan struct{})
	go func() { // exits when ctx ends the response
		defer res.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(res.Body)
		typ := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = line[7:]
				if typ == "ready" {
					close(ready)
				}
			case strings.HasPrefix(line, "data: ") && typ == "comment.created":
				d := line[6:]
				i := strings.Index(d, `"comment_id":`)
				ch <- strings.TrimRight(d[i+len(`"comment_id":`):], "}")
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("stream never became ready")
	}
	return ch
}

// TestTwoInstancesOnPostgres runs two real Parley processes on one
// PostgreSQL database: a comment posted through A reaches a stream on B
// within a second, and when A is killed in the middle of a write load, B
// keeps serving and has every comment A acknowledged.
func TestTwoInstancesOnPostgres(t *testing.T) {
	dsn := freshDatabase(t)
	key := "--database=" + dsn
	a := startProcess(t, t.TempDir(), key) // killed below
	b := startServer(t, t.TempDir(), key)
	const page = "https://news.example.com/2026/11/breaking"

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := sseCreated(t, ctx, b, "demo", page)

	// 1. Fan-out: posted on A, streamed by B.
	res, err := a.client().do("POST", "/api/v1/comments", map[string]any{
		"site": "demo", "url": page, "title": "Breaking", "text": "First, through A.", "name": "Ann"})
	if err != nil || res.Status != 201 {
		t.Fatalf("post on A: %v %d %s", err, res.Status, res.Body)
	}
	var posted apiPosted
	res.decode(&posted)
	start := time.Now()
	select {
	case id := <-events:
		if id != fmt.Sprint(posted.Comment.ID) {
			t.Fatalf("B streamed comment %s, want %d", id, posted.Comment.ID)
		}
		t.Logf("A→B stream delivery: %s", time.Since(start).Round(time.Millisecond))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("comment reached B's stream after %s, want within 1 s", d)
		}
	case <-time.After(time.Second):
		t.Fatal("comment posted on A did not reach B's stream within 1 s")
	}

	// 2. Kill A under write load; B keeps every acknowledged comment.
	var (
		mu    sync.Mutex
		acked = map[int64]string{}
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) { // exits when A stops answering or stop closes
			defer wg.Done()
			c := a.client()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				text := fmt.Sprintf("Load comment %d from writer %d.", i, w)
				res, err := c.do("POST", "/api/v1/comments", map[string]any{
					"site": "demo", "url": page, "text": text, "name": fmt.Sprint("Writer ", w)})
				if err != nil {
					return // A is gone
				}
				if res.Status == 201 {
					var p apiPosted
					if res.decode(&p) == nil {
						mu.Lock()
						acked[p.Comment.ID] = text
						mu.Unlock()
					}
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	a.kill()
	close(stop)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d comments acknowledged before the kill; the load did not run", len(acked))
	}

	cb := b.client()
	th, err := cb.thread("demo", page)
	if err != nil {
		t.Fatalf("B after A died: %v", err)
	}
	have := map[int64]string{}
	numbers := map[int]bool{}
	for _, c := range th.Comments {
		have[c.ID] = c.HTML
		if numbers[c.Number] {
			t.Errorf("number #%d used twice", c.Number)
		}
		numbers[c.Number] = true
	}
	lost := 0
	for id, text := range acked {
		if html, ok := have[id]; !ok || !strings.Contains(html, text) {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged comments are missing on B", lost, len(acked))
	}
	res, err = cb.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "text": "B still takes comments.", "name": "Bea"})
	if err != nil || res.Status != 201 {
		t.Fatalf("post on B after A died: %v %d %s", err, res.Status, res.Body)
	}
	t.Logf("%d comments acknowledged by A before SIGKILL, all on B", len(acked))
}

// TestSiteClosedOnOtherInstance runs two real Parley processes on one
// PostgreSQL database: when A closes the site through its policy, B, which
// had the site and the thread's response cached, refuses a post with A's
// very error and says page.closed in its thread. A cached thread response
// has no TTL, so B's thread can only change through the site.updated event
// A's write recorded; the poll below waits for that event to arrive.
func TestSiteClosedOnOtherInstance(t *testing.T) {
	dsn := freshDatabase(t)
	a := startServer(t, t.TempDir(), "--database="+dsn)
	b := startServer(t, t.TempDir(), "--database="+dsn)
	const page = "https://news.example.com/2026/11/closing"
	post := func(s *instance) response {
		t.Helper()
		res, err := s.client().do("POST", "/api/v1/comments", map[string]any{
			"site": "demo", "url": page, "title": "Closing", "text": "A comment.", "name": "Ann"})
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		return res
	}
	closedOn := func(s *instance) bool {
		t.Helper()
		res, err := s.client().do("GET", "/api/v1/threads?site=demo&url="+url.QueryEscape(page), nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("thread: %v %d %s", err, res.Status, res.Body)
		}
		var th struct {
			Page struct {
				Closed *bool `json:"closed"`
			} `json:"page"`
		}
		if err := res.decode(&th); err != nil || th.Page.Closed == nil {
			t.Fatalf("thread without page.closed (%v): %s", err, res.Body)
		}
		return *th.Page.Closed
	}

	// B caches the site (a post) and the thread's response (two reads).
	if res := post(b); res.Status != http.StatusCreated {
		t.Fatalf("post on B: %d %s", res.Status, res.Body)
	}
	for range 2 {
		if closedOn(b) {
			t.Fatal("B's thread of an open site says page.closed = true")
		}
	}

	ca := a.client()
	res, err := ca.admin("GET", "/api/v1/admin/sites/demo/policy", nil)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("GET policy on A: %v %d %s", err, res.Status, res.Body)
	}
	var policy map[string]any
	if err := res.decode(&policy); err != nil {
		t.Fatal(err)
	}
	policy["closed"] = true
	if res, err := ca.admin("PUT", "/api/v1/admin/sites/demo/policy", policy); err != nil || res.Status != http.StatusOK {
		t.Fatalf("PUT policy on A: %v %d %s", err, res.Status, res.Body)
	}
	want := post(a)
	if want.Status != http.StatusForbidden {
		t.Fatalf("post on A after A closed the site: %d %s; want 403", want.Status, want.Body)
	}

	// Bounded poll: NOTIFY wakes B's broker at once, its poll within 1 s;
	// 10 s only bounds a failure.
	for deadline := time.Now().Add(10 * time.Second); !closedOn(b); {
		if time.Now().After(deadline) {
			t.Fatalf("B's thread still says page.closed = false 10 s after A closed the site:\n%s", b.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := post(b); got.Status != want.Status || string(got.Body) != string(want.Body) {
		t.Errorf("post on B after A closed the site: got %d %s, want %d %s as on A", got.Status, got.Body, want.Status, want.Body)
	}
}
