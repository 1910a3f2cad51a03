package httpapi

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
)

// Single sign-on: a publisher's token exchanged for a reader session, or
// presented with any call as Authorization: Bearer (docs/sso.md).

type ssoRequest struct {
	Site  string `json:"site"`
	Token string `json:"token"`
}

type ssoReaderJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Badge string `json:"badge,omitempty"`
}

// handleSSO serves POST /api/v1/auth/sso: the token is verified and spent,
// and the reader gets the signed reader cookie, as if they had posted.
func (s *Server) handleSSO(w http.ResponseWriter, r *http.Request) {
	var in ssoRequest
	if _, ok := s.begin(w, r, &in, s.actionLimits); !ok {
		return
	}
	if in.Token == "" {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "token is required"))
		return
	}
	site := in.Site
	if site == "" {
		site = auth.SSOAudience(in.Token)
	}
	u, err := s.svc.SignIn(r.Context(), site, in.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.signInReader(w, r, u.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"reader": ssoReaderJSON{ID: u.ID, Name: u.Name, Badge: u.Badge()}})
}

// handleReaderLogout serves POST /api/v1/auth/logout (Parley.logout()): the
// reader's session is ended on the server, so a copy of the cookie is
// worthless too, and the cookie is cleared.
func (s *Server) handleReaderLogout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.begin(w, r, nil, s.actionLimits); !ok {
		return
	}
	if err := s.svc.EndReaderSession(r.Context(), s.sessions.ReaderSession(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.sessions.ClearReader(w)
	w.WriteHeader(http.StatusNoContent)
}

// isSSOToken tells a publisher's JWT (three dot-separated parts) from the
// admin token, which has no dot.
func isSSOToken(tok string) bool { return strings.Count(tok, ".") == 2 }

// bearerReader is the reader of a publisher's token presented as a bearer
// token; the request's site parameter, when there is one, must be its
// audience.
func (s *Server) bearerReader(r *http.Request, tok string) (*parley.User, error) {
	return s.svc.TokenReader(r.Context(), r.URL.Query().Get("site"), tok)
}

// withBadge sets the badge of a comment written by u.
func withBadge(c *commentJSON, u *parley.User) {
	if u != nil && c.Author != nil && c.Author.ID == u.ID {
		c.Author.Badge = u.Badge()
	}
}

// Admin API: a site's sign-in settings and readers' roles.

type ssoSettingsJSON struct {
	SecretSet bool   `json:"secret_set"`
	JWKSURL   string `json:"jwks_url"`
	Only      bool   `json:"only"`
}

func toSSOSettings(c parley.SiteSSO) ssoSettingsJSON {
	return ssoSettingsJSON{SecretSet: len(c.Secret) > 0, JWKSURL: c.JWKSURL, Only: c.Only}
}

type ssoPatch struct {
	Secret      *string `json:"secret"`
	ClearSecret bool    `json:"clear_secret"`
	JWKSURL     *string `json:"jwks_url"`
	Only        *bool   `json:"only"`
}

// handleGetSSO serves GET /api/v1/admin/sites/{site}/sso.
func (s *Server) handleGetSSO(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.SiteSSO(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toSSOSettings(c))
}

// handlePatchSSO serves PATCH /api/v1/admin/sites/{site}/sso: the fields
// sent change, the others stay. The secret is write-only.
func (s *Server) handlePatchSSO(w http.ResponseWriter, r *http.Request) {
	var in ssoPatch
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	set := service.SSOSettings{ClearSecret: in.ClearSecret, JWKSURL: in.JWKSURL, Only: in.Only}
	if in.Secret != nil {
		set.Secret = []byte(*in.Secret)
	}
	c, err := s.svc.SetSiteSSO(r.Context(), s.staff(r), r.PathValue("site"), set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toSSOSettings(c))
}

// handleSetRole serves PUT /api/v1/admin/users/{id}/role {"role": "staff"}.
func (s *Server) handleSetRole(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.svc.SetRole(r.Context(), s.staff(r), r.PathValue("id"), in.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": map[string]string{"id": u.ID, "name": u.Name, "role": u.Role, "badge": u.Badge()}})
}
