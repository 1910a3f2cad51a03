package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// crashPage is the article the crash test writes on.
const crashPage = "https://news.example.com/2026/12/crash"

// frame is one server-sent event a stream received.
type frame struct {
	id  int64
	typ string
}

// follow reads the thread's stream from after last until the connection
// ends (the server is killed) or ctx is done, and returns the frames.
func follow(ctx context.Context, s *instance, last int64) []frame {
	req, err := http.NewRequestWithContext(ctx, "GET",
		s.URL+"/api/v1/stream?site=demo&url="+url.QueryEscape(crashPage), nil)
	if err != nil {
		return nil
	}
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var out []frame
	var cur frame
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			cur.id, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
		case strings.HasPrefix(line, "event: "):
			cur.typ = strings.TrimPrefix(line, "event: ")
		case line == "" && cur.typ != "":
			out = append(out, cur)
			cur = frame{}
		}
	}
	return out
}

// TestCrashDuringWrites kills the server with SIGKILL at a random moment of
// a burst of posts, replies and moderator decisions, 20 times over, with a
// reader's stream open each time and resuming from the last id it got; a
// post whose answer was lost is sent again with its Idempotency-Key after
// the restart, as the widget does. Afterwards: every acknowledged comment
// is stored once with its event, no post is stored twice, every
// acknowledged decision is stored with its audit entry and event, a
// decision whose answer was lost is there whole or not at all, the page's
// count is its approved comments, every reply's parent and root are on the
// page, and the stream got every event of the page exactly once, in order.
// SQLite here; TestCrashDuringWritesPostgres runs the same loop on
// PostgreSQL.
func TestCrashDuringWrites(t *testing.T) {
	dataDir := t.TempDir()
	crashLoop(t, dataDir, nil, func(t *testing.T) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestCrashDuringWritesPostgres is TestCrashDuringWrites on PostgreSQL:
// Parley is killed, the database is not.
func TestCrashDuringWritesPostgres(t *testing.T) {
	dsn := freshDatabase(t)
	crashLoop(t, t.TempDir(), []string{"--database=" + dsn}, func(t *testing.T) store.Store {
		db := postgres.New(dsn)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// crashPost is a post a reader sent: its body and Idempotency-Key.
type crashPost struct {
	body map[string]any
	key  string
}

// crashLoop is the crash test over the store the server args select; open
// opens it for the checks once the last server has stopped.
func crashLoop(t *testing.T, dataDir string, args []string, open func(t *testing.T) store.Store) {
	const cycles = 20
	rng := rand.New(rand.NewPCG(9, 9))
	serve := append([]string{"--no-model"}, args...)

	var (
		mu       sync.Mutex
		comments = map[int64]string{} // acknowledged: id → status when posted
		decided  = map[int64]string{} // acknowledged decisions: id → action
		tried    = map[int64]string{} // decisions sent, acknowledged or not
		sent     = map[string]bool{}  // the text of every post sent: true once acknowledged
		retried  int                  // posts sent again after a lost answer
		replayed int                  // of them, answered with the first outcome
		frames   []frame
		last     int64       // the stream's position: the newest id it got
		start    = int64(-1) // where the first stream started: the head of the log then
	)
	const posters = 3
	readers := make([]*client, posters) // each keeps its cookies across restarts
	lost := make([]*crashPost, posters) // each reader's post whose answer was lost
	for cycle := range cycles {
		srv := startProcess(t, dataDir, serve...)
		ctx, cancel := context.WithCancel(context.Background())
		streamDone := make(chan []frame, 1)
		go func() { streamDone <- follow(ctx, srv, last) }()

		var wg sync.WaitGroup
		for w := range posters { // readers posting
			if readers[w] == nil {
				readers[w] = srv.client()
			}
			c := readers[w]
			c.srv = srv
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					p := lost[w]
					if p == nil {
						text := fmt.Sprintf("Crash cycle %d, reader %d, comment %d.", cycle, w, i)
						if i%4 == 3 {
							text += " WAIT" // held by the site's policy below: a pending comment
						}
						body := map[string]any{"site": "demo", "url": crashPage, "title": "Crash", "text": text, "name": fmt.Sprintf("Reader %d", w)}
						mu.Lock()
						if i%3 == 1 && len(comments) > 0 { // a reply to an acknowledged comment
							for id := range comments {
								body["parent"] = id
								break
							}
						}
						sent[text] = false
						mu.Unlock()
						p = &crashPost{body: body, key: fmt.Sprintf("crash-key-%04d-%d-%06d", cycle, w, i)}
					}
					res, err := c.do("POST", "/api/v1/comments", p.body, "Idempotency-Key", p.key)
					if err != nil {
						lost[w] = p
						return // the server is gone
					}
					mu.Lock()
					if lost[w] != nil {
						retried++
						if res.Header.Get("Idempotent-Replayed") == "true" {
							replayed++
						}
					}
					lost[w] = nil
					var posted apiPosted
					if res.Status == http.StatusCreated && res.decode(&posted) == nil {
						comments[posted.Comment.ID] = posted.Status
						sent[p.body["text"].(string)] = true
					}
					mu.Unlock()
				}
			})
		}
		wg.Go(func() { // a moderator deciding each comment once
			c := srv.client()
			for ctx.Err() == nil {
				mu.Lock()
				var id int64
				for cid := range comments {
					if _, done := tried[cid]; !done {
						id = cid
						break
					}
				}
				action := "approve"
				if id%2 == 0 {
					action = "reject"
				}
				if id != 0 {
					tried[id] = action
				}
				mu.Unlock()
				if id == 0 {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				res, err := c.admin("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": action, "note": "crash test"})
				if err != nil {
					return
				}
				if res.Status == http.StatusOK {
					mu.Lock()
					decided[id] = action
					mu.Unlock()
				}
			}
		})
		if cycle == 0 {
			// Hold comments with "WAIT" in them, so that some are pending.
			res, err := srv.client().admin("PATCH", "/api/v1/admin/sites/demo/policy", map[string]any{"banned_words": []string{"WAIT"}})
			if err != nil || res.Status != http.StatusOK {
				t.Fatalf("policy: %v %d %s", err, res.Status, res.Body)
			}
		}
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
		srv.kill()
		cancel()
		wg.Wait()
		got := <-streamDone
		for _, f := range got {
			if f.typ != "ready" {
				frames = append(frames, f)
			} else if start < 0 {
				start = f.id
			}
			last = max(last, f.id)
		}
	}

	// A clean start: the stream resumes once more and gets what it missed,
	// and the posts whose answers were lost are sent again.
	srv := startProcess(t, dataDir, serve...)
	for w, p := range lost {
		if p == nil {
			continue
		}
		readers[w].srv = srv
		res, err := readers[w].do("POST", "/api/v1/comments", p.body, "Idempotency-Key", p.key)
		if err != nil {
			t.Fatalf("retry after the last restart: %v", err)
		}
		retried++
		if res.Header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
		var posted apiPosted
		if res.Status == http.StatusCreated && res.decode(&posted) == nil {
			comments[posted.Comment.ID] = posted.Status
			sent[p.body["text"].(string)] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	for _, f := range follow(ctx, srv, last) {
		if f.typ != "ready" {
			frames = append(frames, f)
		}
	}
	cancel()
	if err := srv.proc.Stop(); err != nil {
		t.Fatal(err)
	}

	db := open(t)
	defer db.Close()
	bg := context.Background()
	page, err := db.Page(bg, "demo", crashPage)
	if err != nil {
		t.Fatalf("the page: %v", err)
	}
	evs, err := db.EventsSince(bg, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	byComment := map[int64][]string{}
	var want []frame // what a reader's stream carries, in log order
	for _, e := range evs {
		byComment[e.CommentID] = append(byComment[e.CommentID], e.Type)
		if e.ID > start && ((e.PageID == page.ID && e.Type != parley.EventQueueChanged) || (e.Type == parley.EventSiteUpdated && e.SiteID == "demo")) {
			want = append(want, frame{e.ID, e.Type})
		}
	}
	// Exactly once, in order: the frames are the page's events.
	if !slices.Equal(frames, want) {
		t.Errorf("the resuming stream got %d events, the log has %d for the page", len(frames), len(want))
		for i := range max(len(frames), len(want)) {
			var g, w frame
			if i < len(frames) {
				g = frames[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("first difference at %d: got %+v, want %+v", i, g, w)
				break
			}
		}
	}

	// Every acknowledged comment, with the event of its creation.
	for id, status := range comments {
		c, err := db.Comment(bg, id)
		if err != nil {
			t.Errorf("acknowledged comment %d (%s): %v", id, status, err)
			continue
		}
		first := parley.EventQueueChanged
		if status == parley.StatusApproved {
			first = parley.EventCommentCreated
		}
		if types := byComment[id]; len(types) == 0 || types[0] != first {
			t.Errorf("comment %d (%s when posted, %s now): events %v, want %s first", id, status, c.Status, types, first)
		}
	}
	// Every decision sent: applied whole (status, audit entry, events) when
	// acknowledged, and whole or not at all when its answer was lost.
	halves := 0
	for id, action := range tried {
		c, err := db.Comment(bg, id)
		if err != nil {
			t.Errorf("decided comment %d: %v", id, err)
			continue
		}
		acts, err := db.Actions(bg, store.ActionQuery{CommentID: id})
		if err != nil {
			t.Fatal(err)
		}
		audited := len(acts) == 1 && acts[0].Action == action
		applied := c.Seen && c.Status == map[string]string{"approve": parley.StatusApproved, "reject": parley.StatusRejected}[action]
		_, acked := decided[id]
		switch {
		case acked && (!audited || !applied):
			t.Errorf("acknowledged %s of comment %d: status %s seen %v, audit %d entries", action, id, c.Status, c.Seen, len(acts))
		case audited != applied || len(acts) > 1:
			halves++
			t.Errorf("%s of comment %d half applied: status %s seen %v, audit %d entries", action, id, c.Status, c.Seen, len(acts))
		}
	}
	// The page's count is its approved comments.
	all, err := db.PageComments(bg, page.ID)
	if err != nil {
		t.Fatal(err)
	}
	approved := 0
	for _, c := range all {
		if c.Status == parley.StatusApproved {
			approved++
		}
	}
	if p, _ := db.PageByID(bg, page.ID); p.Count != approved {
		t.Errorf("page count %d, %d comments approved", p.Count, approved)
	}
	// No post stored twice, every acknowledged one stored; replies hang
	// from a parent on the page and share its root.
	byID := map[int64]*parley.Comment{}
	stored := map[string]int{}
	for _, c := range all {
		byID[c.ID] = c
		stored[c.Text]++
	}
	replies := 0
	for _, c := range all {
		if n := stored[c.Text]; n > 1 {
			t.Errorf("post %q stored %d times", c.Text, n)
			stored[c.Text] = 1
		}
		if _, ok := sent[c.Text]; !ok {
			t.Errorf("stored comment %d %q was never sent", c.ID, c.Text)
		}
		if c.ParentID == 0 {
			if c.RootID != c.ID {
				t.Errorf("top-level comment %d has root %d", c.ID, c.RootID)
			}
			continue
		}
		replies++
		parent := byID[c.ParentID]
		if parent == nil || c.RootID != parent.RootID {
			t.Errorf("reply %d: parent %d on the page %v, root %d", c.ID, c.ParentID, parent != nil, c.RootID)
		}
	}
	for text, acked := range sent {
		if acked && stored[text] != 1 {
			t.Errorf("acknowledged post %q stored %d times", text, stored[text])
		}
	}
	t.Logf("%d cycles: %d comments acknowledged (%d stored, %d replies), %d posts sent again after a lost answer (%d answered from the first outcome), %d decisions sent, %d acknowledged, %d stream events, %d half applied",
		cycles, len(comments), len(all), replies, retried, replayed, len(tried), len(decided), len(frames), halves)
	if len(comments) == 0 || len(decided) == 0 {
		t.Errorf("the bursts acknowledged %d comments and %d decisions: too few to prove anything", len(comments), len(decided))
	}
}
