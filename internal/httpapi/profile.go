package httpapi

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// A signed-in reader's own settings: their display name, and signing out
// on every device.

// handleRename serves PATCH /api/v1/me {"site", "name"}: the reader's
// display name, as they choose it.
func (s *Server) handleRename(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Site string `json:"site"`
		Name string `json:"name"`
	}
	a, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	if a.User == nil {
		s.writeError(w, r, parley.Errorf(parley.EUnauthorized, "Sign in to change your name."))
		return
	}
	u, err := s.svc.Rename(r.Context(), a, in.Site, in.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"me": map[string]any{"id": u.ID, "name": u.Name, "role": u.Role, "badge": u.Badge(),
		"sso": service.IsSSOReader(u.ID), "picture": u.Picture, "own_name": u.OwnName}})
}

// handleSignOutEverywhere serves DELETE /api/v1/me/sessions: every session
// of the reader, on every device, ends (and this browser's cookie goes).
func (s *Server) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	a, ok := s.begin(w, r, nil, s.actionLimits)
	if !ok {
		return
	}
	if a.User == nil {
		s.writeError(w, r, parley.Errorf(parley.EUnauthorized, "Sign in first."))
		return
	}
	if err := s.svc.SignOutEverywhere(r.Context(), a); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.sessions.ClearReader(w)
	w.WriteHeader(http.StatusNoContent)
}

// handleAvatar serves GET /api/v1/avatar?user=ID: a reader's picture,
// fetched and checked by Parley (service.Avatar), from Parley's origin.
func (s *Server) handleAvatar(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.Avatar(r.Context(), r.URL.Query().Get("user"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Length", strconv.Itoa(len(a.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(a.Data)
	}
}
