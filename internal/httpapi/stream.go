package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
	"github.com/parleyhq/parley/internal/service"
)

// heartbeat is how often an idle stream sends a comment line, so that
// proxies and load balancers do not close it.
const heartbeat = 25 * time.Second

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

// serveStream writes a service stream as server-sent events until the
// client leaves, the server stops, or the stream ends (its subscriber fell
// too far behind; the client reconnects and resumes). A fresh stream starts
// with a "ready" event carrying the id to resume from; a resumed one first
// sends what it missed, then "ready", then live events. Which events, and
// that none comes twice, is the service's business: this only formats.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, st *service.Stream) {
	defer st.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()

	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s.streams.Add(1)
	defer s.streams.Add(-1)

	if !st.Resumed() {
		fmt.Fprint(w, "retry: 3000\n")
	}
	for _, ev := range st.Backlog {
		writeEvent(w, ev)
	}
	fmt.Fprintf(w, "id: %d\nevent: ready\ndata: {}\n\n", st.Ready())
	if err := rc.Flush(); err != nil {
		return
	}
	for {
		wait, stop := context.WithTimeout(ctx, heartbeat)
		ev, err := st.Next(wait)
		stop()
		switch {
		case err == nil:
			writeEvent(w, ev)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		default: // the client left, the server stops, or the stream ended
			return
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
// repeats. Every reader of a thread gets the same events (service.Stream).
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	last, err := lastEventID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	st, err := s.svc.Stream(r.Context(), q.Get("site"), q.Get("url"), last)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveStream(w, r, st)
}

func writeEvent(w io.Writer, ev events.Enriched) {
	fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {\"id\":%d,\"comment_id\":%d", ev.ID, ev.Type, ev.ID, ev.CommentID)
	if ev.Type == parley.EventPageCount {
		fmt.Fprintf(w, ",\"page_count\":%d", ev.PageCount)
	}
	fmt.Fprint(w, "}\n\n")
}
