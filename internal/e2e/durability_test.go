package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// acked is a comment the server acknowledged with 201.
type acked struct {
	id, parent int64
	number     int
	text       string
	status     string
}

// TestDurabilityAfterSIGKILL posts 200 comments from 16 concurrent readers,
// kills the server with SIGKILL the moment the last 201 has arrived, restarts
// it on the same data directory and finds every acknowledged comment with
// its id, number, parent and text.
func TestDurabilityAfterSIGKILL(t *testing.T) {
	const (
		workers  = 16
		comments = 200
	)
	dataDir := t.TempDir()
	srv := startProcess(t, dataDir)
	pageURL := srv.URL + "/demo"

	var (
		mu   sync.Mutex
		acks []acked
		errs []string
		next int
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := srv.client()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				mu.Lock()
				i := next
				next++
				var parent int64
				// About a third reply to a comment already acknowledged.
				if len(acks) > 0 && rng.IntN(3) == 0 {
					parent = acks[rng.IntN(len(acks))].id
				}
				mu.Unlock()
				if i >= comments {
					return
				}
				text := fmt.Sprintf("Durable comment %03d from reader %02d: the council vote on the harbour plan was closer than the article says.", i, w)
				res, err := c.do("POST", "/api/v1/comments", map[string]any{
					"site": "demo", "url": pageURL, "title": "Demo", "text": text,
					"name": fmt.Sprintf("Reader %02d", w), "parent": parent,
				})
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Sprintf("comment %d: %v", i, err))
				case res.Status != http.StatusCreated:
					errs = append(errs, fmt.Sprintf("comment %d: %d %.200s", i, res.Status, res.Body))
				default:
					var p apiPosted
					if err := res.decode(&p); err != nil {
						errs = append(errs, err.Error())
						break
					}
					acks = append(acks, acked{id: p.Comment.ID, parent: parent, number: p.Comment.Number, text: text, status: p.Status})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The last 201 is in: kill at once, before any graceful flush could run.
	srv.kill()
	if len(errs) > 0 {
		t.Fatalf("%d of %d posts failed; first: %s", len(errs), comments, errs[0])
	}
	if len(acks) != comments {
		t.Fatalf("acknowledged %d comments, want %d", len(acks), comments)
	}

	srv = startProcess(t, dataDir)
	c := srv.client()
	th, err := c.thread("demo", pageURL)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[int64]apiComment, len(th.Comments))
	numbers := make(map[int]int64, len(th.Comments))
	for _, cm := range th.Comments {
		got[cm.ID] = cm
		if other, dup := numbers[cm.Number]; dup {
			t.Errorf("number #%d is used by comments %d and %d", cm.Number, other, cm.ID)
		}
		numbers[cm.Number] = cm.ID
	}
	held := map[int64]bool{}
	for _, a := range acks {
		if a.status != "approved" {
			held[a.id] = true
		}
	}
	if len(held) > 0 {
		// A comment held for review is not in the public thread: find it in
		// the moderation queue instead.
		res, err := c.admin("GET", "/api/v1/admin/queue?site=demo&status=pending&limit=200", nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("queue: %v %d %.200s", err, res.Status, res.Body)
		}
		var q struct{ Comments []apiComment }
		if err := res.decode(&q); err != nil {
			t.Fatal(err)
		}
		for _, cm := range q.Comments {
			got[cm.ID] = cm
		}
	}
	missing := 0
	for _, a := range acks {
		cm, ok := got[a.id]
		if !ok {
			missing++
			t.Errorf("acknowledged comment %d (#%d, %s) is gone after SIGKILL", a.id, a.number, a.status)
			continue
		}
		if cm.Number != a.number {
			t.Errorf("comment %d: number #%d after restart, #%d when acknowledged", a.id, cm.Number, a.number)
		}
		if !strings.Contains(cm.HTML, a.text) {
			t.Errorf("comment %d: html %q lost the text %q", a.id, cm.HTML, a.text)
		}
		var parent int64
		if cm.Parent != nil {
			parent = *cm.Parent
		}
		if parent != a.parent {
			t.Errorf("comment %d: parent %d after restart, %d when posted", a.id, parent, a.parent)
		}
	}
	if th.Page.Count < comments-len(held) {
		t.Errorf("page count %d after restart, want at least %d", th.Page.Count, comments-len(held))
	}
	t.Logf("%d comments acknowledged (%d held for review), %d missing after SIGKILL and restart", len(acks), len(held), missing)
}
