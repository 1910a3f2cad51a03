package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley/web"
)

// handleEmbedJS serves the widget script (with its stylesheet inlined).
func (s *Server) handleEmbedJS(w http.ResponseWriter, r *http.Request) {
	web.Script().ServeHTTP(w, r)
}

// handleDemo serves the demo article page, when the server runs with --demo.
func (s *Server) handleDemo(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" {
		http.NotFound(w, r)
		return
	}
	// The seeded thread is at the base URL's /demo: the page says so, so
	// that opening it as localhost instead of 127.0.0.1 shows the same one.
	page, err := web.DemoPageAt(s.demoSite, s.baseOrigin+"/demo")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", web.DemoCSP+"; "+demoFrameAncestors)
	h.Set("Cache-Control", "no-cache")
	w.Write(page)
}

// handleDemoPublisherJS serves the demo page's pretend publisher sign-in.
func (s *Server) handleDemoPublisherJS(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" || s.demoPublisher == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(web.DemoPublisherJS)
}

// handleDemoSSOToken is the demo publisher's backend (see
// Options.DemoPublisher), not part of Parley's API.
func (s *Server) handleDemoSSOToken(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" || s.demoPublisher == nil {
		http.NotFound(w, r)
		return
	}
	s.demoPublisher.ServeHTTP(w, r)
}

// handleDemoPolicy serves the demo site's comment policy.
func (s *Server) handleDemoPolicy(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "+demoFrameAncestors)
	w.Write([]byte(demoPolicy))
}

// handleIndex serves a short page pointing at what the server offers.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	body := `<!doctype html><meta charset="utf-8"><title>Parley</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>
<h1>Parley</h1><p>Comments and moderation for news sites.</p><ul>`
	if s.demoSite != "" {
		body += `<li><a href="/demo">Demo article with comments</a></li>`
	}
	body += `<li><a href="/healthz">Health</a></li></ul>`
	w.Write([]byte(body))
}

const demoPolicy = `<!doctype html><meta charset="utf-8"><title>Comment policy — Parley demo</title>
<style>body{font:17px/1.6 Georgia,serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style>
<h1>Our comment policy</h1>
<p>We welcome robust debate. We do not publish comments that:</p>
<ul>
<li>abuse, insult or threaten anyone, including other readers and the people in our stories;</li>
<li>attack people for their religion, ethnicity, nationality, gender, sexuality or disability — criticism of ideas is welcome, hatred of groups is not;</li>
<li>use profanity aimed at others, or spam and advertising;</li>
<li>reveal personal information about anyone.</li>
</ul>
<p>Some comments are held for a moderator before they appear; most appear at once.
Use “Report abuse” on any comment that breaks these rules. Moderators review reports,
and repeated or weaponised reports count for less.</p>
<p><a href="/demo">Back to the article</a></p>`
