package httpapi_test

import (
	"strings"
	"testing"
)

// TestSecurityHeaders proves promise 8 over the routes, one row per
// response class: every response is nosniff with a Referrer-Policy; each
// class has its Content-Security-Policy and frame-ancestors (only the demo
// pages may be framed, by the demo site's own origin); personal responses
// and responses that set a session cookie are never cached.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, envOpts{demo: true})
	e.addStaff("admin", "", "boss@example.com")
	mod := e.signIn("boss@example.com")
	anon := e.reader("Ann")
	if res := anon.post("hello", nil); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	u := escape(articleURL)
	tests := []struct {
		name, method, path string
		as                 *reader
		body               any
		hdr                []string
		csp                []string // directives the CSP must contain
		frame              string   // its frame-ancestors
		noStore            bool     // Cache-Control must say no-store
	}{
		{"thread JSON", "GET", "/api/v1/threads?site=news&url=" + u, anon, nil, nil, []string{"default-src 'none'", "sandbox"}, "'none'", false},
		{"counts JSON", "GET", "/api/v1/counts?site=news&url=" + u, anon, nil, nil, []string{"default-src 'none'", "sandbox"}, "'none'", false},
		{"me (personal)", "GET", "/api/v1/me?site=news&url=" + u, anon, nil, nil, []string{"default-src 'none'"}, "'none'", true},
		{"post (sets the reader cookie)", "POST", "/api/v1/comments", e.reader("Bo"), map[string]any{"site": "news", "url": articleURL, "text": "hi", "name": "Bo"}, nil, []string{"default-src 'none'"}, "'none'", true},
		{"API error", "GET", "/api/v1/nope", anon, nil, nil, []string{"default-src 'none'", "sandbox"}, "'none'", false},
		{"admin login (session)", "POST", "/api/v1/admin/login", e.reader(""), map[string]any{"email": "boss@example.com", "password": staffPassword}, nil, []string{"default-src 'none'"}, "'none'", true},
		{"admin me", "GET", "/api/v1/admin/me", mod.reader, nil, nil, []string{"default-src 'none'"}, "'none'", true},
		{"admin queue by token", "GET", "/api/v1/admin/queue?site=news", anon, nil, bearer, []string{"default-src 'none'"}, "'none'", true},
		{"admin sites", "GET", "/api/v1/admin/sites", anon, nil, bearer, []string{"default-src 'none'"}, "'none'", true},
		{"admin refused", "GET", "/api/v1/admin/queue?site=news", anon, nil, nil, []string{"default-src 'none'"}, "'none'", true},
		{"admin policy", "GET", "/api/v1/admin/sites/news/policy", anon, nil, bearer, []string{"default-src 'none'"}, "'none'", true},
		{"widget script", "GET", "/embed.js", anon, nil, nil, []string{"default-src 'none'"}, "'none'", false},
		{"admin UI page", "GET", "/admin/", anon, nil, nil, []string{"script-src 'self'", "default-src 'none'", "base-uri 'none'"}, "'none'", false},
		{"admin UI script", "GET", "/admin/admin.js", anon, nil, nil, []string{"default-src 'none'"}, "'none'", false},
		{"demo page", "GET", "/demo", anon, nil, nil, []string{"script-src 'self'", "default-src 'none'", "base-uri 'none'"}, "'self'", false},
		{"demo policy", "GET", "/demo/policy", anon, nil, nil, []string{"default-src 'none'"}, "'self'", false},
		{"index", "GET", "/", anon, nil, nil, []string{"default-src 'none'"}, "'none'", false},
		{"health", "GET", "/healthz", anon, nil, nil, []string{"default-src 'none'"}, "'none'", true},
		{"metrics", "GET", "/metrics", anon, nil, nil, []string{"default-src 'none'"}, "'none'", false},
		{"not found page", "GET", "/nothing-here", anon, nil, nil, []string{"default-src 'none'"}, "'none'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.as.do(tt.method, tt.path, tt.body, tt.hdr...)
			if res.status >= 500 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			h := res.header
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := h.Get("Referrer-Policy"); got == "" || got == "unsafe-url" {
				t.Errorf("Referrer-Policy = %q", got)
			}
			csp := h.Values("Content-Security-Policy")
			if len(csp) != 1 {
				t.Fatalf("Content-Security-Policy: %q, want exactly one", csp)
			}
			for _, d := range tt.csp {
				if !strings.Contains(csp[0], d) {
					t.Errorf("CSP %q lacks %q", csp[0], d)
				}
			}
			if fa := directive(csp[0], "frame-ancestors"); fa != tt.frame {
				t.Errorf("frame-ancestors = %q, want %q (CSP %q)", fa, tt.frame, csp[0])
			}
			for _, bad := range []string{"'unsafe-eval'", "script-src *", "'unsafe-inline' 'self'; script"} {
				if strings.Contains(csp[0], bad) {
					t.Errorf("CSP %q allows %s", csp[0], bad)
				}
			}
			cc := h.Get("Cache-Control")
			if tt.noStore && !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control = %q, want no-store on a personal response", cc)
			}
			if len(h.Values("Set-Cookie")) > 0 && (!strings.Contains(cc, "no-store") || h.Get("CDN-Cache-Control") != "") {
				t.Errorf("a response setting a cookie is cacheable: Cache-Control %q, CDN-Cache-Control %q", cc, h.Get("CDN-Cache-Control"))
			}
		})
	}
}

// directive returns the value of one directive of a CSP, "" when absent.
func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if v, ok := strings.CutPrefix(d, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
