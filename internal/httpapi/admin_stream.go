package httpapi

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/events"
)

// handleAdminStream serves GET /api/v1/admin/stream?site=S: server-sent
// events queue.changed (data {"id","comment_id"}) for one site's moderation
// queues, so the moderator UI shows new items without reloading. Like the
// readers' stream it resumes from Last-Event-ID with what was missed.
func (s *Server) handleAdminStream(w http.ResponseWriter, r *http.Request) {
	if s.broker == nil {
		s.writeError(w, r, parley.Errorf(parley.EUnavailable, "live updates are not enabled"))
		return
	}
	ctx := r.Context()
	siteID := r.URL.Query().Get("site")
	if err := s.svc.CheckModerator(ctx, s.staff(r), siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	last, err := lastEventID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	queueEvent := func(ev parley.Event) bool {
		return ev.SiteID == siteID && ev.Type == parley.EventQueueChanged
	}
	s.serveStream(w, r, &eventStream{
		sub: s.broker.SubscribeSite(siteID, 256),
		backlog: func(_ context.Context, ev parley.Event) (events.Enriched, bool) {
			return events.Enriched{Event: ev}, queueEvent(ev)
		},
		accept: func(_ context.Context, ev events.Enriched) bool { return queueEvent(ev.Event) },
		write:  writeEvent,
	}, last)
}
