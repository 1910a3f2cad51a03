package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/service"
)

// The pages of a site, for moderators: find one, close or reopen it, and
// set its policy override (docs/admin-api.md).

// handlePages serves GET /api/v1/admin/sites/{site}/pages?q=&cursor=&limit=.
func (s *Server) handlePages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pq := service.PagesQuery{SiteID: r.PathValue("site"), Search: q.Get("q"), Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > service.MaxPageList {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "limit must be a number between 1 and %d", service.MaxPageList))
			return
		}
		pq.Limit = n
	}
	l, err := s.svc.Pages(r.Context(), s.staff(r), pq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]adminPageJSON, 0, len(l.Pages))
	for _, p := range l.Pages {
		out = append(out, toAdminPage(p.Page, p.Activity))
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"pages": out, "cursor": l.Cursor})
}

// pageRef reads which page a request names: ?url=U or ?id=N.
func pageRef(r *http.Request) (service.PageRef, error) {
	q := r.URL.Query()
	ref := service.PageRef{SiteID: r.PathValue("site"), URL: q.Get("url")}
	if v := q.Get("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return ref, parley.Errorf(parley.EInvalid, "id must be a page id")
		}
		ref.ID = id
	}
	if ref.URL == "" && ref.ID == 0 {
		return ref, parley.Errorf(parley.EInvalid, "url (or id) is required")
	}
	return ref, nil
}

// handleGetPage serves GET /api/v1/admin/sites/{site}/pages/policy?url=U.
func (s *Server) handleGetPage(w http.ResponseWriter, r *http.Request) {
	ref, err := pageRef(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.svc.Page(r.Context(), s.staff(r), ref)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, toPageSettings(v))
}

// handlePutPage serves PUT /api/v1/admin/sites/{site}/pages/policy?url=U:
// {"closed","policy","note","create"}, each optional; a field left out keeps
// its value, and "policy":{} removes the override.
func (s *Server) handlePutPage(w http.ResponseWriter, r *http.Request) {
	ref, err := pageRef(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Closed *bool                      `json:"closed"`
		Policy *moderation.PolicyOverride `json:"policy"`
		Note   string                     `json:"note"`
		Create bool                       `json:"create"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Closed == nil && in.Policy == nil {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, `give "closed", "policy" or both`))
		return
	}
	v, err := s.svc.UpdatePage(r.Context(), s.staff(r), ref,
		service.PageUpdate{Closed: in.Closed, Policy: in.Policy, Note: in.Note, Create: in.Create})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPageSettings(v))
}

// Wire types of the pages API.

type adminPageJSON struct {
	ID       int64      `json:"id"`
	URL      string     `json:"url"`
	Title    string     `json:"title"`
	Count    int        `json:"count"`
	Closed   bool       `json:"closed"`
	Override bool       `json:"override"` // the page has a policy override
	Activity *time.Time `json:"activity,omitempty"`
	Created  time.Time  `json:"created"`
}

func toAdminPage(p *parley.Page, activity time.Time) adminPageJSON {
	return adminPageJSON{
		ID: p.ID, URL: p.URL, Title: p.Title, Count: p.Count, Closed: p.Closed,
		Override: len(p.Policy) > 0, Activity: timePtr(activity), Created: p.Created.UTC(),
	}
}

type pageSettingsJSON struct {
	Page       adminPageJSON             `json:"page"`
	Policy     moderation.PolicyOverride `json:"policy"`      // the override: only the fields it sets
	SitePolicy moderation.Policy         `json:"site_policy"` // what the override applies to
	Effective  moderation.Policy         `json:"effective"`   // what the page's comments are moderated by
}

func toPageSettings(v *service.PageView) pageSettingsJSON {
	return pageSettingsJSON{Page: toAdminPage(v.Page, time.Time{}), Policy: v.Override, SitePolicy: v.SitePolicy, Effective: v.Effective}
}
