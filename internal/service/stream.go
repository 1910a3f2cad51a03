package service

import (
	"context"
	"errors"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
)

// streamBuffer is how many live events a stream's subscription holds
// before the dispatcher drops it as too slow (its client resumes).
const streamBuffer = 256

// backlogBatch is how many events a resuming stream reads at once.
const backlogBatch = 500

// ErrStreamEnded is what Stream.Next returns once the live subscription has
// ended: the subscriber fell too far behind, or the dispatcher stopped. The
// client resumes from the last id it got.
var ErrStreamEnded = errors.New("the live stream ended")

// Stream is one live view of the event log for a reader or a moderator:
// first the events missed since the id it resumes from (Backlog), then live
// ones (Next), each at most once and in id order. Which events it carries
// is decided here, not by the transport.
type Stream struct {
	out    Outbox
	sub    *events.Sub
	sent   int64
	resume bool
	// Backlog is what the stream missed since the id it resumed from.
	Backlog []events.Enriched
	// accept picks a live event; it may switch the subscription.
	accept func(ctx context.Context, ev events.Enriched) bool
	// pending holds live events taken from a subscription given up for
	// another (see switchTo), to come before the new one's.
	pending []events.Enriched
}

// switchTo replaces the stream's subscription with sub. Events already
// handed to the old one stay pending, in order, and come first; those the
// new one also gets are skipped by their ids, so none is lost or repeated.
func (st *Stream) switchTo(sub *events.Sub) {
	old := st.sub
	st.sub = sub
	st.out.Unsubscribe(old) // closes old.C, which keeps what it holds
	for ev := range old.C {
		st.pending = append(st.pending, ev)
	}
}

// Ready returns the id the stream has reached: after the backlog, the id to
// resume from if no live event comes.
func (st *Stream) Ready() int64 { return st.sent }

// Resumed reports whether the stream resumes from an earlier one.
func (st *Stream) Resumed() bool { return st.resume }

// Next returns the next live event for the stream, waiting until one comes
// or ctx is done (ctx's error). ErrStreamEnded once the subscription ended.
func (st *Stream) Next(ctx context.Context) (events.Enriched, error) {
	for {
		if len(st.pending) > 0 {
			ev := st.pending[0]
			st.pending = st.pending[1:]
			if ev.ID > st.sent && st.accept(ctx, ev) {
				st.sent = ev.ID
				return ev, nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return events.Enriched{}, ctx.Err()
		case ev, ok := <-st.sub.C:
			if !ok {
				return events.Enriched{}, ErrStreamEnded
			}
			if ev.ID <= st.sent || !st.accept(ctx, ev) {
				continue
			}
			st.sent = ev.ID
			return ev, nil
		}
	}
}

// Close ends the stream's subscription; it is safe to call twice.
func (st *Stream) Close() { st.out.Unsubscribe(st.sub) }

// open starts a stream on sub: after the events since last (0 for a fresh
// stream: from the head of the log), picked and enriched by backlog.
// The subscription is open before the log is read, and live events at or
// below the last id sent are skipped, so nothing is missed or sent twice.
func (s *Service) open(ctx context.Context, sub *events.Sub, last int64,
	backlog func(ctx context.Context, ev parley.Event) (events.Enriched, bool)) (*Stream, error) {
	st := &Stream{out: s.Outbox, sub: sub, sent: last, resume: last != 0}
	if last == 0 {
		// The head of the log, not what the dispatcher has delivered so
		// far: an event written just before this stream opened is in what
		// the client read, and must not come again as new.
		var err error
		if st.sent, err = s.store.LastEventID(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	for {
		evs, err := s.store.EventsSince(ctx, st.sent, backlogBatch)
		if err != nil {
			st.Close()
			return nil, err
		}
		for _, ev := range evs {
			st.sent = ev.ID
			if en, ok := backlog(ctx, ev); ok {
				st.Backlog = append(st.Backlog, en)
			}
		}
		if len(evs) < backlogBatch {
			return st, nil
		}
	}
}

// Stream opens the live view of one thread for readers: comment.created,
// comment.updated, comment.removed, page.count and page.updated of the page,
// and site.updated of its site (which can close or reopen every page), after
// the event id last (0 for a fresh stream). Every reader of a thread gets
// the same events. A page nobody has commented on yet is followed through
// its site's events until it appears. EUnavailable without an Outbox.
func (s *Service) Stream(ctx context.Context, siteID, rawURL string, last int64) (*Stream, error) {
	if s.Outbox == nil {
		return nil, parley.Errorf(parley.EUnavailable, "live updates are not enabled")
	}
	site, canon, err := s.Canonical(ctx, siteID, rawURL)
	if err != nil {
		return nil, err
	}
	var pageID int64
	if p, err := s.store.Page(ctx, site.ID, canon); err == nil {
		pageID = p.ID
	} else if parley.ErrorCode(err) != parley.ENotFound {
		return nil, err
	}
	var sub *events.Sub
	if pageID != 0 {
		sub = s.Outbox.SubscribePage(site.ID, pageID, streamBuffer)
	} else {
		// No comments yet: follow the site until the page appears.
		sub = s.Outbox.SubscribeSite(site.ID, streamBuffer)
	}
	// siteEvent picks the site's own events, which concern every page.
	siteEvent := func(ev parley.Event) bool {
		return ev.Type == parley.EventSiteUpdated && ev.SiteID == site.ID
	}
	st, err := s.open(ctx, sub, last, func(ctx context.Context, ev parley.Event) (events.Enriched, bool) {
		en := events.Enriched{Event: ev}
		if siteEvent(ev) {
			return en, true
		}
		if pageID == 0 || ev.PageID != pageID || !readerEvent(ev.Type) {
			return en, false
		}
		if ev.Type == parley.EventPageCount {
			if p, err := s.store.PageByID(ctx, pageID); err == nil {
				en.PageCount = p.Count
			}
		}
		return en, true
	})
	if err != nil {
		return nil, err
	}
	st.accept = func(ctx context.Context, ev events.Enriched) bool {
		if siteEvent(ev.Event) {
			return true
		}
		if pageID == 0 {
			if ev.PageID == 0 || s.pageURL(ctx, ev.PageID) != canon {
				return false
			}
			// The page now exists: follow it alone.
			pageID = ev.PageID
			st.switchTo(s.Outbox.SubscribePage(site.ID, pageID, streamBuffer))
		}
		return ev.PageID == pageID && readerEvent(ev.Type)
	}
	return st, nil
}

// QueueStream opens the live view of a site's moderation queue for its
// moderators: the site's queue.changed events after the id last (0 for a
// fresh stream). EForbidden for an actor who does not moderate the site.
func (s *Service) QueueStream(ctx context.Context, a Actor, siteID string, last int64) (*Stream, error) {
	if s.Outbox == nil {
		return nil, parley.Errorf(parley.EUnavailable, "live updates are not enabled")
	}
	if err := s.CheckModerator(ctx, a, siteID); err != nil {
		return nil, err
	}
	queueEvent := func(ev parley.Event) bool {
		return ev.SiteID == siteID && ev.Type == parley.EventQueueChanged
	}
	st, err := s.open(ctx, s.Outbox.SubscribeSite(siteID, streamBuffer), last,
		func(_ context.Context, ev parley.Event) (events.Enriched, bool) {
			return events.Enriched{Event: ev}, queueEvent(ev)
		})
	if err != nil {
		return nil, err
	}
	st.accept = func(_ context.Context, ev events.Enriched) bool { return queueEvent(ev.Event) }
	return st, nil
}

// readerEvent reports whether readers' streams carry events of this type.
func readerEvent(typ string) bool {
	return typ != parley.EventQueueChanged
}

// pageURLs remembers the URL of each page id a stream waiting for its page
// asked about: a page's URL never changes, so a site's events are matched
// against a waiting stream's URL with one read per page, not one per event
// and subscriber.
type pageURLs struct {
	mu   sync.Mutex
	urls map[int64]string
}

// maxPageURLs bounds the pages remembered; when full the memory starts over.
const maxPageURLs = 65536

// pageURL returns the canonical URL of page id, "" when it cannot be read.
func (s *Service) pageURL(ctx context.Context, id int64) string {
	s.pageURLs.mu.Lock()
	u, ok := s.pageURLs.urls[id]
	s.pageURLs.mu.Unlock()
	if ok {
		return u
	}
	p, err := s.store.PageByID(ctx, id)
	if err != nil {
		return ""
	}
	s.pageURLs.mu.Lock()
	if s.pageURLs.urls == nil || len(s.pageURLs.urls) >= maxPageURLs {
		s.pageURLs.urls = make(map[int64]string)
	}
	s.pageURLs.urls[id] = p.URL
	s.pageURLs.mu.Unlock()
	return p.URL
}
