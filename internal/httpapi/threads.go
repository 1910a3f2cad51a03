package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/service"
)

// handleThread serves GET /api/v1/threads. Anonymous readers, and signed-in
// readers without pending comments on the page, get the same cached bytes;
// what is personal (their votes) comes from GET /api/v1/me.
func (s *Server) handleThread(w http.ResponseWriter, r *http.Request) {
	var q threadQuery
	q.parse(r.URL.RawQuery)
	req := service.ThreadRequest{SiteID: q.site, URL: q.url, Sort: q.sort, Cursor: q.cursor}
	if req.SiteID == "" || req.URL == "" {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "site and url are required"))
		return
	}
	if l := q.limit; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			s.writeError(w, r, parley.Errorf(parley.EInvalid, "limit must be a number between 1 and 1000"))
			return
		}
		req.Limit = n
	}
	ctx := r.Context()
	_, canon, err := s.svc.Canonical(ctx, req.SiteID, req.URL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	viewer := s.sessions.ReaderSession(r).UserID
	key := req.SiteID + "\x00" + canon + "\x00" + req.Sort + "\x00" + strconv.Itoa(req.Limit) + "\x00" + req.Cursor
	e := s.cache.get(key)
	if e != nil && viewer != "" && e.pending[viewer] && !s.sessionOf(r, viewer) {
		viewer = "" // an ended session sees the shared view
	}
	if e != nil && (viewer == "" || !e.pending[viewer]) {
		s.metrics.cacheHit.Inc()
		s.writeCached(w, r, e)
		return
	}
	s.metrics.cacheMiss.Inc()

	// Build the shared view first (it is what almost everyone gets), then a
	// personal one only for a reader whose pending comments it lacks. The
	// page's generation is read before the data, so a write racing with this
	// build keeps the result out of the cache.
	req.URL = canon
	pageKey := req.SiteID + "\x00" + canon
	pid := s.cache.pageOf(pageKey)
	gen := s.cache.generation(pid)
	v, err := s.svc.Thread(ctx, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v.Page.ID != pid && v.Page.ID != 0 {
		// First sight of this page: learn its id and read again under its
		// generation.
		s.cache.learn(pageKey, v.Page.ID)
		gen = s.cache.generation(v.Page.ID)
		if v, err = s.svc.Thread(ctx, req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	body, err := marshal(s.threadBody(r, v))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e = newCached(v.Page.ID, body, v.PendingAuthors)
	if v.Page.ID != 0 {
		s.cache.put(key, gen, e)
	}
	// Their own held comments only for a session that still counts (not
	// signed out everywhere, not ended by a ban): the others get the
	// shared view.
	if viewer != "" && v.PendingAuthors[viewer] && s.sessionOf(r, viewer) {
		req.Viewer = viewer
		pv, err := s.svc.Thread(ctx, req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
		writeJSON(w, http.StatusOK, s.threadBody(r, pv))
		return
	}
	s.writeCached(w, r, e)
}

func (s *Server) threadBody(r *http.Request, v *service.ThreadView) threadJSON {
	out := threadJSON{Page: toPage(v.Page, v.Site, v.Closed), Comments: make([]commentJSON, 0, len(v.Thread.Comments)), Cursor: v.Thread.Cursor}
	for _, c := range v.Thread.Comments {
		var qn int
		q := v.Quotes[c.QuoteID]
		if c.QuoteID != 0 && q == nil {
			qn = s.svc.QuotedNumber(r.Context(), c.QuoteID)
		}
		cj := toComment(c, q, qn)
		if b := v.Badges[c.AuthorID]; b != "" && cj.Author != nil {
			cj.Author.Badge = b
		}
		if p := v.Pictures[c.AuthorID]; p != "" && cj.Author != nil {
			cj.Author.Picture = p
		}
		out.Comments = append(out.Comments, cj)
	}
	return out
}

// writeCached answers from cached bytes: 304 when the reader has them,
// gzipped when the reader accepts it.
func (s *Server) writeCached(w http.ResponseWriter, r *http.Request, e *cachedThread) {
	h := w.Header()
	ct := e.contentType
	if ct == "" {
		ct = "application/json; charset=utf-8" // nosniff: securityHeaders
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", e.etag)
	h.Set("Last-Modified", e.lastModified)
	h.Add("Vary", "Accept-Encoding") // after cors's "Origin"
	// Browsers revalidate every time (a 304 is cheap) so a reader who just
	// acted sees the result. A CDN in front may keep the shared bytes a few
	// seconds and serve them stale while it revalidates (RFC 9213 targeted
	// caching; stale-while-revalidate in Cache-Control would let browsers
	// show a stale thread too); the live stream covers freshness.
	h.Set("Cache-Control", "no-cache")
	h.Set("CDN-Cache-Control", "public, max-age=5, stale-while-revalidate=30")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatch(inm, e.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && !e.built.After(parseHTTPTime(ims)) {
		// Compared at full precision: a response rebuilt within the same
		// second as the client's copy is newer, never a 304.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, length := e.body, e.bodyLen
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body, length = e.gz, e.gzLen
	}
	h.Set("Content-Length", length)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == etag || t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") || strings.Contains(params, "q=0.")
		}
	}
	return false
}

// handleCounts serves GET /api/v1/counts?site=S&url=U1&url=U2….
func (s *Server) handleCounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	urls := q["url"]
	if q.Get("site") == "" || len(urls) == 0 {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "site and at least one url are required"))
		return
	}
	if len(urls) > 200 {
		s.writeError(w, r, parley.Errorf(parley.EInvalid, "at most 200 urls per request"))
		return
	}
	counts, err := s.svc.Counts(r.Context(), q.Get("site"), urls)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts})
}

// handleMe serves GET /api/v1/me?site=S&url=U: the signed-in reader's
// identity and votes on the page, the small personal overlay on the shared
// thread.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Cache-Control", "private, no-store")
	u, err := s.reader(r)
	if err != nil && auth.BearerToken(r) != "" {
		// A publisher's token that is refused says why (the cookie
		// reader's failures stay silent, as before).
		s.writeError(w, r, err)
		return
	}
	if err != nil || u == nil {
		writeJSON(w, http.StatusOK, map[string]any{"me": nil})
		return
	}
	votes := map[string]int{}
	if q.Get("site") != "" && q.Get("url") != "" {
		vs, err := s.svc.Me(r.Context(), u, q.Get("site"), q.Get("url"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for id, v := range vs {
			votes[strconv.FormatInt(id, 10)] = v
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"me": map[string]any{"id": u.ID, "name": u.Name, "role": u.Role, "badge": u.Badge(), "sso": service.IsSSOReader(u.ID), "votes": votes,
		"picture": u.Picture, "own_name": u.OwnName}})
}

// parseHTTPTime parses an HTTP date; an unparsable one reads as the zero
// time, older than every response, so it never makes a 304.
func parseHTTPTime(v string) time.Time {
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// threadQuery is the query of GET /api/v1/threads. parse reads what
// url.ParseQuery would give for its keys (each one's first value) without
// building a map: on a cached read, parsing the query was a sixth of
// Parley's work. FuzzThreadQuery holds it to url.ParseQuery.
type threadQuery struct{ site, url, sort, limit, cursor string }

func (q *threadQuery) parse(raw string) {
	var seen uint8 // a bit per key: its first value is kept
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if strings.Contains(pair, ";") {
			continue // url.ParseQuery refuses the pair
		}
		key, value, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(key, "%+") {
			// An escaped key: rare enough to leave to the library.
			q.parseSlow(raw)
			return
		}
		dst, bit := q.field(key)
		if dst == nil || seen&bit != 0 {
			continue
		}
		if strings.ContainsAny(value, "%+") {
			v, err := url.QueryUnescape(value)
			if err != nil {
				continue // skipped, as url.ParseQuery does
			}
			value = v
		}
		seen |= bit
		*dst = value
	}
}

// field returns where the value of key goes and the key's bit, or nil for
// a key the thread query does not read.
func (q *threadQuery) field(key string) (*string, uint8) {
	switch key {
	case "site":
		return &q.site, 1
	case "url":
		return &q.url, 2
	case "sort":
		return &q.sort, 4
	case "limit":
		return &q.limit, 8
	case "cursor":
		return &q.cursor, 16
	}
	return nil, 0
}

func (q *threadQuery) parseSlow(raw string) {
	v, _ := url.ParseQuery(raw)
	*q = threadQuery{site: v.Get("site"), url: v.Get("url"), sort: v.Get("sort"), limit: v.Get("limit"), cursor: v.Get("cursor")}
}

// sessionOf reports whether the request's reader session, of id, still
// counts (see reader).
func (s *Server) sessionOf(r *http.Request, id string) bool {
	u, err := s.reader(r)
	return err == nil && u != nil && u.ID == id
}
