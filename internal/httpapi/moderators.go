package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// moderatorJSON is a staff member as the admin UI lists them.
type moderatorJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
	Site  string `json:"site"` // "" for every site
}

func toModerator(u *parley.User) moderatorJSON {
	return moderatorJSON{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Site: u.SiteID}
}

// handleModerators serves GET /api/v1/admin/sites/{site}/moderators.
func (s *Server) handleModerators(w http.ResponseWriter, r *http.Request) {
	us, err := s.svc.Moderators(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]moderatorJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toModerator(u))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"moderators": out})
}

// handleInviteModerator serves POST /api/v1/admin/sites/{site}/moderators
// {"name", "email", "role"}: a moderator of the site (or an admin), with a
// one-time password in the answer, shown once.
func (s *Server) handleInviteModerator(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Role == "" {
		in.Role = parley.RoleModerator
	}
	site := r.PathValue("site")
	if in.Role == parley.RoleAdmin {
		site = ""
	}
	u, password, err := s.svc.InviteModerator(r.Context(), s.staff(r), service.StaffInput{Name: in.Name, Email: in.Email, Role: in.Role, SiteID: site})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"moderator": toModerator(u), "password": password})
}

// handleSetModerator serves PUT /api/v1/admin/moderators/{id}
// {"role", "site"}; role "reader" removes them from the staff.
func (s *Server) handleSetModerator(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
		Site string `json:"site"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.svc.SetStaffRole(r.Context(), s.staff(r), r.PathValue("id"), in.Role, in.Site)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"moderator": toModerator(u)})
}

// handleRemoveModerator serves DELETE /api/v1/admin/moderators/{id}.
func (s *Server) handleRemoveModerator(w http.ResponseWriter, r *http.Request) {
	u, err := s.svc.SetStaffRole(r.Context(), s.staff(r), r.PathValue("id"), parley.RoleReader, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"moderator": toModerator(u)})
}
