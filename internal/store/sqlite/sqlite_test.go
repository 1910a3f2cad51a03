package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// open opens a new database in the test's temporary directory.
func open(t *testing.T, configure func(*sqlite.DB)) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parley.db")
	db := sqlite.New(path)
	if configure != nil {
		configure(db)
	}
	if err := db.Open(t.Context()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := open(t, nil)
		return db
	})
}

// TestConformanceNoCache runs the suite with the thread cache off, so that
// both ways PageComments answers are proven.
func TestConformanceNoCache(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := open(t, func(db *sqlite.DB) { db.CacheComments = -1 })
		return db
	})
}

// seed creates a site, a page and n approved comments.
func seed(t *testing.T, db *sqlite.DB, n int) *parley.Page {
	t.Helper()
	ctx := t.Context()
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	p, err := db.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	if err != nil {
		t.Fatalf("EnsurePage: %v", err)
	}
	for i := range n {
		c := &parley.Comment{PageID: p.ID, AuthorID: "alice", Text: fmt.Sprintf("c%d", i), Status: parley.StatusApproved}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
	}
	return p
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	p := seed(t, db, 5)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	err = db.CreateSite(ctx, &parley.Site{ID: "late"})
	if got := parley.ErrorCode(err); got != parley.EUnavailable {
		t.Errorf("write after Close: got %v, want EUnavailable", err)
	}

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.PageByID(ctx, p.ID)
	if err != nil {
		t.Fatalf("PageByID after reopen: %v", err)
	}
	if got.Count != 5 {
		t.Errorf("count after reopen: got %d, want 5", got.Count)
	}
	c := &parley.Comment{PageID: p.ID, AuthorID: "bob", Text: "after", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, c); err != nil {
		t.Fatalf("CreateComment after reopen: %v", err)
	}
	if c.Number != 6 {
		t.Errorf("number after reopen: got %d, want 6", c.Number)
	}
	// The site's event, two for each of the five comments, two for this one.
	last, err := db.LastEventID(ctx)
	if err != nil || last != 13 {
		t.Errorf("LastEventID after reopen: got %d, %v; want 13", last, err)
	}
}

// TestGroupCommitIsolation sends failing and succeeding writes at once: each
// failure rolls back alone, with its own error, and every success is kept.
func TestGroupCommitIsolation(t *testing.T) {
	db, _ := open(t, nil)
	p := seed(t, db, 1)
	ctx := t.Context()
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &parley.Comment{PageID: p.ID, AuthorID: "w", Text: fmt.Sprint(i), Status: parley.StatusApproved}
			if i%2 == 1 {
				c.ParentID = 1 << 40 // no such comment
			}
			errs[i] = db.CreateComment(ctx, c)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		want := ""
		if i%2 == 1 {
			want = parley.EInvalid
		}
		if got := parley.ErrorCode(err); got != want {
			t.Errorf("write %d: got %v, want code %q", i, err, want)
		}
	}
	all, err := db.PageComments(ctx, p.ID)
	if err != nil {
		t.Fatalf("PageComments: %v", err)
	}
	if len(all) != 1+n/2 {
		t.Errorf("got %d comments, want %d", len(all), 1+n/2)
	}
	got, _ := db.PageByID(ctx, p.ID)
	if got.Count != 1+n/2 {
		t.Errorf("count: got %d, want %d", got.Count, 1+n/2)
	}
	// The site's event, and two for each comment kept.
	evs, err := db.EventsSince(ctx, 0, 10_000)
	if err != nil || len(evs) != 1+2*(1+n/2) {
		t.Errorf("events: got %d, %v; want %d", len(evs), err, 1+2*(1+n/2))
	}
}

func TestCancelledWrite(t *testing.T) {
	db, _ := open(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.CreateSite(ctx, &parley.Site{ID: "news"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateSite with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := db.Site(t.Context(), "news"); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("the cancelled write was stored: %v", err)
	}
}

func TestPruneEvents(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db, _ := open(t, func(db *sqlite.DB) {
		db.Now = clock
		db.EventMaxCount = 10
		db.PruneEvery = 5 * time.Millisecond
	})
	ctx := t.Context()
	p := seed(t, db, 8) // 17 events: the site's, two per comment
	waitEvents := func(want int) []parley.Event {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			evs, err := db.EventsSince(ctx, 0, 1000)
			if err != nil {
				t.Fatalf("EventsSince: %v", err)
			}
			if len(evs) == want || time.Now().After(deadline) {
				return evs
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	evs := waitEvents(10)
	if len(evs) != 10 || evs[0].ID != 8 || evs[9].ID != 17 {
		t.Fatalf("after pruning to 10: got %d events from %v, want ids 8 to 17", len(evs), evs)
	}
	// A week later the old ones go too, but the ids keep counting.
	mu.Lock()
	now = now.Add(8 * 24 * time.Hour)
	mu.Unlock()
	c := &parley.Comment{PageID: p.ID, AuthorID: "bob", Text: "new", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, c); err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	evs = waitEvents(2)
	if len(evs) != 2 || evs[0].ID != 18 {
		t.Errorf("after a week: got %v, want events 18 and 19 only", evs)
	}
	if last, _ := db.LastEventID(ctx); last != 19 {
		t.Errorf("LastEventID: got %d, want 19", last)
	}
}

// TestSchema checks the pragmas and the migration record on the file itself.
func TestSchema(t *testing.T) {
	db, path := open(t, nil)
	_ = db
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"PRAGMA journal_mode", "wal"},
		{"SELECT group_concat(version || ':' || name) FROM schema_migrations", "1:0001_init.sql,2:0002_moderators.sql,3:0003_author_stats.sql,4:0004_imports.sql,5:0005_consumers.sql,6:0006_site_models.sql,7:0007_sso.sql,8:0008_oidc.sql,9:0009_mail.sql,10:0010_webhooks.sql,11:0011_idempotency.sql,12:0012_ban_marks.sql,13:0013_reader_profile.sql,15:0015_reader_sessions.sql,16:0016_duplicate_index.sql,17:0017_idempotency_any_site.sql,19:0019_mail_failed.sql"},
		{"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'comments_page_number'", "1"},
	} {
		var got string
		if err := raw.QueryRow(tc.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.query, got, tc.want)
		}
	}
}

// TestAuthorStatsMigration rolls a database back to before migration 0003,
// opens it again, and checks that the migration rebuilt the per-author
// counters from the rows and that duplicates of texts stored without a hash
// are still found.
func TestAuthorStatsMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := seed(t, db, 0)
	var cs []*parley.Comment
	for i, st := range []string{parley.StatusApproved, parley.StatusApproved, parley.StatusPending, parley.StatusRejected} {
		c := &parley.Comment{PageID: p.ID, AuthorID: "bob", Text: fmt.Sprint("text ", i), Status: st,
			Created: time.Now().Add(time.Duration(i-10) * time.Second)}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if _, err := db.AddReport(ctx, &parley.Report{CommentID: cs[1].ID, ReporterID: "x", Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetStatus(ctx, cs[1].ID, parley.StatusRejected, nil, true); err != nil {
		t.Fatal(err)
	}
	want, err := db.History(ctx, "bob", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want.Approved != 1 || want.Rejected != 2 || want.Pending != 1 || want.ReportsUpheld != 1 {
		t.Fatalf("History before: got %+v", want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TABLE author_stats",
		"DROP INDEX comments_author_text",
		"ALTER TABLE comments DROP COLUMN text_hash",
		// Later migrations go too, so that 0003 is the next to apply.
		"DROP TABLE imports",
		"DROP TABLE ban_marks",
		// 0016_duplicate_index changes nothing in SQLite.
		"DROP TABLE reader_session_revocations", // 0015_reader_sessions
		"ALTER TABLE users DROP COLUMN picture", // 0013_reader_profile
		"ALTER TABLE users DROP COLUMN sessions_after",
		"ALTER TABLE users DROP COLUMN own_name",
		"DROP TABLE sso_tokens",
		"DROP TABLE site_sso",
		"DROP TABLE oidc_logins", // 0008_oidc
		"DROP TABLE site_oidc",
		"DROP TABLE site_privacy",
		"DROP TABLE site_models",
		"DROP TABLE consumers",
		"DROP TABLE idempotency_keys",
		"DROP TABLE webhook_deliveries", // 0010_webhooks
		"DROP TABLE webhooks",
		"ALTER TABLE events DROP COLUMN user_id",
		"DROP TABLE mail_queue", // 0009_mail
		"DROP TABLE mail_prefs",
		"DROP TABLE mail_tokens",
		"DELETE FROM schema_migrations WHERE version >= 3",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.History(ctx, "bob", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got.Approved != want.Approved || got.Rejected != want.Rejected || got.Pending != want.Pending ||
		got.ReportsUpheld != want.ReportsUpheld || fmt.Sprint(got.Recent) != fmt.Sprint(want.Recent) {
		t.Errorf("History after the migration: got %+v, want %+v", got, want)
	}
	a, err := db.Activity(ctx, store.ActivityQuery{AuthorID: "bob", Since: time.Now(), Text: "text 2", TextSince: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Duplicate {
		t.Errorf("a text stored before hashing is not found as a duplicate")
	}
}

// TestCloseDrains closes the database while 16 goroutines write: every write
// either succeeds and is there after reopening, or fails with EUnavailable.
func TestCloseDrains(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := seed(t, db, 0)
	var mu sync.Mutex
	acked := map[int64]bool{}
	var wg sync.WaitGroup
	started := make(chan struct{}, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				c := &parley.Comment{PageID: p.ID, AuthorID: fmt.Sprint("g", g), Text: fmt.Sprint(i), Status: parley.StatusApproved}
				err := db.CreateComment(ctx, c)
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					if code := parley.ErrorCode(err); code != parley.EUnavailable {
						t.Errorf("write during Close: got %v, want EUnavailable", err)
					}
					return
				}
				mu.Lock()
				acked[c.ID] = true
				mu.Unlock()
			}
		}()
	}
	for range 16 {
		<-started
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()

	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.PageComments(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, c := range all {
		stored[c.ID] = true
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged comment %d is missing after Close", id)
		}
	}
	if len(acked) == 0 {
		t.Errorf("no write succeeded before Close")
	}
}

// TestIDsNotValidUTF8 asks Users and ReporterRecords for an id that no JSON
// string can carry to json_each: SQLite stores it, PostgreSQL would refuse
// it (so the conformance suite cannot), and it is looked up on its own
// beside the others.
func TestIDsNotValidUTF8(t *testing.T) {
	db, _ := open(t, nil)
	p := seed(t, db, 1)
	ctx := t.Context()
	comments, err := db.PageComments(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	const odd = "r\xff"
	for _, id := range []string{odd, "plain"} {
		if err := db.CreateUser(ctx, &parley.User{ID: id, Name: "R", Role: parley.RoleReader}); err != nil {
			t.Fatalf("CreateUser(%q): %v", id, err)
		}
	}
	for _, id := range []string{odd, "plain"} {
		if _, err := db.AddReport(ctx, &parley.Report{CommentID: comments[0].ID, ReporterID: id, Reason: "spam"}); err != nil {
			t.Fatalf("AddReport by %q: %v", id, err)
		}
	}
	ask := []string{odd, "plain", "r\ufffd", "ghost", odd}
	users, err := db.Users(ctx, ask)
	if err != nil || len(users) != 2 || users[odd] == nil || users["plain"] == nil {
		t.Errorf("Users(%q): got %v, %v; want %q and plain", ask, users, err, odd)
	}
	recs, err := db.ReporterRecords(ctx, ask)
	if err != nil || len(recs) != 2 || recs[odd].Made != 1 || recs["plain"].Made != 1 {
		t.Errorf("ReporterRecords(%q): got %v, %v; want one report each by %q and plain", ask, recs, err, odd)
	}
}

// TestPruneKeepsDurableConsumers: pruning keeps the events a durable
// consumer has not consumed, however many, until the consumer has been
// silent for store.ConsumerMaxAge.
func TestPruneKeepsDurableConsumers(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db, _ := open(t, func(db *sqlite.DB) {
		db.Now = clock
		db.EventMaxCount = 10
		db.PruneEvery = 5 * time.Millisecond
	})
	ctx := t.Context()
	if err := db.SetConsumerPosition(ctx, "mail", 5); err != nil {
		t.Fatal(err)
	}
	p := seed(t, db, 8) // 17 events
	ids := func() []int64 {
		evs, err := db.EventsSince(ctx, 0, 1000)
		if err != nil {
			t.Fatalf("EventsSince: %v", err)
		}
		var out []int64
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	// Pruning runs every 5 ms: long enough for many runs.
	time.Sleep(100 * time.Millisecond)
	if got := ids(); len(got) != 12 || got[0] != 6 {
		t.Fatalf("with a consumer at 5: events %v, want 6 to 17 (the newest 10 and those the consumer has yet to read)", got)
	}
	// The consumer goes silent for longer than ConsumerMaxAge: it holds
	// nothing back any more.
	mu.Lock()
	now = now.Add(store.ConsumerMaxAge + time.Hour)
	mu.Unlock()
	c := &parley.Comment{PageID: p.ID, AuthorID: "bob", Text: "new", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, c); err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(ids()) != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := ids(); len(got) != 2 || got[0] != 18 {
		t.Errorf("after the consumer's silence: events %v, want 18 and 19 only", got)
	}
}

// TestMigrateFillsAGap: a migration numbered below the newest applied one
// but never applied (made on a branch beside it, landed after it) is
// applied at the next Open; the ones applied are not run again (0019 would
// fail if it were: its column exists).
func TestMigrateFillsAGap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TABLE reader_session_revocations", // 0015_reader_sessions, as if it never ran
		"DELETE FROM schema_migrations WHERE version = 15",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	db.Close()
	raw, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var tables, rows int
	if err := raw.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'reader_session_revocations'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow("SELECT count(*) FROM schema_migrations WHERE version = 15").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if tables != 1 || rows != 1 {
		t.Errorf("after reopening: the table %d, the row %d; want the gap filled (1 and 1)", tables, rows)
	}
}
