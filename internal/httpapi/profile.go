package httpapi

import (
	"net/http"

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
