package httpapi

import (
	"fmt"
	"html"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
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

// handleSearch serves GET /api/v1/admin/search?site=&text=&author=&page=:
// comments in the queue's shape.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := store.CommentSearch{SiteID: v.Get("site"), Text: v.Get("text"), Author: v.Get("author")}
	for name, dst := range map[string]*int{"limit": &q.Limit, "offset": &q.Offset} {
		if x := v.Get(name); x != "" {
			n, err := strconv.Atoi(x)
			if err != nil || n < 0 {
				s.writeError(w, r, parley.Errorf(parley.EInvalid, "%s must be a non-negative number", name))
				return
			}
			*dst = n
		}
	}
	if x := v.Get("page"); x != "" {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "page must be a page id"))
			return
		}
		q.PageID = n
	}
	entries, err := s.svc.SearchComments(r.Context(), s.staff(r), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"comments": toQueueItems(entries)})
}

type dayStatsJSON struct {
	Day       string `json:"day"` // YYYY-MM-DD, UTC
	Comments  int    `json:"comments"`
	Held      int    `json:"held"`
	Reports   int    `json:"reports"`
	Decisions int    `json:"decisions"`
	Overturns int    `json:"overturns"`
}

// handleStats serves GET /api/v1/admin/sites/{site}/stats?days=30: the
// workload per day, the queue now (its size and the age of its oldest
// comment) and the overturn rate (moderators' decisions that reversed
// the rules' verdict, of all decisions) over the period.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "days must be a number"))
			return
		}
		days = n
	}
	st, err := s.svc.Workload(r.Context(), s.staff(r), r.PathValue("site"), days)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Days         []dayStatsJSON `json:"days"`
		Pending      int            `json:"pending"`
		QueueAge     int64          `json:"queue_age_seconds"` // age of the oldest held comment; 0 when none
		Decisions    int            `json:"decisions"`
		OverturnRate float64        `json:"overturn_rate"`
	}{Days: []dayStatsJSON{}, Pending: st.Pending}
	if !st.OldestPending.IsZero() {
		out.QueueAge = int64(s.svc.Now().Sub(st.OldestPending).Seconds())
	}
	overturns := 0
	for _, d := range st.Days {
		out.Days = append(out.Days, dayStatsJSON{Day: d.Day.Format("2006-01-02"), Comments: d.Comments, Held: d.Held,
			Reports: d.Reports, Decisions: d.Decisions, Overturns: d.Overturns})
		out.Decisions += d.Decisions
		overturns += d.Overturns
	}
	if out.Decisions > 0 {
		out.OverturnRate = float64(overturns) / float64(out.Decisions)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
