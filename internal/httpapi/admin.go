package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// The admin API of docs/admin-api.md. Every handler runs behind
// requireStaff, which identified the caller (s.staff) and checked the CSRF
// token; the service checks the caller's site scope.

// handleSites serves GET /api/v1/admin/sites: the sites the caller moderates.
func (s *Server) handleSites(w http.ResponseWriter, r *http.Request) {
	sites, err := s.svc.ModeratedSites(r.Context(), s.staff(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type siteJSON struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		PolicyURL string `json:"policy_url"`
	}
	out := make([]siteJSON, 0, len(sites))
	for _, site := range sites {
		out = append(out, siteJSON{ID: site.ID, Name: site.Name, PolicyURL: site.PolicyURL})
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"sites": out})
}

// handleQueue serves GET /api/v1/admin/queue?site=S&status=…&page=ID&author=ID&limit=N&offset=N.
func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	qq := store.QueueQuery{SiteID: q.Get("site"), Queue: q.Get("status"), AuthorID: q.Get("author")}
	for name, dst := range map[string]*int{"limit": &qq.Limit, "offset": &qq.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				s.writeError(w, r, parley.Errorf(parley.EInvalid, "%s must be a non-negative number", name))
				return
			}
			*dst = n
		}
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "page must be a page id"))
			return
		}
		qq.PageID = n
	}
	entries, err := s.svc.QueueView(r.Context(), s.staff(r), qq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"comments": toQueueItems(entries)})
}

// handleQueueCounts serves GET /api/v1/admin/counts?site=S.
func (s *Server) handleQueueCounts(w http.ResponseWriter, r *http.Request) {
	counts, err := s.svc.QueueCounts(r.Context(), s.staff(r), r.URL.Query().Get("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts})
}

// handleDecision serves POST /api/v1/admin/comments/{id}/decision.
func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Action string `json:"action"`
		Note   string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.svc.Decide(r.Context(), s.staff(r), id, service.DecideInput{Action: in.Action, Note: in.Note})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"comment": toComment(c, nil, 0)})
}

// handleBulk serves POST /api/v1/admin/comments/bulk.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs    []int64 `json:"ids"`
		Action string  `json:"action"`
		Note   string  `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	done, failed, err := s.svc.Bulk(r.Context(), s.staff(r), in.IDs, service.DecideInput{Action: in.Action, Note: in.Note})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type failure struct {
		ID    int64       `json:"id"`
		Error errorDetail `json:"error"`
	}
	out := make([]failure, 0, len(failed))
	for _, f := range failed {
		out = append(out, failure{ID: f.ID, Error: errorDetail{Code: parley.ErrorCode(f.Err), Message: parley.ErrorMessage(f.Err)}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"done": done, "failed": out})
}

// handleCommentAudit serves GET /api/v1/admin/comments/{id}/audit.
func (s *Server) handleCommentAudit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	actions, err := s.svc.CommentAudit(r.Context(), s.staff(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"actions": toActions(actions)})
}

// handleReader serves GET /api/v1/admin/users/{id}?site=S.
func (s *Server) handleReader(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.Reader(r.Context(), s.staff(r), r.PathValue("id"), r.URL.Query().Get("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	notes := make([]noteJSON, 0, len(d.Notes))
	for _, n := range d.Notes {
		notes = append(notes, toNote(n))
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"user": toReader(&d.Standing),
		"history": map[string]int{
			"approved": d.History.Approved, "rejected": d.History.Rejected, "pending": d.History.Pending,
			"reports_upheld": d.History.ReportsUpheld, "reports_made": d.Reporter.Made,
			"reports_made_upheld": d.Reporter.Upheld, "reports_made_dismissed": d.Reporter.Dismissed,
		},
		"notes":    notes,
		"actions":  toActions(d.Actions),
		"comments": toQueueItems(d.Comments),
	})
}

// handleSanction serves POST /api/v1/admin/users/{id}/sanction.
func (s *Server) handleSanction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Site     string `json:"site"`
		Action   string `json:"action"`
		Duration string `json:"duration"`
		Note     string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var d time.Duration
	if in.Duration != "" {
		var err error
		if d, err = parseDuration(in.Duration); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	st, err := s.svc.Sanction(r.Context(), s.staff(r), r.PathValue("id"),
		service.SanctionInput{SiteID: in.Site, Action: in.Action, Duration: d, Note: in.Note})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": toReader(st)})
}

// parseDuration reads a Go duration ("24h", "90m") or a number of days ("7d").
func parseDuration(v string) (time.Duration, error) {
	if n := len(v); n > 1 && v[n-1] == 'd' {
		if days, err := strconv.Atoi(v[:n-1]); err == nil && days > 0 && days <= 5*365 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, parley.Errorf(parley.EInvalid, "duration must be like \"24h\", \"90m\" or \"7d\", not %q", v)
	}
	return d, nil
}

// handleRejectPending serves POST /api/v1/admin/users/{id}/reject-pending.
func (s *Server) handleRejectPending(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Site string `json:"site"`
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.svc.RejectPending(r.Context(), s.staff(r), r.PathValue("id"), in.Site, in.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rejected": n})
}

// handleAddNote serves POST /api/v1/admin/users/{id}/notes.
func (s *Server) handleAddNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Site string `json:"site"`
		Text string `json:"text"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.svc.AddNote(r.Context(), s.staff(r), r.PathValue("id"), in.Site, in.Text)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"note": toNote(n)})
}

// handleGetPolicy serves GET /api/v1/admin/sites/{site}/policy.
func (s *Server) handleGetPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Policy(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// Wire types of the admin API.

type readerJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Role           string     `json:"role"`
	BannedUntil    *time.Time `json:"banned_until"`
	SuspendedUntil *time.Time `json:"suspended_until"`
	Premoderated   bool       `json:"premoderated"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toReader(st *service.Standing) readerJSON {
	return readerJSON{
		ID: st.User.ID, Name: st.User.Name, Role: st.User.Role,
		BannedUntil: timePtr(st.User.BannedUntil), SuspendedUntil: timePtr(st.Sanction.SuspendedUntil),
		Premoderated: st.Sanction.Premoderated,
	}
}

type noteJSON struct {
	ID      int64      `json:"id"`
	Author  authorJSON `json:"author"`
	Text    string     `json:"text"`
	Created time.Time  `json:"created"`
}

func toNote(n *store.Note) noteJSON {
	return noteJSON{ID: n.ID, Author: authorJSON{ID: n.AuthorID, Name: n.AuthorName}, Text: n.Text, Created: n.Created.UTC()}
}

type actionJSON struct {
	ID      int64           `json:"id"`
	Actor   authorJSON      `json:"actor"`
	Action  string          `json:"action"`
	Target  actionTarget    `json:"target"`
	Site    string          `json:"site"`
	Note    string          `json:"note"`
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	Created time.Time       `json:"created"`
}

type actionTarget struct {
	Comment *int64  `json:"comment"`
	User    *string `json:"user"`
}

func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func toActions(as []*store.Action) []actionJSON {
	out := make([]actionJSON, 0, len(as))
	for _, a := range as {
		j := actionJSON{
			ID: a.ID, Actor: authorJSON{ID: a.ActorID, Name: a.ActorName}, Action: a.Action, Site: a.SiteID,
			Note: a.Note, Before: rawOrNull(a.Before), After: rawOrNull(a.After), Created: a.Created.UTC(),
		}
		if a.CommentID != 0 {
			id := a.CommentID
			j.Target.Comment = &id
		}
		if a.UserID != "" {
			u := a.UserID
			j.Target.User = &u
		}
		out = append(out, j)
	}
	return out
}
