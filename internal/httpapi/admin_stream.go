package httpapi

import (
	"net/http"
)

// handleAdminStream serves GET /api/v1/admin/stream?site=S: server-sent
// events queue.changed (data {"id","comment_id"}) for one site's moderation
// queues, so the moderator UI shows new items without reloading. Like the
// readers' stream it resumes from Last-Event-ID with what was missed.
func (s *Server) handleAdminStream(w http.ResponseWriter, r *http.Request) {
	last, err := lastEventID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.svc.QueueStream(r.Context(), s.staff(r), r.URL.Query().Get("site"), last)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveStream(w, r, st)
}
