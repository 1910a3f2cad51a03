package httpapi

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

type postRequest struct {
	Site   string `json:"site"`
	URL    string `json:"url"`
	Title  string `json:"title"`
	Parent int64  `json:"parent"`
	Quote  int64  `json:"quote"`
	Text   string `json:"text"`
	Name   string `json:"name"`
}

func (in postRequest) input() service.PostInput {
	return service.PostInput{SiteID: in.Site, URL: in.URL, Title: in.Title, ParentID: in.Parent, QuoteID: in.Quote, Text: in.Text, Name: in.Name}
}

func (in postRequest) check() error {
	if in.Site == "" || in.URL == "" {
		return parley.Errorf(parley.EInvalid, "site and url are required")
	}
	if in.Parent < 0 || in.Quote < 0 {
		return parley.Errorf(parley.EInvalid, "parent and quote must be comment ids")
	}
	return nil
}

// begin does what every reader write starts with: decode the JSON body into
// in (when in is not nil), identify the caller, and charge the rate limit.
// When it returns false it has answered the request.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, in any, limits limitPair) (service.Actor, bool) {
	if in != nil {
		if err := decode(r, in); err != nil {
			s.writeError(w, r, err)
			return service.Actor{}, false
		}
	}
	actor, err := s.actor(r)
	if err != nil {
		s.writeError(w, r, err)
		return actor, false
	}
	actor.IdempotencyKey = r.Header.Get("Idempotency-Key")
	if err := service.CheckIdempotencyKey(actor.IdempotencyKey); err != nil {
		s.writeError(w, r, err)
		return actor, false
	}
	if err := s.limit(r, actor, limits); err != nil {
		s.writeRateLimited(w, r, err)
		return actor, false
	}
	return actor, true
}

// handlePost serves POST /api/v1/comments.
func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	var in postRequest
	actor, ok := s.begin(w, r, &in, s.postLimits)
	if !ok {
		return
	}
	if err := in.check(); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.Post(r.Context(), actor, in.input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.NewUser != nil {
		s.sessions.SetReader(w, res.NewUser.ID)
	}
	replayed(w, res.Replayed)
	out := postResponse{
		Comment: toComment(res.Comment, res.Quote, quoteNumber(res.Quote)),
		Status:  res.Decision.Status,
		Reasons: toAuthorReasons(res.Decision.Reasons),
		Message: res.Message,
	}
	withBadge(&out.Comment, actor.User)
	writeJSON(w, http.StatusCreated, out)
}

// handlePrecheck serves POST /api/v1/comments/precheck: what would happen
// to this text, storing nothing.
func (s *Server) handlePrecheck(w http.ResponseWriter, r *http.Request) {
	var in postRequest
	actor, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	if err := in.check(); err != nil {
		s.writeError(w, r, err)
		return
	}
	dec, msg, err := s.svc.Precheck(r.Context(), actor, in.input())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": dec.Status, "reasons": toAuthorReasons(dec.Reasons), "message": msg})
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, parley.Errorf(parley.EInvalid, "comment id %q is not a number", r.PathValue("id"))
	}
	return id, nil
}

// handleEdit serves PATCH /api/v1/comments/{id}.
func (s *Server) handleEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	actor, ok := s.begin(w, r, &in, s.postLimits)
	if !ok {
		return
	}
	if actor.User == nil {
		s.writeError(w, r, parley.Errorf(parley.EForbidden, "Only the author can edit a comment."))
		return
	}
	res, err := s.svc.Edit(r.Context(), actor, id, in.Text)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	replayed(w, res.Replayed)
	writeJSON(w, http.StatusOK, postResponse{
		Comment: toComment(res.Comment, res.Quote, quoteNumber(res.Quote)), Status: res.Comment.Status,
		Reasons: toAuthorReasons(res.Decision.Reasons), Message: res.Message,
	})
}

// handleDelete serves DELETE /api/v1/comments/{id}.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	actor, ok := s.begin(w, r, nil, s.actionLimits)
	if !ok {
		return
	}
	if actor.User == nil && !actor.Admin {
		s.writeError(w, r, parley.Errorf(parley.EForbidden, "You can only delete your own comments."))
		return
	}
	if err := s.svc.Delete(r.Context(), actor, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleReport serves POST /api/v1/comments/{id}/report.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	actor, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	created, err := s.svc.Report(r.Context(), actor, id, service.ReportInput{Reason: in.Reason, Note: in.Note})
	if created != nil {
		s.sessions.SetReader(w, created.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "received", "message": "Thank you — a moderator will review it."})
}

// handleVote serves POST /api/v1/comments/{id}/vote.
func (s *Server) handleVote(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Value *int `json:"value"`
	}
	actor, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	if in.Value == nil {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "value is required: 1, 0 or -1"))
		return
	}
	score, created, err := s.svc.Vote(r.Context(), actor, id, *in.Value)
	if created != nil {
		s.sessions.SetReader(w, created.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"score": score, "value": *in.Value})
}

func quoteNumber(q *parley.Comment) int {
	if q == nil {
		return 0
	}
	return q.Number
}

// replayed marks a response answered from an earlier request with the same
// Idempotency-Key, which wrote nothing new.
func replayed(w http.ResponseWriter, yes bool) {
	if yes {
		w.Header().Set("Idempotent-Replayed", "true")
	}
}
