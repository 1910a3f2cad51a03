package webhook_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/webhook"
)

// countingStore counts the reads of the endpoints.
type countingStore struct {
	*sqlite.DB
	reads atomic.Int64
}

func (s *countingStore) Webhooks(ctx context.Context, siteID string) ([]*store.Webhook, error) {
	s.reads.Add(1)
	return s.DB.Webhooks(ctx, siteID)
}

// TestQueueKeepsTheEndpoints consumes the log as the durable consumer
// does: the endpoints are read once, not per batch, and an endpoint added
// or deleted (which records site.webhooks in the log) gets exactly the
// events after that point in the log.
func TestQueueKeepsTheEndpoints(t *testing.T) {
	ctx := t.Context()
	db := newSiteStore(t)
	page, err := db.EnsurePage(ctx, "news", "https://news.example/a", "A")
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{DB: db}
	q := &webhook.Queue{Store: st}
	var pos int64
	consume := func() {
		t.Helper()
		evs, err := db.EventsSince(ctx, pos, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return
		}
		if err := q.Consume(ctx, evs); err != nil {
			t.Fatal(err)
		}
		pos = evs[len(evs)-1].ID
	}
	post := func() int64 {
		t.Helper()
		c := &parley.Comment{PageID: page.ID, AuthorID: "u", AuthorName: "U", Text: "t", HTML: "<p>t</p>", Status: parley.StatusApproved}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	hook := func(url string) *store.Webhook {
		t.Helper()
		wh := &store.Webhook{SiteID: "news", URL: url, Secret: testSecret, Format: webhook.FormatJSON, Events: []string{parley.EventCommentCreated}}
		if err := db.CreateWebhook(ctx, wh); err != nil {
			t.Fatal(err)
		}
		return wh
	}
	told := func(wh *store.Webhook) int {
		t.Helper()
		ds, err := db.Deliveries(ctx, wh.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}

	a := hook("https://hooks.example/a")
	for range 3 {
		post()
		consume()
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("endpoints read %d times for three batches, want once", n)
	}
	b := hook("https://hooks.example/b")
	post()
	consume()
	if err := db.DeleteWebhook(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	post()
	consume()
	if got := told(b); got != 2 {
		t.Errorf("endpoint added after 3 comments was told of %d, want the 2 after it", got)
	}
	if n := st.reads.Load(); n != 3 {
		t.Errorf("endpoints read %d times, want 3 (at the start, after the addition, after the deletion)", n)
	}
}

// newSiteStore opens a SQLite store in the test's directory, closed when
// the test ends, with the site "news".
func newSiteStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateSite(context.Background(), &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	return db
}
