package postgres

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/testenv"
)

// newSchema returns the test server's DSN and the name of a new schema for
// one test, dropped with everything in it when the test ends. A schema per
// store is what makes each store of the conformance suite fresh and empty
// at the cost of a migration, not of a database.
func newSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	return testenv.PostgresSchema(t, "parley_test_")
}

// withParam adds a connection parameter to a URL or keyword/value DSN.
func withParam(dsn, key, value string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " " + key + "=" + value
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&" + key + "=" + value
	}
	return dsn + "?" + key + "=" + value
}

// openIn opens a DB on the schema, closed when the test ends.
func openIn(t testing.TB, dsn, schema string, configure func(*DB)) *DB {
	t.Helper()
	db := New(dsn)
	db.Schema = schema
	if configure != nil {
		configure(db)
	}
	if err := db.Open(context.Background()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// spare holds the schemas of finished tests, migrated and ready for reuse:
// emptying one takes a few milliseconds where migrating a new one takes a
// hundred or more. TestMain drops them all at the end.
var spare struct {
	sync.Mutex
	free []string
	all  []string
}

// open opens a DB on an empty schema: a spare one emptied, or a new one.
// Its commits do not wait for the disk (synchronous_commit=off), which
// changes nothing that the tests observe but their duration; benchmarks
// open with the server's setting.
func open(t testing.TB) *DB {
	t.Helper()
	dsn := testenv.Postgres(t)
	if _, ok := t.(*testing.T); ok {
		dsn = withParam(dsn, "synchronous_commit", "off")
	}
	spare.Lock()
	var schema string
	if n := len(spare.free); n > 0 {
		schema, spare.free = spare.free[n-1], spare.free[:n-1]
	} else {
		schema = "parley_test_" + randomHex(t)
		spare.all = append(spare.all, schema)
	}
	spare.Unlock()
	t.Cleanup(func() { // after Close, which openIn registers
		spare.Lock()
		defer spare.Unlock()
		spare.free = append(spare.free, schema)
	})
	db := openIn(t, dsn, schema, nil)
	// Every table but the migrations' is emptied, identities restarted: a
	// reused schema must look exactly like a new one, or a test would see
	// the rows (audit entries, sessions, …) of whichever test had it before.
	ctx := context.Background()
	var tables []string
	rows, err := db.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, schema)
	if err == nil {
		tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatalf("list the tables of %s: %v", schema, err)
	}
	for i, name := range tables {
		tables[i] = pgx.Identifier{schema, name}.Sanitize()
	}
	if len(tables) > 0 {
		if _, err := db.pool.Exec(ctx, `TRUNCATE `+strings.Join(tables, ", ")+` RESTART IDENTITY CASCADE`); err != nil {
			t.Fatalf("empty schema %s: %v", schema, err)
		}
	}
	return db
}

// TestMain drops the spare schemas once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if dsn := os.Getenv("PARLEY_TEST_POSTGRES"); dsn != "" && len(spare.all) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			for _, s := range spare.all {
				if _, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
					break
				}
			}
			conn.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop the test schemas: %v\n", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := cryptorand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// seed creates the site "news" and one page on db.
func seed(t testing.TB, db *DB) *parley.Page {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	p, err := db.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	if err != nil {
		t.Fatalf("EnsurePage: %v", err)
	}
	return p
}

// TestTwoInstancesNumbering has two DB handles on one database, as two Parley
// instances would be, write comments on one page at once: the numbers of the
// page are exactly 1…n, each writer sees its own increase, and the count
// agrees.
func TestTwoInstancesNumbering(t *testing.T) {
	dsn, schema := newSchema(t)
	a := openIn(t, dsn, schema, nil)
	b := openIn(t, dsn, schema, nil)
	page := seed(t, a)
	const writers, each = 16, 25
	got := make([][]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		db := a
		if w%2 == 1 {
			db = b
		}
		wg.Go(func() {
			for i := range each {
				c := &parley.Comment{PageID: page.ID, AuthorID: fmt.Sprintf("w%d", w), Text: fmt.Sprintf("%d/%d", w, i),
					Status: parley.StatusApproved}
				if err := db.CreateComment(t.Context(), c); err != nil {
					t.Errorf("writer %d: CreateComment: %v", w, err)
					return
				}
				got[w] = append(got[w], c.Number)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var all []int
	for w, ns := range got {
		if !slices.IsSorted(ns) {
			t.Errorf("writer %d: numbers %v, want increasing", w, ns)
		}
		all = append(all, ns...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != i+1 {
			t.Fatalf("numbers of the page: got %d at position %d, want exactly 1…%d", n, i, writers*each)
		}
	}
	for _, db := range []*DB{a, b} {
		p, err := db.PageByID(t.Context(), page.ID)
		if err != nil {
			t.Fatalf("PageByID: %v", err)
		}
		if p.Count != writers*each {
			t.Errorf("count: got %d, want %d", p.Count, writers*each)
		}
	}
}

// TestEventsCommitOrder proves that a reader tailing the log never skips an
// event. Writers on two handles hold each transaction open for a random
// while after writing its events, so that, were ids allocated outside the
// lock, transactions would commit out of id order and the tailer would move
// past ids that become visible later.
func TestEventsCommitOrder(t *testing.T) {
	dsn, schema := newSchema(t)
	slow := func(db *DB) {
		db.holdEvents = func() time.Duration { return time.Duration(rand.IntN(3000)) * time.Microsecond }
	}
	a := openIn(t, dsn, schema, slow)
	b := openIn(t, dsn, schema, slow)
	page := seed(t, a)

	var seen []int64
	stop := make(chan struct{})
	tailed := make(chan error, 1)
	go func() {
		var last int64
		tail := func() error {
			evs, err := b.EventsSince(context.Background(), last, 1000)
			if err != nil {
				return err
			}
			for _, e := range evs {
				seen = append(seen, e.ID)
				last = e.ID
			}
			return nil
		}
		for {
			select {
			case <-stop:
				tailed <- tail() // everything is committed: read the rest
				return
			default:
			}
			if err := tail(); err != nil {
				tailed <- err
				return
			}
		}
	}()

	// A page per writer: writers on one page take turns on its row lock
	// and would commit in order anyway.
	const writers, each = 8, 20
	var wg sync.WaitGroup
	for w := range writers {
		db := a
		if w%2 == 1 {
			db = b
		}
		p, err := db.EnsurePage(t.Context(), page.SiteID, fmt.Sprintf("https://news.example.com/w%d", w), "")
		if err != nil {
			t.Fatalf("EnsurePage: %v", err)
		}
		wg.Go(func() {
			for i := range each {
				c := &parley.Comment{PageID: p.ID, AuthorID: "w", Text: fmt.Sprint(w, i), Status: parley.StatusApproved}
				if err := db.CreateComment(t.Context(), c); err != nil {
					t.Errorf("CreateComment: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-tailed; err != nil {
		t.Fatalf("tailing: %v", err)
	}
	all, err := a.EventsSince(t.Context(), 0, 100_000)
	if err != nil {
		t.Fatalf("EventsSince: %v", err)
	}
	if want := 1 + writers*each*2; len(all) != want { // the site's, two per comment
		t.Fatalf("got %d events in the log, want %d", len(all), want)
	}
	want := make([]int64, len(all))
	for i, e := range all {
		want[i] = e.ID
	}
	if !slices.Equal(seen, want) {
		missed := 0
		for _, id := range want {
			if !slices.Contains(seen, id) {
				missed++
			}
		}
		t.Errorf("the tailer read %d events and missed %d of the %d committed", len(seen), missed, len(want))
	}
}

// TestListen checks that a write on one handle wakes the listener of
// another, and that the listener comes back after its connection is killed.
func TestListen(t *testing.T) {
	dsn, schema := newSchema(t)
	app := "parley_listen_" + schema
	a := openIn(t, dsn, schema, nil)
	b := openIn(t, withParam(dsn, "application_name", app), schema, nil)
	page := seed(t, a)

	calls := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Listen(ctx, func() { calls <- struct{}{} })
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Listen did not return after its context was cancelled")
		}
	}()
	wait := func(what string) {
		t.Helper()
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no notification within 5 s", what)
		}
	}
	drain := func() {
		for {
			select {
			case <-calls:
			default:
				return
			}
		}
	}
	write := func() {
		t.Helper()
		c := &parley.Comment{PageID: page.ID, AuthorID: "alice", Text: "hello", Status: parley.StatusApproved}
		if err := a.CreateComment(t.Context(), c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
	}

	wait("connected")
	drain()
	write()
	wait("a write on the other handle")

	// Kill the listening connection; Listen reconnects, says so once, and
	// relays the next write.
	admin, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(context.Background())
	var killed int
	if err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND query = 'LISTEN `+Channel+`'`, app).Scan(&killed); err != nil {
		t.Fatalf("terminate the listener: %v", err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening connections, want 1", killed)
	}
	wait("reconnected")
	drain()
	write()
	wait("a write after the reconnection")
}

// TestMigrateConcurrently starts several instances on a new schema at once:
// each migration is applied exactly once and every instance opens.
func TestMigrateConcurrently(t *testing.T) {
	dsn, schema := newSchema(t)
	const n = 4
	var wg sync.WaitGroup
	dbs := make([]*DB, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			db := New(dsn)
			db.Schema = schema
			errs[i] = db.Open(t.Context())
			dbs[i] = db
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("instance %d: Open: %v", i, errs[i])
			continue
		}
		defer dbs[i].Close()
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	var rows, versions int
	if err := dbs[0].pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).
		Scan(&rows, &versions); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows != len(ms) || versions != len(ms) {
		t.Errorf("schema_migrations: got %d rows of %d versions, want %d of each", rows, versions, len(ms))
	}
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on the loopback refuses connections at once.
	_, err := Open(ctx, "postgres://parley@127.0.0.1:1/parley?sslmode=disable&connect_timeout=2")
	if code := parley.ErrorCode(err); code != parley.EUnavailable {
		t.Errorf("Open of an unreachable server: got %v (code %q), want %q", err, code, parley.EUnavailable)
	}
	_, err = Open(ctx, "postgres://%zz")
	if code := parley.ErrorCode(err); code != parley.EInvalid {
		t.Errorf("Open of a malformed DSN: got %v (code %q), want %q", err, code, parley.EInvalid)
	}
}

func TestClassify(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "whatever"})
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"unique violation", pg("23505"), parley.EConflict},
		{"foreign key violation", pg("23503"), parley.ENotFound},
		{"check violation", pg("23514"), parley.EInvalid},
		{"NUL byte in text", pg("22021"), parley.EInvalid},
		{"too many connections", pg("53300"), parley.EUnavailable},
		{"server shutting down", pg("57P01"), parley.EUnavailable},
		{"connection failure", pg("08006"), parley.EUnavailable},
		{"read-only standby", pg("25006"), parley.EUnavailable},
		{"syntax error is a bug", pg("42601"), ""},
		{"deadlock is internal", pg("40P01"), ""},
		{"a plain error", errors.New("boom"), ""},
		{"connect error", &pgconn.ConnectError{}, parley.EUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify: got %q, want %q", got, tc.want)
			}
		})
	}
	if !retryable(pg("40P01")) || !retryable(pg("40001")) || retryable(pg("23505")) {
		t.Error("retryable: want deadlocks and serialization failures only")
	}
}

// TestInvalidText checks that text PostgreSQL cannot store is refused as
// invalid input, not reported as an internal error.
func TestInvalidText(t *testing.T) {
	db := open(t)
	page := seed(t, db)
	c := &parley.Comment{PageID: page.ID, AuthorID: "alice", Text: "a\x00b", Status: parley.StatusApproved}
	if code := parley.ErrorCode(db.CreateComment(t.Context(), c)); code != parley.EInvalid {
		t.Errorf("CreateComment with a NUL byte: got code %q, want %q", code, parley.EInvalid)
	}
	if p, err := db.PageByID(t.Context(), page.ID); err != nil || p.Count != 0 {
		t.Errorf("after the refusal: got page %+v, %v; want count 0", p, err)
	}
}

// TestConcurrentStatusChanges flips one comment's status from many
// goroutines on two handles: the page count always ends equal to the
// number of approved comments.
func TestConcurrentStatusChanges(t *testing.T) {
	dsn, schema := newSchema(t)
	a := openIn(t, dsn, schema, nil)
	b := openIn(t, dsn, schema, nil)
	page := seed(t, a)
	var cs []*parley.Comment
	for range 3 {
		c := &parley.Comment{PageID: page.ID, AuthorID: "alice", Text: "x", Status: parley.StatusApproved}
		if err := a.CreateComment(t.Context(), c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
		cs = append(cs, c)
	}
	statuses := []string{parley.StatusApproved, parley.StatusPending, parley.StatusRejected, parley.StatusDeleted}
	var wg sync.WaitGroup
	var ops atomic.Int64
	for g := range 12 {
		db := a
		if g%2 == 1 {
			db = b
		}
		wg.Go(func() {
			for i := range 20 {
				c := cs[(g+i)%len(cs)]
				if _, err := db.SetStatus(t.Context(), c.ID, statuses[(g*7+i)%len(statuses)], nil, i%2 == 0); err != nil {
					t.Errorf("SetStatus: %v", err)
					return
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	approved := 0
	for _, c := range cs {
		got, err := a.Comment(t.Context(), c.ID)
		if err != nil {
			t.Fatalf("Comment: %v", err)
		}
		if got.Status == parley.StatusApproved {
			approved++
		}
	}
	p, err := a.PageByID(t.Context(), page.ID)
	if err != nil {
		t.Fatalf("PageByID: %v", err)
	}
	if p.Count != approved {
		t.Errorf("after %d concurrent status changes: count %d, want %d approved", ops.Load(), p.Count, approved)
	}
}

func TestPrune(t *testing.T) {
	db := open(t)
	page := seed(t, db)
	for range 10 { // 20 events, after the site's
		c := &parley.Comment{PageID: page.ID, AuthorID: "alice", Text: "x", Status: parley.StatusApproved}
		if err := db.CreateComment(t.Context(), c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
	}
	last, err := db.LastEventID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		maxAge   time.Duration
		maxCount int64
		left     int
	}{
		{"nothing to prune", time.Hour, 100, 21},
		{"beyond the newest 5", time.Hour, 5, 5},
		{"all too old: the newest stays", time.Nanosecond, 100, 1},
	} {
		db.EventMaxAge, db.EventMaxCount = tc.maxAge, tc.maxCount
		if tc.maxAge == time.Nanosecond {
			time.Sleep(time.Millisecond)
		}
		if _, err := db.prune(t.Context()); err != nil {
			t.Fatalf("%s: prune: %v", tc.name, err)
		}
		evs, err := db.EventsSince(t.Context(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != tc.left || evs[len(evs)-1].ID != last {
			t.Errorf("%s: got %d events, the newest %d; want %d, the newest %d", tc.name, len(evs), evs[len(evs)-1].ID, tc.left, last)
		}
		if got, err := db.LastEventID(t.Context()); err != nil || got != last {
			t.Errorf("%s: LastEventID: got %d, %v; want %d", tc.name, got, err, last)
		}
	}
}

// TestCreateCommentOnMissingPage runs CreateComment's one statement on a
// page that does not exist, as if it had gone since the service read it, in
// a unit that recorded an event before: ENotFound, and neither the comment
// nor the event, nor the author's count is committed.
func TestCreateCommentOnMissingPage(t *testing.T) {
	db := open(t)
	seed(t, db)
	before, err := db.LastEventID(t.Context()) // the site's event
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.Record(parley.Event{Type: parley.EventQueueChanged, SiteID: "news"}); err != nil {
			return err
		}
		return tx.CreateComment(&parley.Comment{PageID: 999_999, AuthorID: "alice", AuthorName: "Alice",
			Text: "text", HTML: "<p>text</p>", Status: parley.StatusApproved})
	})
	if parley.ErrorCode(err) != parley.ENotFound {
		t.Fatalf("a comment on a missing page: got %v, want ENotFound", err)
	}
	if last, err := db.LastEventID(t.Context()); err != nil || last != before {
		t.Errorf("after the failed unit: LastEventID %d, %v; want %d, no event committed", last, err, before)
	}
	if h, err := db.History(t.Context(), "alice", 10); err != nil || h.Approved != 0 {
		t.Errorf("after the failed batch: History(alice) %+v, %v; want nothing counted", h, err)
	}
}

// TestPruneKeepsDurableConsumers: pruning keeps the events a durable
// consumer has not consumed, however many, until the consumer has been
// silent for store.ConsumerMaxAge.
func TestPruneKeepsDurableConsumers(t *testing.T) {
	db := open(t)
	page := seed(t, db)
	for range 10 { // 20 events, after the site's
		c := &parley.Comment{PageID: page.ID, AuthorID: "alice", Text: "x", Status: parley.StatusApproved}
		if err := db.CreateComment(t.Context(), c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
	}
	last, err := db.LastEventID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetConsumerPosition(t.Context(), "mail", last-4); err != nil {
		t.Fatal(err)
	}
	left := func(what string, want int) {
		t.Helper()
		if _, err := db.prune(t.Context()); err != nil {
			t.Fatalf("%s: prune: %v", what, err)
		}
		evs, err := db.EventsSince(t.Context(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want || evs[len(evs)-1].ID != last {
			t.Errorf("%s: %d events left, want %d up to %d", what, len(evs), want, last)
		}
	}
	db.EventMaxAge, db.EventMaxCount = time.Hour, 1
	left("a consumer 4 events behind", 4)
	if _, err := db.pool.Exec(t.Context(), `UPDATE consumers SET updated = now() - $1::interval`, store.ConsumerMaxAge+time.Hour); err != nil {
		t.Fatal(err)
	}
	left("the consumer silent too long", 1)
}
