package httpapi

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// A reader's data rights (docs/sso.md): their export and their erasure,
// by themselves (the widget's "Your comments & data") or by an admin.

func erasedJSON(e service.EraseResult) map[string]any {
	return map[string]any{"removed": e.Removed, "anonymised": e.Anonymised, "votes": e.Votes, "reports": e.Reports}
}

func writeExport(w http.ResponseWriter, d *service.ReaderData) {
	b, err := d.JSON()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{Code: parley.EInternal, Message: "Internal error."}})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="parley-data.json"`)
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// handleMyExport serves GET /api/v1/me/export: everything held about the
// signed-in reader, as a JSON download.
func (s *Server) handleMyExport(w http.ResponseWriter, r *http.Request) {
	a, ok := s.begin(w, r, nil, s.actionLimits)
	if !ok {
		return
	}
	if a.User == nil {
		s.writeError(w, r, parley.Errorf(parley.EUnauthorized, "Sign in to download your data."))
		return
	}
	d, err := s.svc.ReaderData(r.Context(), a, a.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeExport(w, d)
}

// handleEraseMe serves DELETE /api/v1/me {"confirm": "erase"}: the
// signed-in reader is erased and signed out. The JSON body (which a
// cross-site form cannot send) and the allowed origins keep another site
// from erasing a reader.
func (s *Server) handleEraseMe(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Confirm string `json:"confirm"`
	}
	a, ok := s.begin(w, r, &in, s.postLimits)
	if !ok {
		return
	}
	if a.User == nil {
		// A retry of an erasure whose answer was lost: the reader is gone,
		// their session with them, but the key and the cookie that named
		// them get the first answer.
		if sess := s.sessions.ReaderSession(r); sess.UserID != "" && a.IdempotencyKey != "" && in.Confirm == "erase" {
			res, ok, err := s.svc.ReplayErase(r.Context(), a.IdempotencyKey, sess.UserID)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if ok {
				s.sessions.ClearReader(w)
				replayed(w, true)
				writeJSON(w, http.StatusOK, map[string]any{"erased": erasedJSON(res)})
				return
			}
		}
		s.writeError(w, r, parley.Errorf(parley.EUnauthorized, "Sign in to delete your data."))
		return
	}
	if in.Confirm != "erase" {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, `send {"confirm": "erase"} to erase your data; it cannot be undone`))
		return
	}
	res, err := s.svc.EraseReader(r.Context(), a, a.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.sessions.ClearReader(w)
	writeJSON(w, http.StatusOK, map[string]any{"erased": erasedJSON(res)})
}

// handleReaderExport serves GET /api/v1/admin/users/{id}/export (admins).
func (s *Server) handleReaderExport(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.ReaderData(r.Context(), s.staff(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeExport(w, d)
}

// handleReaderErase serves DELETE /api/v1/admin/users/{id} (admins).
func (s *Server) handleReaderErase(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.EraseReader(r.Context(), s.staff(r), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"erased": erasedJSON(res)})
}

// handleSetErasure serves PUT /api/v1/admin/sites/{site}/erasure
// {"erasure": "anonymise" | "remove"} (admins).
func (s *Server) handleSetErasure(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Erasure string `json:"erasure"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.SetSiteErasure(r.Context(), s.staff(r), r.PathValue("site"), in.Erasure); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"erasure": strings.TrimSpace(in.Erasure)})
}

// handleGetErasure serves GET /api/v1/admin/sites/{site}/erasure (admins):
// {"erasure": "anonymise" | "remove"}, the site's current choice.
func (s *Server) handleGetErasure(w http.ResponseWriter, r *http.Request) {
	mode, err := s.svc.SiteErasure(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"erasure": mode})
}
