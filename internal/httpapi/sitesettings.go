package httpapi

import (
	"fmt"
	"html"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// siteSettingsJSON is a site's settings as the admin UI edits them, with
// the embed snippet for this server's address.
type siteSettingsJSON struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	PolicyURL string   `json:"policy_url"`
	Origins   []string `json:"origins"`
	Embed     string   `json:"embed"`
}

// sitePatch is PATCH …/settings: the fields present change.
type sitePatch struct {
	Name      *string   `json:"name"`
	PolicyURL *string   `json:"policy_url"`
	Origins   *[]string `json:"origins"`
}

// baseFor is the server's public address: the configured base URL's
// origin, or the one the request came to.
func (s *Server) baseFor(r *http.Request) string {
	if s.baseOrigin != "" {
		return s.baseOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) toSiteSettings(r *http.Request, site *parley.Site) siteSettingsJSON {
	origins := site.Origins
	if origins == nil {
		origins = []string{}
	}
	embed := fmt.Sprintf("<div id=\"parley\"></div>\n<script src=\"%s/embed.js\" data-site=\"%s\" async></script>",
		html.EscapeString(s.baseFor(r)), html.EscapeString(site.ID))
	return siteSettingsJSON{ID: site.ID, Name: site.Name, PolicyURL: site.PolicyURL, Origins: origins, Embed: embed}
}

// handleGetSiteSettings serves GET /api/v1/admin/sites/{site}/settings.
func (s *Server) handleGetSiteSettings(w http.ResponseWriter, r *http.Request) {
	site, err := s.svc.SiteSettings(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.toSiteSettings(r, site))
}

// handlePatchSiteSettings serves PATCH /api/v1/admin/sites/{site}/settings
// (merge semantics: the fields sent change, the others stay).
func (s *Server) handlePatchSiteSettings(w http.ResponseWriter, r *http.Request) {
	var in sitePatch
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	site, err := s.svc.PatchSite(r.Context(), s.staff(r), r.PathValue("site"),
		service.SitePatch{Name: in.Name, PolicyURL: in.PolicyURL, Origins: in.Origins})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.toSiteSettings(r, site))
}
