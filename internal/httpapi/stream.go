package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
)

// heartbeat is how often an idle stream sends a comment line, so that
// proxies and load balancers do not close it.
const heartbeat = 25 * time.Second

// eventStream is one server-sent event stream: where its events come from
// and which of them it sends.
type eventStream struct {
	sub *events.Sub // live events; accept may replace it
	// backlog picks, from the event log, the events missed since
	// Last-Event-ID, enriched as the broker would.
	backlog func(ctx context.Context, ev parley.Event) (events.Enriched, bool)
	// accept picks live events.
	accept func(ctx context.Context, ev events.Enriched) bool
	write  func(w io.Writer, ev events.Enriched)
}

// lastEventID parses the Last-Event-ID header (0 when absent).
func lastEventID(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, parley.Errorf(parley.EInvalid, "Last-Event-ID must be an event id")
	}
	return id, nil
}

// serveStream runs a stream until the client leaves, the server stops, or
// the subscriber falls too far behind (its client reconnects and resumes).
// A fresh stream starts with a "ready" event carrying the id to resume from;
// a resumed one first sends what it missed, from the log, then "ready", then
// live events, never one twice: the subscription was opened before the log
// was read, and live events at or below the last id sent are skipped.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, st *eventStream, last int64) {
	ctx := r.Context()
	defer func() { s.broker.Unsubscribe(st.sub) }()

	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.streams.Add(1)
	defer s.streams.Add(-1)

	sent := last
	if last == 0 {
		// Start at the head of the log, not at what the broker has
		// delivered so far: an event written just before this stream
		// opened is already in what the client read, and must not come
		// again as "new".
		var err error
		if sent, err = s.svc.Store().LastEventID(ctx); err != nil {
			sent = s.broker.LastID()
		}
		fmt.Fprintf(w, "retry: 3000\nid: %d\nevent: ready\ndata: {}\n\n", sent)
	} else {
		for {
			evs, err := s.svc.Store().EventsSince(ctx, sent, 500)
			if err != nil {
				return
			}
			for _, ev := range evs {
				sent = ev.ID
				if en, ok := st.backlog(ctx, ev); ok {
					st.write(w, en)
				}
			}
			if len(evs) < 500 {
				break
			}
		}
		fmt.Fprintf(w, "id: %d\nevent: ready\ndata: {}\n\n", sent)
	}
	if err := rc.Flush(); err != nil {
		return
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case ev, ok := <-st.sub.C:
			if !ok {
				return
			}
			if ev.ID <= sent || !st.accept(ctx, ev) {
				continue
			}
			sent = ev.ID
			st.write(w, ev)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// handleStream serves GET /api/v1/stream?site=S&url=U: server-sent events
// for one thread. Events: comment.created, comment.updated,
// comment.removed, page.count, page.updated (closed or reopened, policy
// override changed), site.updated (the site's settings or policy changed,
// which can close or reopen all its pages), each with data {"id",
// "comment_id", "page_count"}; Last-Event-ID resumes without loss or
// repeats. Every reader of a thread gets the same events: nothing in them
// depends on who reads.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	if s.broker == nil {
		s.writeError(w, r, parley.Errorf(parley.EUnavailable, "live updates are not enabled"))
		return
	}
	q := r.URL.Query()
	ctx := r.Context()
	site, canon, err := s.svc.Canonical(ctx, q.Get("site"), q.Get("url"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var pageID int64
	if p, err := s.svc.Store().Page(ctx, site.ID, canon); err == nil {
		pageID = p.ID
	} else if parley.ErrorCode(err) != parley.ENotFound {
		s.writeError(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	st := &eventStream{write: writeEvent}
	if pageID != 0 {
		st.sub = s.broker.SubscribePage(site.ID, pageID, 256)
	} else {
		// No comments yet: follow the site until the page appears.
		st.sub = s.broker.SubscribeSite(site.ID, 256)
	}
	// siteEvent picks the site's own events, which concern every page.
	siteEvent := func(ev parley.Event) bool {
		return ev.Type == parley.EventSiteUpdated && ev.SiteID == site.ID
	}
	st.backlog = func(ctx context.Context, ev parley.Event) (events.Enriched, bool) {
		en := events.Enriched{Event: ev}
		if siteEvent(ev) {
			return en, true
		}
		if pageID == 0 || ev.PageID != pageID || !readerEvent(ev.Type) {
			return en, false
		}
		if ev.Type == parley.EventPageCount {
			if p, err := s.svc.Store().PageByID(ctx, pageID); err == nil {
				en.PageCount = p.Count
			}
		}
		return en, true
	}
	st.accept = func(ctx context.Context, ev events.Enriched) bool {
		if siteEvent(ev.Event) {
			return true
		}
		if pageID == 0 {
			p, err := s.svc.Store().PageByID(ctx, ev.PageID)
			if err != nil || p.URL != canon {
				return false
			}
			// The page now exists: follow it alone.
			pageID = p.ID
			s.broker.Unsubscribe(st.sub)
			st.sub = s.broker.SubscribePage(site.ID, pageID, 256)
		}
		return ev.PageID == pageID && readerEvent(ev.Type)
	}
	s.serveStream(w, r, st, last)
}

// readerEvent reports whether readers' streams carry events of this type.
func readerEvent(typ string) bool {
	return typ != parley.EventQueueChanged
}

func writeEvent(w io.Writer, ev events.Enriched) {
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {\"id\":%d,\"comment_id\":%d", ev.ID, ev.Type, ev.ID, ev.CommentID)
	if ev.Type == parley.EventPageCount {
		fmt.Fprintf(w, ",\"page_count\":%d", ev.PageCount)
	}
	fmt.Fprint(w, "}\n\n")
}
