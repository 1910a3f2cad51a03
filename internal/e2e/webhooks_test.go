package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/webhook"
)

// hookReceiver is a webhook endpoint on loopback that verifies signatures,
// takes a while over each post (so that posts are in flight when Parley is
// killed) and keeps the comment ids it was told of.
type hookReceiver struct {
	*httptest.Server
	secret []byte

	mu        sync.Mutex
	comments  map[int64]int // comment id → accepted posts
	attempts  int
	bad       int
	delivered map[string]int // Parley-Delivery → accepted posts
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	rc := &hookReceiver{secret: []byte(secret), comments: map[int64]int{}, delivered: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(25 * time.Millisecond)
		var env webhook.Envelope
		err := webhook.Verify(rc.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0)
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.attempts++
		if err != nil || env.Data.Comment == nil {
			rc.bad++
			http.Error(w, "refused", http.StatusBadRequest)
			return
		}
		rc.comments[env.Data.Comment.ID]++
		rc.delivered[r.Header.Get(webhook.DeliveryHeader)]++
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.comments)
}

// TestWebhooksSurviveKill posts a burst of comments to a site with a
// webhook, kills Parley with SIGKILL while their deliveries are being
// posted (some queued, some claimed and in flight, some events not yet
// consumed), and restarts it: every acknowledged comment's comment.created
// reaches the receiver, signed, and the store says every delivery was
// delivered. A post in flight at the kill may arrive twice (same
// Parley-Delivery); none is lost.
func TestWebhooksSurviveKill(t *testing.T) {
	const secret = "whsec_e2e_0123456789abcdef"
	rc := newHookReceiver(t, secret)
	dataDir := t.TempDir()
	args := []string{"--no-model", "--outbound-allow", "127.0.0.1", "--webhook-retry", "100ms", "--webhook-timeout", "1s"}

	var mu sync.Mutex
	acked := map[int64]bool{}
	const kills = 2
	for cycle := range kills {
		srv := startProcess(t, dataDir, args...)
		if cycle == 0 {
			res, err := srv.client().admin("POST", "/api/v1/admin/sites/demo/webhooks",
				map[string]any{"url": rc.URL + "/hook", "secret": secret, "events": []string{"comment.created"}})
			if err != nil || res.Status != http.StatusCreated {
				t.Fatalf("add webhook: %v %d %s", err, res.Status, res.Body)
			}
		}
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		for w := range 3 {
			wg.Go(func() {
				c := srv.client()
				for i := 0; i < 100 && ctx.Err() == nil; i++ {
					res, err := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": "https://demo.example/hooks",
						"title": "Hooks", "text": fmt.Sprintf("Cycle %d, reader %d, comment %d.", cycle, w, i), "name": fmt.Sprintf("Reader %d", w)})
					if err != nil {
						return // killed
					}
					var p apiPosted
					if res.Status == http.StatusCreated && res.decode(&p) == nil && p.Status == "approved" {
						mu.Lock()
						acked[p.Comment.ID] = true
						mu.Unlock()
					}
				}
			})
		}
		// Kill once deliveries are flowing: the receiver has some, far from all.
		before := rc.count()
		deadline := time.Now().Add(30 * time.Second)
		for rc.count() < before+40 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		srv.kill()
		cancel()
		wg.Wait()
		mu.Lock()
		t.Logf("cycle %d: killed with %d comments acknowledged, %d told to the receiver", cycle, len(acked), rc.count())
		mu.Unlock()
	}

	srv := startProcess(t, dataDir, args...)
	// Wait for every acknowledged comment, not for as many comments: the
	// receiver also hears of comments stored but not answered at a kill.
	told := func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for id := range acked {
			if rc.comments[id] == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(60 * time.Second)
	for !told() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the last outcomes be stored
	if err := srv.proc.Stop(); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	missing := 0
	for id := range acked {
		if rc.comments[id] == 0 {
			missing++
		}
	}
	twice := 0
	for _, n := range rc.delivered {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d comments acknowledged, %d told, %d posts in all, %d deliveries posted twice (in flight at a kill)",
		len(acked), len(rc.comments), rc.attempts, twice)
	if missing > 0 {
		t.Errorf("%d of %d acknowledged comments never reached the receiver", missing, len(acked))
	}
	if rc.bad > 0 {
		t.Errorf("%d posts failed the signature check or were not an envelope", rc.bad)
	}
	if len(acked) < 80 {
		t.Errorf("only %d comments acknowledged: the burst was too short to test anything", len(acked))
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hooks, err := db.Webhooks(context.Background(), "demo")
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %v %v", hooks, err)
	}
	log, err := db.Deliveries(context.Background(), hooks[0].ID, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, d := range log {
		states[d.State]++
	}
	if states["delivered"] != len(log) || len(log) < len(acked) {
		t.Errorf("deliveries by state %v, %d in all; want all %d or more delivered", states, len(log), len(acked))
	}
}
