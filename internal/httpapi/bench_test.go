package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// discard is a ResponseWriter that keeps nothing, so that the benchmark
// measures the handler and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkThreadHit measures what Parley adds to writing cached bytes: a
// thread read that hits the page cache, through every middleware, gzipped,
// with no network. Profile it with
//
//	go test ./internal/httpapi -run '^$' -bench ThreadHit -benchmem -cpuprofile hit.prof
func BenchmarkThreadHit(b *testing.B) {
	e := newEnv(b, envOpts{})
	r := e.reader("ann")
	for i := range 50 {
		if res := r.post("A comment worth reading, number "+strconv.Itoa(i), nil); res.status != 201 {
			b.Fatalf("post: %d %s", res.status, res.body)
		}
	}
	h := e.srv.Handler()
	req := httptest.NewRequest("GET", "/api/v1/threads?site=news&url="+escape(articleURL), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Origin", siteOrigin)
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req) // fills the cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
