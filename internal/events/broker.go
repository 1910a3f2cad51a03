// Package events is the dispatcher of the outbox. Every store records its
// events in the same transaction as the change they describe, so the event
// log is the outbox of every effect that must follow a commit; the Broker
// tails it and delivers each event, in id order, to this instance's
// handlers (the read path's caches), to the live subscribers of its page or
// site, and to durable consumers (e-mail, webhooks), which resume from a
// position stored in the database and so survive restarts. A
// site.updated event, which has no page, also goes to the subscribers of
// every page of its site, so that readers learn the site was closed or
// reopened. Tailing the shared log is what makes several Parley instances
// agree: a write on one instance reaches streams on all of them, and a
// stream that reconnects with Last-Event-ID resumes from the log without a
// gap.
package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Log is the part of the store the broker reads, and where durable
// consumers keep their positions.
type Log interface {
	EventsSince(ctx context.Context, after int64, limit int) ([]parley.Event, error)
	LastEventID(ctx context.Context) (int64, error)
	PageByID(ctx context.Context, id int64) (*parley.Page, error)
	ConsumerPosition(ctx context.Context, name string) (int64, error)
	SetConsumerPosition(ctx context.Context, name string, pos int64) error
}

// Handler is a consumer of this instance's: the broker calls it once per
// event, in id order, before the subscribers get the event and before Wait
// returns for it, from one goroutine at a time (the broker's, or that of a
// writer delivering in Wait). It keeps in-memory state (caches) in step with the log,
// so it needs no stored position: a restarted process starts with empty
// caches. It must return quickly.
type Handler interface {
	HandleEvent(ev parley.Event)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ev parley.Event)

// HandleEvent calls f(ev).
func (f HandlerFunc) HandleEvent(ev parley.Event) { f(ev) }

// Consume is a durable consumer: it gets the events after its stored
// position, in id order, in batches. When it returns nil its position moves
// past the batch and is stored; when it fails the batch comes again (after
// a pause), so delivery is at least once, and exactly once to a consumer
// that records, with its own effects, the ids it has handled.
type Consume func(ctx context.Context, evs []parley.Event) error

// Enriched is an event with what every subscriber of its page needs, read
// once per event rather than once per subscriber.
type Enriched struct {
	parley.Event
	PageCount int // for EventPageCount: the page's approved count
}

// Broker tails the event log and fans events out to subscribers. Create it
// with New, call Begin, start Run in a goroutine, and cancel Run's context
// to stop it.
type Broker struct {
	log Log

	// Optional, set before Run.
	Poll   time.Duration // how often to look for events nobody announced; default 1s
	Logger *slog.Logger

	nudge    chan struct{}
	handlers []Handler
	// draining is held by whoever reads the log and delivers: Run, or a
	// writer in Wait (see there), one at a time, so that delivery stays in
	// log order.
	draining sync.Mutex
	durables []*durable

	mu      sync.Mutex
	last    int64 // the newest event delivered to the subscribers
	handled int64 // the newest event handed to the handlers (Wait)
	// advanced is closed, and replaced, whenever handled moves: Wait's
	// callers wait on it, all at once.
	advanced chan struct{}
	started  bool // last was read from the log (Begin)
	// announced is the newest event id a writer or a notification said
	// is in the log (NotifyThrough, Wait), and anyway says that someone
	// asked for a read of the log without saying up to where (Notify): a
	// nudge for events already delivered reads nothing and is skipped.
	announced int64
	anyway    bool
	pages     map[int64]map[*Sub]struct{}
	sites     map[string]map[*Sub]struct{}
	// sitePages holds the page subscriptions again, by their page's site,
	// so that a site's event reaches them without a look at other sites.
	sitePages map[string]map[*Sub]struct{}
	nsubs     int
	closed    bool
}

// Sub is one subscription. Events arrive on C; C is closed when the
// subscriber was too slow to keep up (it should reconnect and resume with
// Last-Event-ID) or the broker stopped.
type Sub struct {
	C      chan Enriched
	pageID int64
	siteID string // the page's site, or the site
	whole  bool   // a subscription to the whole site
	gone   bool
}

// New returns a Broker reading log.
func New(log Log) *Broker {
	return &Broker{
		log:       log,
		Poll:      time.Second,
		Logger:    slog.Default(),
		nudge:     make(chan struct{}, 1),
		advanced:  make(chan struct{}),
		pages:     make(map[int64]map[*Sub]struct{}),
		sites:     make(map[string]map[*Sub]struct{}),
		sitePages: make(map[string]map[*Sub]struct{}),
	}
}

// Notify tells the broker that new events may be in the log (after a local
// write, or a PostgreSQL notification). It never blocks.
func (b *Broker) Notify() {
	b.mu.Lock()
	b.anyway = true
	b.mu.Unlock()
	b.poke()
}

// NotifyThrough tells the broker that the log holds the events up to last
// (a PostgreSQL notification's payload): when it has delivered those
// already, nothing happens, and the log is not read for nothing. last 0
// means unknown, as Notify. It never blocks.
func (b *Broker) NotifyThrough(last int64) {
	if last <= 0 {
		b.Notify()
		return
	}
	b.mu.Lock()
	if last <= b.last {
		b.mu.Unlock()
		return
	}
	b.announced = max(b.announced, last)
	b.mu.Unlock()
	b.poke()
}

// poke wakes Run. It never blocks.
func (b *Broker) poke() {
	select {
	case b.nudge <- struct{}{}:
	default:
	}
}

// wanted reports whether a nudge asks for events not delivered yet, and
// clears the request.
func (b *Broker) wanted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := b.anyway || b.announced > b.last
	b.anyway = false
	return want
}

// Handle registers a handler; call it before Run.
func (b *Broker) Handle(h Handler) { b.handlers = append(b.handlers, h) }

// Durable registers a durable consumer under name; call it before Run. Run
// delivers it every event after its stored position, from a goroutine of
// its own (a slow consumer delays no one else). A consumer new to the
// database starts where the log ends when Run starts, and stores that
// position at once.
func (b *Broker) Durable(name string, fn Consume) {
	b.durables = append(b.durables, &durable{name: name, fn: fn, nudge: make(chan struct{}, 1)})
}

// Wait returns once the broker has handed every event up to and including
// the id through to the handlers (the subscribers get them right after), or
// when ctx is done (ctx's error) or the broker has stopped. Many callers
// may wait at once: each chunk of events wakes them all, and one read of
// the log serves them.
//
// The caller delivers the events itself when no one else is delivering at
// the moment (the broker's goroutine may be asleep): a lone writer then
// waits for no goroutine to wake up, only for its own read of the log.
func (b *Broker) Wait(ctx context.Context, through int64) error {
	b.mu.Lock()
	ready := b.started && !b.closed && b.handled < through
	b.mu.Unlock()
	if ready && b.draining.TryLock() {
		b.drain(ctx)
		b.draining.Unlock()
	}
	for nudged := false; ; nudged = true {
		b.mu.Lock()
		last, advanced, closed := b.handled, b.advanced, b.closed
		b.mu.Unlock()
		if last >= through {
			return nil
		}
		if closed {
			return fmt.Errorf("events: the broker has stopped")
		}
		if !nudged {
			// Only when still waiting: a nudge after the events are
			// delivered would cost the broker an empty read of the log.
			b.NotifyThrough(through)
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Subscribers returns the number of open subscriptions.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nsubs
}

// LastID returns the id of the newest event the broker has delivered.
func (b *Broker) LastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// SubscribePage subscribes to the events of one page of a site, and to the
// site's parley.EventSiteUpdated.
func (b *Broker) SubscribePage(siteID string, pageID int64, buffer int) *Sub {
	s := &Sub{C: make(chan Enriched, buffer), pageID: pageID, siteID: siteID}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(s, func() {
		join(b.pages, pageID, s)
		join(b.sitePages, siteID, s)
	})
	return s
}

// SubscribeSite subscribes to every event of a site (the moderator queue, and
// streams of pages that have no comments yet).
func (b *Broker) SubscribeSite(siteID string, buffer int) *Sub {
	s := &Sub{C: make(chan Enriched, buffer), siteID: siteID, whole: true}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(s, func() { join(b.sites, siteID, s) })
	return s
}

// add registers s with register, or hands it back closed when the broker has
// stopped; b.mu is held.
func (b *Broker) add(s *Sub, register func()) {
	if b.closed {
		close(s.C)
		s.gone = true
		return
	}
	register()
	b.nsubs++
}

// join puts s in the set of subscribers under key.
func join[K comparable](m map[K]map[*Sub]struct{}, key K, s *Sub) {
	set := m[key]
	if set == nil {
		set = make(map[*Sub]struct{})
		m[key] = set
	}
	set[s] = struct{}{}
}

// leave takes s out of the set of subscribers under key, and drops the set
// when it is empty.
func leave[K comparable](m map[K]map[*Sub]struct{}, key K, s *Sub) {
	delete(m[key], s)
	if len(m[key]) == 0 {
		delete(m, key)
	}
}

// Unsubscribe ends a subscription; it is safe to call more than once.
func (b *Broker) Unsubscribe(s *Sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drop(s)
}

// drop removes s; b.mu is held.
func (b *Broker) drop(s *Sub) {
	if s.gone {
		return
	}
	s.gone = true
	if s.whole {
		leave(b.sites, s.siteID, s)
	} else {
		leave(b.pages, s.pageID, s)
		leave(b.sitePages, s.siteID, s)
	}
	b.nsubs--
	close(s.C)
}

// Begin reads where the log ends: Run then delivers every event recorded
// after Begin returned, however late Run starts. Call it before loading the
// state the events keep fresh (sites, allowed origins, caches), so no change
// falls between the two. Without Begin, Run reads that position itself, in
// its own goroutine, and an event recorded before it gets there is never
// delivered.
func (b *Broker) Begin(ctx context.Context) error {
	last, err := b.log.LastEventID(ctx)
	if err != nil {
		return fmt.Errorf("events: read the end of the log: %w", err)
	}
	b.mu.Lock()
	b.last, b.handled, b.started = last, last, true
	b.mu.Unlock()
	return nil
}

// Run tails the log until ctx is done, then closes every subscription. It
// starts from where Begin found the log's end, or else from the newest event
// when it starts: history is
// for resuming streams, which read it from the log themselves.
func (b *Broker) Run(ctx context.Context) {
	defer b.shutdown()
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	for !started {
		last, err := b.log.LastEventID(ctx)
		if err == nil {
			b.mu.Lock()
			b.last, b.handled, b.started = last, last, true
			b.mu.Unlock()
			break
		}
		b.Logger.Warn("events: cannot read the event log", "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(b.Poll):
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	b.mu.Lock()
	from := b.last
	b.mu.Unlock()
	for _, d := range b.durables {
		wg.Go(func() { b.runDurable(ctx, d, from) })
	}
	t := time.NewTicker(b.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.nudge:
			if !b.wanted() {
				continue
			}
		case <-t.C:
		}
		b.draining.Lock()
		b.drain(ctx)
		b.draining.Unlock()
	}
}

// drain delivers every event after the last one delivered.
func (b *Broker) drain(ctx context.Context) {
	for {
		b.mu.Lock()
		after := b.last
		b.mu.Unlock()
		evs, err := b.log.EventsSince(ctx, after, 500)
		if err != nil {
			if ctx.Err() == nil {
				b.Logger.Warn("events: cannot read the event log", "error", err.Error())
			}
			return
		}
		if len(evs) == 0 {
			return
		}
		// The handlers first, for the whole chunk: the caches are in
		// step before any stream hears of a change, and the writers
		// waiting for their events return without waiting for the
		// fan-out.
		for _, ev := range evs {
			for _, h := range b.handlers {
				h.HandleEvent(ev)
			}
		}
		b.mu.Lock()
		b.handled = evs[len(evs)-1].ID
		close(b.advanced)
		b.advanced = make(chan struct{})
		b.mu.Unlock()
		counts := make(map[int64]int)
		for _, ev := range evs {
			b.deliver(ctx, ev, counts)
		}
		for _, d := range b.durables {
			d.offer(after, evs)
			d.wake()
		}
		if len(evs) < 500 {
			return
		}
	}
}

// deliver hands ev to its subscribers. counts holds the page counts read
// for the chunk of events ev is in.
func (b *Broker) deliver(ctx context.Context, ev parley.Event, counts map[int64]int) {
	e := Enriched{Event: ev}
	counted := ev.Type != parley.EventPageCount
	b.mu.Lock()
	for !counted && b.listening(ev) {
		// Read once per chunk of events, not once per subscriber or per
		// event, and only when someone listens: most pages have no
		// reader with a stream open when a comment arrives. The count is
		// the page's current one, which is what a reader wants even if
		// events queued. The read is not made under b.mu, so whoever
		// subscribed meanwhile is looked for again.
		b.mu.Unlock()
		n, ok := counts[ev.PageID]
		if !ok {
			if p, err := b.log.PageByID(ctx, ev.PageID); err == nil {
				n = p.Count
				counts[ev.PageID] = n
			}
		}
		e.PageCount, counted = n, true
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	b.last = ev.ID
	send := func(m map[*Sub]struct{}) {
		for s := range m {
			select {
			case s.C <- e:
			default:
				// A subscriber that cannot keep up is dropped rather than
				// allowed to stall everyone; its client resumes from the log.
				b.drop(s)
			}
		}
	}
	send(b.pages[ev.PageID])
	send(b.sites[ev.SiteID])
	if ev.Type == parley.EventSiteUpdated {
		// The site's settings say whether all its pages are open: every
		// reader of the site hears of it. Other events without a page (an
		// import's queue.changed) are for the site's subscribers alone.
		send(b.sitePages[ev.SiteID])
	}
}

// listening reports whether ev has a subscriber, other than the readers of
// the site's other pages; b.mu is held.
func (b *Broker) listening(ev parley.Event) bool {
	return len(b.pages[ev.PageID]) > 0 || len(b.sites[ev.SiteID]) > 0
}

func (b *Broker) shutdown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	close(b.advanced) // Wait's callers see closed
	b.advanced = make(chan struct{})
	for _, m := range b.pages {
		for s := range m {
			b.drop(s)
		}
	}
	for _, m := range b.sites {
		for s := range m {
			b.drop(s)
		}
	}
}
