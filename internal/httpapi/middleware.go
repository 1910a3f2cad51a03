package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
)

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	id     uint64 // the request's number in this process
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for streams).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request an id, recovers panics into a 500, and
// logs method, path (never the query: it may carry tokens), status and time.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, id: requestSeq.Add(1)}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
			if s.logger.Enabled(r.Context(), slog.LevelDebug) {
				s.logger.Debug("request", "request_id", sw.requestID(), "method", r.Method, "path", r.URL.Path,
					"status", sw.status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// cors answers preflights and sets CORS headers for the sites' origins only,
// with credentials so the reader's session cookie travels with the widget's
// requests. A state-changing request from a browser on any other origin is
// refused: together with requiring application/json bodies (which a plain
// cross-site form cannot send) this is Parley's CSRF protection for the
// public API.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		// The admin API answers Parley's own origin only: a script on a
		// site's pages must not read a moderator's CSRF token.
		allowed := origin != "" && (strings.EqualFold(origin, s.baseOrigin) || (!adminPath(r.URL.Path) && s.origins.allowed(origin)))
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// Whether the CORS headers are there depends on Origin, with
			// or without one: a shared cache must keep them apart.
			w.Header()["Vary"] = []string{"Origin"}
		}
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				s.writeError(w, r, parley.Errorf(parley.EForbidden, "origin %q may not use this API", origin))
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Last-Event-ID, X-CSRF-Token, Idempotency-Key")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		if unsafe && origin != "" && !allowed && auth.BearerToken(r) == "" {
			s.writeError(w, r, parley.Errorf(parley.EForbidden, "origin %q may not use this API", origin))
			return
		}
		next.ServeHTTP(w, r)
	})
}
