package httpapi

import (
	"net/http"
	"strings"
)

// Content-Security-Policy per response class. Handlers of HTML pages set
// their own (the admin UI web.AdminCSP, the demo page web.DemoCSP plus
// frame-ancestors); these are the defaults for everything else.
const (
	// apiCSP: a JSON or text response opened as a document runs nothing,
	// loads nothing and cannot be framed.
	apiCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
	// widgetCSP: the widget script, loaded by publishers' pages with
	// <script src>; the policy applies only should it be opened directly.
	widgetCSP = "default-src 'none'; frame-ancestors 'none'"
	// pageCSP is Parley's own small HTML pages (the index). No page of
	// Parley's is framed by a site: the widget renders into the
	// publisher's page itself, not into an iframe.
	pageCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// feedCSP: RSS and Atom feeds are data for feed readers; opened in a
	// browser they show as an XML tree in which each comment's HTML is
	// escaped text. Nothing runs, loads or frames them.
	feedCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
	// demoFrameAncestors: the demo article and its policy may be framed by
	// the demo site's origins, which are the server's own.
	demoFrameAncestors = "frame-ancestors 'self'"
)

// personal reports whether a path's responses are about the caller (the
// reader's identity and votes, anything of the admin API): never stored by
// a cache, shared or not.
func personal(path string) bool {
	return path == "/api/v1/me" || path == "/api/v1/me/mail" || path == "/api/v1/me/export" || adminPath(path)
}

// securityHeaders sets the headers every response carries: nosniff, a
// Referrer-Policy, a default Content-Security-Policy for its class,
// X-Frame-Options beside frame-ancestors for old browsers, and
// Cache-Control: private, no-store on personal responses and on any
// response that sets a cookie (a session's), whatever the handler set.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/api/v1/feeds/"):
			h.Set("Content-Security-Policy", feedCSP)
			h.Set("X-Frame-Options", "DENY")
		case strings.HasPrefix(p, "/api/"), p == "/healthz", p == "/readyz", p == "/metrics":
			h.Set("Content-Security-Policy", apiCSP)
			h.Set("X-Frame-Options", "DENY")
		case p == "/embed.js":
			h.Set("Content-Security-Policy", widgetCSP)
		case p == "/demo", p == "/demo/policy":
			h.Set("Content-Security-Policy", "default-src 'none'; "+demoFrameAncestors)
			h.Set("X-Frame-Options", "SAMEORIGIN")
		default:
			h.Set("Content-Security-Policy", pageCSP)
			h.Set("X-Frame-Options", "DENY")
		}
		if personal(p) {
			h.Set("Cache-Control", "private, no-store")
		}
		next.ServeHTTP(&cookieGuard{ResponseWriter: w}, r)
	})
}

// cookieGuard makes a response that sets a cookie uncacheable, as it goes
// out: a cached Set-Cookie would hand one reader's session to the next.
type cookieGuard struct {
	http.ResponseWriter
	wrote bool
}

func (g *cookieGuard) WriteHeader(code int) {
	if !g.wrote {
		g.wrote = true
		if h := g.Header(); len(h.Values("Set-Cookie")) > 0 {
			h.Set("Cache-Control", "private, no-store")
			h.Del("CDN-Cache-Control")
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *cookieGuard) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (for streams).
func (g *cookieGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }
