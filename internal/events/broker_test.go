package events_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// setup returns a real store with a site, two pages and a reader, and a
// running broker on it with the handlers.
func setup(t *testing.T, hs ...events.Handler) (*sqlite.DB, *events.Broker, [2]*parley.Page) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	var pages [2]*parley.Page
	for i, u := range []string{"https://n.example/a", "https://n.example/b"} {
		if pages[i], err = db.EnsurePage(ctx, "news", u, ""); err != nil {
			t.Fatal(err)
		}
	}
	db.CreateUser(ctx, &parley.User{ID: "u", Name: "U", Role: parley.RoleReader, Created: time.Now()})
	// One event before the broker starts, so LastID tells when it has read
	// the head of the log (events up to the head are history, not news).
	post(t, db, pages[1])
	b := events.New(db)
	b.Poll = 20 * time.Millisecond
	for _, h := range hs {
		b.Handle(h)
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(bctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(2 * time.Second)
	for b.LastID() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the broker never read the log")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return db, b, pages
}

func post(t *testing.T, db *sqlite.DB, page *parley.Page) int64 {
	t.Helper()
	c := &parley.Comment{PageID: page.ID, AuthorID: "u", AuthorName: "U", Text: "t", HTML: "<p>t</p>", Status: parley.StatusApproved}
	if err := db.CreateComment(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestFanOutByPageAndSite(t *testing.T) {
	var seen []parley.Event
	var mu sync.Mutex
	db, b, pages := setup(t, events.HandlerFunc(func(ev parley.Event) { mu.Lock(); seen = append(seen, ev); mu.Unlock() }))
	a := b.SubscribePage("news", pages[0].ID, 16)
	other := b.SubscribePage("news", pages[1].ID, 16)
	site := b.SubscribeSite("news", 16)
	if n := b.Subscribers(); n != 3 {
		t.Fatalf("Subscribers = %d, want 3", n)
	}

	id := post(t, db, pages[0])
	b.Notify()
	for _, want := range []string{parley.EventCommentCreated, parley.EventPageCount} {
		select {
		case ev := <-a.C:
			if ev.Type != want || ev.PageID != pages[0].ID {
				t.Fatalf("page subscriber got %+v, want %s", ev, want)
			}
			if ev.Type == parley.EventCommentCreated && ev.CommentID != id {
				t.Fatalf("event for comment %d, want %d", ev.CommentID, id)
			}
			if ev.Type == parley.EventPageCount && ev.PageCount != 1 {
				t.Fatalf("page count %d, want 1 (read once by the broker)", ev.PageCount)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no %s event for the page's subscriber", want)
		}
		select {
		case ev := <-site.C:
			if ev.Type != want {
				t.Fatalf("site subscriber got %s, want %s", ev.Type, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no %s event for the site's subscriber", want)
		}
	}
	select {
	case ev := <-other.C:
		t.Fatalf("the other page's subscriber got %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	mu.Lock()
	if len(seen) != 2 {
		t.Errorf("the handler saw %d events, want 2", len(seen))
	}
	mu.Unlock()
	b.Unsubscribe(a)
	b.Unsubscribe(a) // twice is fine
	if _, ok := <-a.C; ok {
		t.Error("an ended subscription's channel must be closed")
	}
}

// A site's settings decide whether all its pages are open, so its
// site.updated (which has no page) reaches the subscribers of each of its
// pages as well as its own, and no one on another site.
func TestSiteEventReachesItsPages(t *testing.T) {
	db, b, pages := setup(t)
	ctx := context.Background()
	if err := db.CreateSite(ctx, &parley.Site{ID: "sport", Name: "Sport"}); err != nil {
		t.Fatal(err)
	}
	match, err := db.EnsurePage(ctx, "sport", "https://s.example/match", "")
	if err != nil {
		t.Fatal(err)
	}
	subs := map[string]*events.Sub{
		"page a":  b.SubscribePage("news", pages[0].ID, 4),
		"page b":  b.SubscribePage("news", pages[1].ID, 4),
		"site":    b.SubscribeSite("news", 4),
		"gone":    b.SubscribePage("news", pages[0].ID, 4),
		"other":   b.SubscribePage("sport", match.ID, 4),
		"other's": b.SubscribeSite("sport", 4),
	}
	b.Unsubscribe(subs["gone"])
	delete(subs, "gone")

	site, err := db.Site(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	site.Name = "News, closed"
	if err := db.UpdateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	b.Notify()
	for _, name := range []string{"page a", "page b", "site"} {
		select {
		case ev := <-subs[name].C:
			if ev.Type != parley.EventSiteUpdated || ev.SiteID != "news" || ev.PageID != 0 {
				t.Errorf("%s's subscriber got %+v, want news's site.updated", name, ev.Event)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("no site.updated for %s's subscriber", name)
		}
	}
	// A later event of the other site is the first it gets: the news
	// event, delivered before it, never reached it.
	post(t, db, match)
	b.Notify()
	for _, name := range []string{"other", "other's"} {
		select {
		case ev := <-subs[name].C:
			if ev.SiteID != "sport" {
				t.Errorf("%s subscriber got %+v, an event of another site", name, ev.Event)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("no event for the %s subscriber", name)
		}
	}
	if n := b.Subscribers(); n != 5 {
		t.Errorf("Subscribers = %d, want 5", n)
	}
	for _, s := range subs {
		b.Unsubscribe(s)
	}
	if n := b.Subscribers(); n != 0 {
		t.Errorf("Subscribers = %d after every one ended, want 0", n)
	}
}

// A subscriber that cannot keep up is dropped, not allowed to stall others.
func TestSlowSubscriberIsDropped(t *testing.T) {
	db, b, pages := setup(t)
	slow := b.SubscribePage("news", pages[0].ID, 1)
	fast := b.SubscribePage("news", pages[0].ID, 64)
	for i := 0; i < 5; i++ {
		post(t, db, pages[0])
	}
	b.Notify()
	got := 0
	timeout := time.After(3 * time.Second)
	for got < 10 {
		select {
		case <-fast.C:
			got++
		case <-timeout:
			t.Fatalf("fast subscriber got %d of 10 events", got)
		}
	}
	// The slow one holds at most its buffer, then its channel is closed.
	n := 0
	for range slow.C {
		n++
	}
	if n > 1 {
		t.Errorf("slow subscriber received %d events with a buffer of 1", n)
	}
	if b.Subscribers() != 1 {
		t.Errorf("Subscribers = %d after dropping the slow one, want 1", b.Subscribers())
	}
}

// Stopping the broker closes every subscription, so streams end.
func TestRunStopClosesSubscriptions(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := events.New(db)
	s := b.SubscribeSite("news", 4)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(rctx); close(done) }()
	cancel()
	<-done
	if _, ok := <-s.C; ok {
		t.Fatal("subscription still open after the broker stopped")
	}
	if late := b.SubscribePage("news", 1, 4); late != nil {
		if _, ok := <-late.C; ok {
			t.Fatal("a subscription after stop must come closed")
		}
	}
}

// TestBeginFixesTheStart: an event recorded after Begin and before Run gets
// going is delivered. Without Begin, Run starts from wherever the log ends
// when its goroutine reads it, which under load can be after a change the
// instance then never hears of (seen as a stale closed flag on a second
// instance).
func TestBeginFixesTheStart(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	page, err := db.EnsurePage(ctx, "news", "https://n.example/a", "")
	if err != nil {
		t.Fatal(err)
	}
	db.CreateUser(ctx, &parley.User{ID: "u", Name: "U", Role: parley.RoleReader, Created: time.Now()})
	b := events.New(db)
	b.Poll = 20 * time.Millisecond
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	start := b.LastID()
	id := post(t, db, page) // after Begin, before Run
	got := make(chan parley.Event, 16)
	b.Handle(events.HandlerFunc(func(ev parley.Event) { got <- ev }))
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(bctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case ev := <-got:
		if ev.Type != parley.EventCommentCreated || ev.CommentID != id || ev.ID <= start {
			t.Fatalf("first event %+v, want comment.created of %d after %d", ev, id, start)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the comment posted between Begin and Run was never delivered")
	}
}

// TestDurableConsumer: a durable consumer gets every event after its stored
// position in order, again after a failure (at least once), and a broker
// started anew on the same store, as after a restart, resumes where the
// last one stored the position: nothing lost, nothing twice.
func TestDurableConsumer(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	page, err := db.EnsurePage(ctx, "news", "https://n.example/a", "")
	if err != nil {
		t.Fatal(err)
	}
	db.CreateUser(ctx, &parley.User{ID: "u", Name: "U", Role: parley.RoleReader, Created: time.Now()})

	var mu sync.Mutex
	var got []int64
	failOnce := true
	consume := func(_ context.Context, evs []parley.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if failOnce {
			failOnce = false
			return fmt.Errorf("the mail server is down")
		}
		for _, e := range evs {
			got = append(got, e.ID)
		}
		return nil
	}
	run := func() (stop func()) {
		b := events.New(db)
		b.Poll = 10 * time.Millisecond
		b.Durable("mail", consume)
		if err := b.Begin(ctx); err != nil {
			t.Fatal(err)
		}
		bctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { b.Run(bctx); close(done) }()
		return func() { cancel(); <-done }
	}
	waitFor := func(want int) []int64 {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= want || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // room for a duplicate to show
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}

	stop := run()
	// Wait until the consumer has stored its first position (the log's
	// end when it was new), or the comments below would come before it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := db.ConsumerPosition(ctx, "mail"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	start, _ := db.LastEventID(ctx)
	for range 3 {
		post(t, db, page)
	}
	first := waitFor(6)
	stop()
	for range 2 { // while no broker runs: the "restart"
		post(t, db, page)
	}
	stop = run()
	all := waitFor(10)
	// The position is stored at most once a second while the consumer
	// keeps up, and when the broker stops.
	stop()
	want := make([]int64, 0, 10)
	for id := start + 1; id <= start+10; id++ {
		want = append(want, id)
	}
	if len(first) != 6 || !slices.Equal(all, want) {
		t.Errorf("consumed %v before the restart and %v in all, want the 6 first then %v, each once, in order", first, all, want)
	}
	if pos, err := db.ConsumerPosition(ctx, "mail"); err != nil || pos != start+10 {
		t.Errorf("stored position %d (%v), want %d", pos, err, start+10)
	}
}

// TestWait: Wait returns once the broker has delivered the id asked for,
// and at once for one already delivered.
func TestWait(t *testing.T) {
	var mu sync.Mutex
	seen := map[int64]bool{}
	db, b, pages := setup(t, events.HandlerFunc(func(ev parley.Event) { mu.Lock(); seen[ev.ID] = true; mu.Unlock() }))
	post(t, db, pages[0])
	last, err := db.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Wait(ctx, last); err != nil {
		t.Fatalf("Wait(%d): %v", last, err)
	}
	mu.Lock()
	delivered := seen[last]
	mu.Unlock()
	if !delivered {
		t.Errorf("Wait(%d) returned before the handler saw it", last)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := b.Wait(short, last+1000); err == nil {
		t.Error("Wait for an event nobody wrote returned nil")
	}
}

// countingLog is the real store, counting the page reads the broker makes.
type countingLog struct {
	*sqlite.DB
	mu                  sync.Mutex
	pageReads, logReads int
}

func (l *countingLog) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	l.mu.Lock()
	l.logReads++
	l.mu.Unlock()
	return l.DB.EventsSince(ctx, after, limit)
}

func (l *countingLog) PageByID(ctx context.Context, id int64) (*parley.Page, error) {
	l.mu.Lock()
	l.pageReads++
	l.mu.Unlock()
	return l.DB.PageByID(ctx, id)
}

func (l *countingLog) reads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pageReads
}

// TestPageCountReadOnlyWhenListened: a page.count event costs the broker a
// read of the page only when the page or its site has a subscriber, and then
// one read per chunk of events.
func TestPageCountReadOnlyWhenListened(t *testing.T) {
	db, _, pages := setup(t)
	log := &countingLog{DB: db}
	b := events.New(log)
	b.Poll = time.Hour // delivery only when asked
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(through int64) {
		t.Helper()
		wctx, stop := context.WithTimeout(ctx, 5*time.Second)
		defer stop()
		if err := b.Wait(wctx, through); err != nil {
			t.Fatal(err)
		}
	}
	last := func() int64 {
		t.Helper()
		id, err := db.LastEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	other := b.SubscribePage("news", pages[1].ID, 16) // another page's reader
	for range 3 {
		post(t, db, pages[0])
		wait(last())
	}
	sub := b.SubscribePage("news", pages[0].ID, 16)
	post(t, db, pages[0])
	wait(last())
	for _, want := range []string{parley.EventCommentCreated, parley.EventPageCount} {
		select {
		case ev := <-sub.C:
			if ev.Type != want {
				t.Fatalf("got %s, want %s", ev.Type, want)
			}
			if ev.Type == parley.EventPageCount && ev.PageCount != 4 {
				t.Errorf("page count %d, want 4", ev.PageCount)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", want)
		}
	}
	if n := log.reads(); n != 1 {
		t.Errorf("the broker read the page %d times, want once: for the post its subscriber hears of", n)
	}
	select {
	case ev := <-other.C:
		t.Errorf("the other page's reader got %+v", ev)
	default:
	}
}

// TestWaitDeliversItself: a writer waiting for its events while the broker's
// goroutine is not delivering reads the log and hands the events to the
// handlers and subscribers itself, in order, instead of waiting for that
// goroutine to wake up (here it never runs).
func TestWaitDeliversItself(t *testing.T) {
	db, _, pages := setup(t)
	var mu sync.Mutex
	var seen []string
	b := events.New(db)
	b.Poll = time.Hour
	b.Handle(events.HandlerFunc(func(ev parley.Event) { mu.Lock(); seen = append(seen, ev.Type); mu.Unlock() }))
	ctx := t.Context()
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	sub := b.SubscribePage("news", pages[0].ID, 16)
	post(t, db, pages[0])
	last, err := db.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.Wait(wctx, last); err != nil {
		t.Fatalf("Wait with no broker goroutine: %v", err)
	}
	mu.Lock()
	got := slices.Clone(seen)
	mu.Unlock()
	if want := []string{parley.EventCommentCreated, parley.EventPageCount}; !slices.Equal(got, want) {
		t.Errorf("handlers saw %v, want %v", got, want)
	}
	for _, want := range []string{parley.EventCommentCreated, parley.EventPageCount} {
		select {
		case ev := <-sub.C:
			if ev.Type != want {
				t.Errorf("subscriber got %s, want %s", ev.Type, want)
			}
		default:
			t.Fatalf("the subscriber has no %s event once Wait returned", want)
		}
	}
}

// TestWaitReadsTheLogOnce: with the broker running, a writer that waits for
// its events costs one read of the log, not a second, empty one by the
// broker's goroutine nudged after the events were delivered.
func TestWaitReadsTheLogOnce(t *testing.T) {
	db, _, pages := setup(t)
	log := &countingLog{DB: db}
	b := events.New(log)
	b.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	const posts = 5
	for range posts {
		post(t, db, pages[0])
		last, err := db.LastEventID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithTimeout(ctx, 5*time.Second)
		err = b.Wait(wctx, last)
		stop()
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // time for a nudged broker to read
	log.mu.Lock()
	n := log.logReads
	log.mu.Unlock()
	if n != posts {
		t.Errorf("%d reads of the log for %d waits, want one each", n, posts)
	}
}

// readCounter is a real store that counts the broker's reads of the log.
type readCounter struct {
	*sqlite.DB
	mu    sync.Mutex
	reads int
}

func (r *readCounter) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	r.mu.Lock()
	r.reads++
	r.mu.Unlock()
	return r.DB.EventsSince(ctx, after, limit)
}

func (r *readCounter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// TestNotifyThroughSkipsDeliveredEvents checks that a notification of
// events the broker has delivered already (a PostgreSQL NOTIFY of this
// instance's own write, after the writer's Wait) does not read the log,
// while one of newer events, or one that names none, does.
func TestNotifyThroughSkipsDeliveredEvents(t *testing.T) {
	db, _, pages := setup(t)
	log := &readCounter{DB: db}
	b := events.New(log)
	b.Poll = time.Hour // no reads but the nudged ones
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wait := func(id int64) {
		t.Helper()
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Wait(wctx, id); err != nil {
			t.Fatalf("Wait(%d): %v", id, err)
		}
	}
	settle := func() { time.Sleep(50 * time.Millisecond) }
	post(t, db, pages[0])
	first, _ := db.LastEventID(context.Background())
	wait(first)
	settle()
	for _, tc := range []struct {
		name   string
		notify func()
		more   bool // whether the log is read again
	}{
		{"the newest delivered event", func() { b.NotifyThrough(first) }, false},
		{"an older one", func() { b.NotifyThrough(first - 1) }, false},
		{"Wait for a delivered event", func() { wait(first) }, false},
		{"an unknown position", func() { b.NotifyThrough(0) }, true},
		{"Notify", b.Notify, true},
		{"a newer event", func() { post(t, db, pages[1]); id, _ := db.LastEventID(context.Background()); b.NotifyThrough(id) }, true},
	} {
		before := log.count()
		tc.notify()
		settle()
		if got := log.count() > before; got != tc.more {
			t.Errorf("%s: read the log again = %v, want %v", tc.name, got, tc.more)
		}
	}
	last, _ := db.LastEventID(context.Background())
	if b.LastID() != last {
		t.Errorf("LastID %d after the notifications, want %d", b.LastID(), last)
	}
}

// positionLog counts the reads of the log and the stores of positions.
type positionLog struct {
	*sqlite.DB
	mu             sync.Mutex
	reads, storeds int
}

func (l *positionLog) EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error) {
	l.mu.Lock()
	l.reads++
	l.mu.Unlock()
	return l.DB.EventsSince(ctx, after, limit)
}

func (l *positionLog) SetConsumerPosition(ctx context.Context, name string, pos int64) error {
	l.mu.Lock()
	l.storeds++
	l.mu.Unlock()
	return l.DB.SetConsumerPosition(ctx, name, pos)
}

func (l *positionLog) counts() (reads, storeds int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads, l.storeds
}

// TestDurableConsumersKeepUpFromMemory posts comments one at a time, each
// writer waiting for its event as the service does, with two durable
// consumers: they get every event once, in order, from what the broker
// delivered (the log is read once per comment, by the writer, not once
// more per consumer), and their positions are not stored per batch but
// when the broker stops.
func TestDurableConsumersKeepUpFromMemory(t *testing.T) {
	ctx := context.Background()
	db, _, pages := setup(t)
	log := &positionLog{DB: db}
	b := events.New(log)
	b.Poll = time.Hour // no ticks: only what the writers announce
	var mu sync.Mutex
	got := map[string][]int64{}
	for _, name := range []string{"mail", "webhooks"} {
		b.Durable(name, func(_ context.Context, evs []parley.Event) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range evs {
				got[name] = append(got[name], e.ID)
			}
			return nil
		})
	}
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	start, _ := db.LastEventID(ctx)
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(bctx); close(done) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, s := log.counts()
		if s == 2 || time.Now().After(deadline) {
			break // both consumers stored their first position
		}
	}
	reads0, _ := log.counts()
	const n = 40
	var last int64
	for range n {
		post(t, db, pages[0])
		last, _ = db.LastEventID(ctx)
		if err := b.Wait(ctx, last); err != nil {
			t.Fatal(err)
		}
		// Each consumer has its event before the next comment.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			ok := len(got["mail"]) > 0 && got["mail"][len(got["mail"])-1] == last &&
				len(got["webhooks"]) > 0 && got["webhooks"][len(got["webhooks"])-1] == last
			mu.Unlock()
			if ok || time.Now().After(deadline) {
				break
			}
		}
	}
	reads, storeds := log.counts()
	cancel()
	<-done
	want := make([]int64, 0, last-start)
	for id := start + 1; id <= last; id++ {
		want = append(want, id)
	}
	for _, name := range []string{"mail", "webhooks"} {
		if !slices.Equal(got[name], want) {
			t.Errorf("%s consumed %v, want %v", name, got[name], want)
		}
		if pos, err := db.ConsumerPosition(ctx, name); err != nil || pos != last {
			t.Errorf("%s stored position %d (%v) after the stop, want %d", name, pos, err, last)
		}
	}
	if r := reads - reads0; r > n+n/4 {
		t.Errorf("%d reads of the log for %d comments and two consumers, want about one per comment", r, n)
	}
	if storeds > 2+2*2 {
		t.Errorf("%d positions stored while consuming %d events, want the first two and at most one a second each", storeds, n)
	}
}
