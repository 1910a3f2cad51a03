package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/service"
)

// loginRate bounds sign-in attempts per client IP, successful or not:
// plenty for a moderator who mistypes, hopeless for guessing passwords.
var loginRate = config.Rate{N: 10, Per: time.Minute, Burst: 10}

// staffWriteRate bounds the state-changing requests of one moderator
// session: a moderator working a queue from the keyboard makes about one a
// second (bulk actions are one request), so this only stops a runaway
// script or a stolen session from rewriting a site at machine speed. The
// admin token, the operator's own automation, is not limited.
var staffWriteRate = config.Rate{N: 300, Per: time.Minute, Burst: 60}

// actorKey holds the staff actor requireStaff identified.
const actorKey ctxKey = 1

// adminPath reports whether a request is for the admin API, which only
// Parley's own origin may call from a browser.
func adminPath(path string) bool { return strings.HasPrefix(path, "/api/v1/admin/") }

// unsafeMethod reports whether a request may change state.
func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// requireStaff lets through the admin token and moderator sessions. A
// state-changing request authenticated by the session cookie must carry the
// session's CSRF token in X-CSRF-Token (the bearer token needs none: a
// browser never sends it by itself).
func (s *Server) requireStaff(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := s.staffActor(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if unsafeMethod(r.Method) {
			// A write with a key (a note, a webhook, a decision, a
			// sanction, a policy change, an erasure) happens once per
			// key: a retry gets the first answer.
			a.IdempotencyKey = r.Header.Get("Idempotency-Key")
			if err := service.CheckIdempotencyKey(a.IdempotencyKey); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if s.rateLimit && a.User != nil && unsafeMethod(r.Method) {
			if d := s.staffLimits.reserve(a.User.ID, time.Now()); d > 0 {
				s.writeRateLimited(w, r, &rateLimited{d})
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey, a)))
	}
}

func (s *Server) staffActor(r *http.Request) (service.Actor, error) {
	a := service.Actor{IP: s.clientIP(r)}
	if tok := auth.BearerToken(r); tok != "" {
		if !auth.TokenEqual(tok, s.adminToken) {
			return a, parley.Errorf(parley.EUnauthorized, "invalid admin token")
		}
		a.Admin = true
		return a, nil
	}
	token := s.sessions.StaffToken(r)
	if token == "" {
		return a, parley.Errorf(parley.EUnauthorized, "moderator sign-in or admin token required")
	}
	u, err := s.svc.StaffSession(r.Context(), token)
	if err != nil {
		return a, err
	}
	if unsafeMethod(r.Method) && !s.sessions.CheckCSRF(token, r.Header.Get("X-CSRF-Token")) {
		return a, parley.Errorf(parley.EForbidden, "missing or invalid CSRF token")
	}
	a.User = u
	return a, nil
}

// staff returns the caller of an admin endpoint, as requireStaff identified it.
func (s *Server) staff(r *http.Request) service.Actor {
	a, _ := r.Context().Value(actorKey).(service.Actor)
	return a
}

type staffJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	Site string `json:"site"`
}

func toStaff(a service.Actor) staffJSON {
	if a.User == nil {
		return staffJSON{Name: "admin token", Role: parley.RoleAdmin}
	}
	return staffJSON{ID: a.User.ID, Name: a.User.Name, Role: a.User.Role, Site: a.User.SiteID}
}

// handleLogin serves POST /api/v1/admin/login.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if d := s.loginLimits.reserve(limitKey(s.clientIP(r)), time.Now()); d > 0 {
		s.writeRateLimited(w, r, &rateLimited{d})
		return
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, token, expires, err := s.svc.Login(r.Context(), in.Email, in.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.endOldStaffSession(r)
	s.sessions.SetStaff(w, token, expires)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"user": toStaff(service.Actor{User: u}), "csrf": s.sessions.CSRF(token)})
}

// endOldStaffSession revokes the staff session a sign-in request came with,
// if any: a sign-in always gets a new session id, and the old one stops
// working on the server (a session planted or copied before the sign-in is
// worthless). A failure is logged, not shown: the new session is good.
func (s *Server) endOldStaffSession(r *http.Request) {
	if old := s.sessions.StaffToken(r); old != "" {
		if err := s.svc.Logout(r.Context(), old); err != nil {
			s.logger.Warn("revoke the session a sign-in replaced", "error", err.Error())
		}
	}
}

// handleLogout serves POST /api/v1/admin/logout: the session is revoked on
// the server, so a copy of the cookie is worthless too.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Logout(r.Context(), s.sessions.StaffToken(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.sessions.ClearStaff(w)
	w.WriteHeader(http.StatusNoContent)
}

// handleStaffMe serves GET /api/v1/admin/me.
func (s *Server) handleStaffMe(w http.ResponseWriter, r *http.Request) {
	a := s.staff(r)
	csrf := ""
	if tok := s.sessions.StaffToken(r); tok != "" && !a.Admin {
		csrf = s.sessions.CSRF(tok)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"user": toStaff(a), "csrf": csrf})
}
