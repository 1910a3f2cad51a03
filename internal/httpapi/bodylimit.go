package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley"
)

// limitBody bounds every request body before any handler sees it: a body
// declared (Content-Length) over maxBody is refused with 413 at once,
// unread, and the connection closed; an undeclared (chunked) one is read
// through http.MaxBytesReader, which fails past maxBody, so no handler can
// read more however it reads. decode turns that failure into the same 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			s.writeError(w, r, parley.Errorf(parley.ETooLarge, "request body is %d bytes; the limit is %d", r.ContentLength, maxBody))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}
