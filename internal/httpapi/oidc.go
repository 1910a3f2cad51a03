package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
)

// OpenID Connect sign-in (docs/sso.md): the browser is sent to the site's
// provider from /start and comes back to /callback. A reader's sign-in
// runs in a popup the widget opened: the callback page hands the widget a
// one-time ticket (postMessage, to the embedding page's origin only),
// which the widget redeems from its own context, so that the reader's
// cookie is set where the widget's requests carry it (a partitioned
// cookie set by the popup would not be). A moderator's runs in the admin
// UI's own window and ends there, signed in.

// oidcRate bounds sign-ins begun and finished per client IP: each start
// costs a row and a request to the provider.
var oidcRate = config.Rate{N: 30, Per: time.Minute, Burst: 30}

// oidcCookie binds a sign-in to the browser that began it; it lives as
// long as a sign-in may take and travels only to the callback.
const (
	oidcCookie     = "parley_oidc"
	oidcCookiePath = "/api/v1/auth/oidc/"
)

func (s *Server) oidcRedirectURL() string { return s.baseURL + "/api/v1/auth/oidc/callback" }

func (s *Server) oidcLimited(w http.ResponseWriter, r *http.Request) bool {
	if !s.rateLimit {
		return false
	}
	if d := s.oidcLimits.reserve(limitKey(s.clientIP(r)), time.Now()); d > 0 {
		s.writeRateLimited(w, r, &rateLimited{d})
		return true
	}
	return false
}

// handleOIDCProvider serves GET /api/v1/auth/oidc?site=S, what the widget
// needs for its sign-in button.
func (s *Server) handleOIDCProvider(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.SiteOIDCProvider(r.Context(), r.URL.Query().Get("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, map[string]any{"provider": map[string]string{"site": p.SiteID, "name": p.Name}})
}

// handleModeratorOIDC serves GET /api/v1/admin/oidc, before anyone is
// signed in: the sites whose moderators may sign in to the admin UI with
// their provider, for its sign-in page (only Parley's own origin may read
// it, like all of the admin API).
func (s *Server) handleModeratorOIDC(w http.ResponseWriter, r *http.Request) {
	ps, err := s.svc.ModeratorOIDCProviders(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []map[string]string{}
	for _, p := range ps {
		out = append(out, map[string]string{"site": p.SiteID, "name": p.Name,
			"start": "/api/v1/auth/oidc/start?site=" + url.QueryEscape(p.SiteID) + "&for=" + store.OIDCModerator})
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
}

// handleOIDCStart serves GET /api/v1/auth/oidc/start?site=S[&for=moderator][&origin=O]:
// the browser is sent to the provider, with the binding cookie.
func (s *Server) handleOIDCStart(w http.ResponseWriter, r *http.Request) {
	if s.oidcLimited(w, r) {
		return
	}
	q := r.URL.Query()
	purpose := store.OIDCReader
	if q.Get("for") != "" {
		purpose = q.Get("for")
	}
	if len(q.Get("origin")) > 256 || len(q.Get("site")) > 64 {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "site or origin too long"))
		return
	}
	authURL, binder, err := s.svc.BeginOIDC(r.Context(), service.OIDCBegin{
		SiteID: q.Get("site"), Purpose: purpose, Origin: q.Get("origin"), RedirectURL: s.oidcRedirectURL(),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Lax: the provider brings the browser back with a top-level GET,
	// which carries it; no cross-site subrequest does.
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: binder, Path: oidcCookiePath, MaxAge: int(service.OIDCLoginTTL / time.Second),
		HttpOnly: true, Secure: s.sessions.Secure, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

// handleOIDCCallback serves GET /api/v1/auth/oidc/callback?state=…&code=…,
// the provider's answer.
func (s *Server) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidcLimited(w, r) {
		return
	}
	q := r.URL.Query()
	in := service.OIDCCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), RedirectURL: s.oidcRedirectURL()}
	if c, err := r.Cookie(oidcCookie); err == nil {
		in.Binder = c.Value
	}
	// The binding is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.sessions.Secure, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	res, err := s.svc.FinishOIDC(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Purpose == store.OIDCModerator {
		// This path cannot see a staff cookie the browser already holds
		// (it is limited to the admin API), so the new session is handed
		// to a page of the admin API, which ends the old one first. The
		// page is reached by a same-site navigation (a refresh from this
		// page), which carries the SameSite=Strict staff cookie; a
		// redirect straight from the provider's would not.
		s.sessions.SetStaffHandoff(w, res.StaffToken, res.StaffExpires)
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		oidcStaffPage.Execute(w, map[string]string{"Next": s.baseURL + auth.StaffHandoffPath})
		return
	}
	if err := s.signInReader(w, r, res.User.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", oidcDoneCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	oidcDonePage.Execute(w, map[string]string{"Name": res.User.Name, "Ticket": res.Ticket, "Origin": res.Origin, "Script": oidcDoneScript})
}

// oidcDoneScript hands the ticket to the widget that opened the popup,
// on the embedding page's origin only, and closes the popup.
const oidcDoneScript = `(function(){var m=document.getElementById("parley-oidc");` +
	`var o=m&&m.getAttribute("data-origin");if(window.opener&&o){` +
	`window.opener.postMessage({type:"parley:oidc",ticket:m.getAttribute("data-ticket")},o);window.close();}})();`

var (
	oidcDoneCSP = "default-src 'none'; script-src 'sha256-" + hashScript(oidcDoneScript) + "'; style-src 'unsafe-inline'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	oidcDonePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Signed in</title>
<p id="parley-oidc" data-ticket="{{.Ticket}}" data-origin="{{.Origin}}">You are signed in as <bdi>{{.Name}}</bdi>. You may close this window.</p>
<script>` + oidcDoneScript + `</script>
</html>
`))
)

var oidcStaffPage = template.Must(template.New("staff").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="refresh" content="0;url={{.Next}}">
<title>Signing in</title>
<p>Signing you in to moderation… <a href="{{.Next}}">Continue</a></p>
</html>
`))

// handleModeratorOIDCFinish serves GET /api/v1/admin/oidc/finish, where a
// moderator's OpenID Connect sign-in ends: the staff session the browser
// came with, if any, is revoked (a sign-in always gets a new session id,
// and the old one stops working on the server), the hand-off's session
// becomes the staff cookie, and the browser goes to the admin UI.
func (s *Server) handleModeratorOIDCFinish(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token, expires, ok := s.sessions.StaffHandoff(w, r)
	if !ok {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "there is no sign-in to finish here (it takes two minutes at most): sign in again"))
		return
	}
	if _, err := s.svc.StaffSession(r.Context(), token); err != nil {
		s.writeError(w, r, err)
		return
	}
	if old := s.sessions.StaffToken(r); old != token {
		s.endOldStaffSession(r)
	}
	s.sessions.SetStaff(w, token, expires)
	http.Redirect(w, r, s.baseURL+"/admin", http.StatusSeeOther)
}

func hashScript(s string) string {
	h := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(h[:])
}

// handleOIDCTicket serves POST /api/v1/auth/oidc/ticket {"ticket"}: the
// widget redeems its reader's ticket for the reader cookie.
func (s *Server) handleOIDCTicket(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ticket string `json:"ticket"`
	}
	if _, ok := s.begin(w, r, &in, s.actionLimits); !ok {
		return
	}
	if strings.TrimSpace(in.Ticket) == "" {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "ticket is required"))
		return
	}
	u, err := s.svc.RedeemOIDCTicket(r.Context(), in.Ticket)
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

// Admin API: a site's OpenID Connect settings.

type oidcSettingsJSON struct {
	Issuer          string            `json:"issuer"`
	ClientID        string            `json:"client_id"`
	ClientSecretSet bool              `json:"client_secret_set"`
	Scopes          []string          `json:"scopes"`
	ProviderName    string            `json:"provider_name"`
	Moderators      bool              `json:"moderators"`
	StaffSubjects   map[string]string `json:"staff_subjects"`
	RedirectURL     string            `json:"redirect_url"` // to register with the provider
}

func (s *Server) toOIDCSettings(c parley.SiteOIDC) oidcSettingsJSON {
	out := oidcSettingsJSON{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecretSet: len(c.ClientSecret) > 0, Scopes: c.Scopes,
		ProviderName: c.ProviderName, Moderators: c.Moderators, StaffSubjects: c.StaffSubjects, RedirectURL: s.oidcRedirectURL()}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if out.StaffSubjects == nil {
		out.StaffSubjects = map[string]string{}
	}
	return out
}

// handleGetOIDC serves GET /api/v1/admin/sites/{site}/oidc.
func (s *Server) handleGetOIDC(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.SiteOIDC(r.Context(), s.staff(r), r.PathValue("site"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toOIDCSettings(c))
}

// handlePatchOIDC serves PATCH /api/v1/admin/sites/{site}/oidc: the fields
// sent change, the others stay. The client secret is write-only.
func (s *Server) handlePatchOIDC(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Issuer            *string           `json:"issuer"`
		ClientID          *string           `json:"client_id"`
		ClientSecret      *string           `json:"client_secret"`
		ClearClientSecret bool              `json:"clear_client_secret"`
		Scopes            []string          `json:"scopes"`
		ProviderName      *string           `json:"provider_name"`
		Moderators        *bool             `json:"moderators"`
		StaffSubjects     map[string]string `json:"staff_subjects"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	set := service.OIDCSettings{Issuer: in.Issuer, ClientID: in.ClientID, ClearClientSecret: in.ClearClientSecret,
		Scopes: in.Scopes, ProviderName: in.ProviderName, Moderators: in.Moderators, StaffSubjects: in.StaffSubjects}
	if in.ClientSecret != nil {
		set.ClientSecret = []byte(*in.ClientSecret)
	}
	c, err := s.svc.SetSiteOIDC(r.Context(), s.staff(r), r.PathValue("site"), set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toOIDCSettings(c))
}
