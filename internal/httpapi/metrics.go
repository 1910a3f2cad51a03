package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, on a registry of their own
// (no global state), served at /metrics.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	errors    *prometheus.CounterVec
	cacheHits *prometheus.CounterVec

	// The series every request touches, looked up once: resolving label
	// values hashes them on every call, which on a cached thread read cost
	// as much as the rest of Parley's own work.
	cacheHit, cacheMiss prometheus.Counter
	series              sync.Map // requestSeries → prometheus.Counter
	observers           sync.Map // route → prometheus.Observer
}

// requestSeries names one series of parley_http_requests_total.
type requestSeries struct {
	route, method string
	code          int
}

// count adds a request to its series.
func (m *metrics) count(route, method string, code int) {
	k := requestSeries{route, method, code}
	c, ok := m.series.Load(k)
	if !ok {
		c, _ = m.series.LoadOrStore(k, m.requests.WithLabelValues(route, method, strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
}

// observe records a request's latency under its route.
func (m *metrics) observe(route string, d time.Duration) {
	o, ok := m.observers.Load(route)
	if !ok {
		o, _ = m.observers.LoadOrStore(route, m.latency.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern (streams excluded).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_errors_total",
			Help: "Server-side failures by code (internal: a bug or store error; unavailable: the database is unreachable).",
		}, []string{"code"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_thread_cache_total",
			Help: "Thread reads answered from the per-page cache (hit) or built (miss).",
		}, []string{"result"}),
	}
	m.cacheHit, m.cacheMiss = m.cacheHits.WithLabelValues("hit"), m.cacheHits.WithLabelValues("miss")
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.cacheHits, queueCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_open_streams",
			Help: "Open server-sent event streams.",
		}, func() float64 { return float64(s.streams.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_thread_cache_bytes",
			Help: "Bytes of rendered thread responses held in the cache.",
		}, func() float64 { return float64(s.cache.bytes()) }),
	)
	return m
}

// instrument counts and times every request by its route pattern (not its
// path, which would make one series per comment id).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.count(route, r.Method, code)
		if route != "GET /api/v1/stream" && route != "GET /api/v1/admin/stream" {
			s.metrics.observe(route, time.Since(start))
		}
	})
}

// handleMetrics serves GET /metrics in the Prometheus text format.
func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// queueCollector reports each site's moderation queue sizes when scraped,
// read from the store (bounded by a short timeout so a slow database cannot
// hang the scrape).
type queueCollector struct{ s *Server }

var queueDesc = prometheus.NewDesc("parley_queue_size",
	"Comments in each moderation queue, by site and queue.", []string{"site", "queue"}, nil)

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sizes, err := c.s.svc.QueueSizes(ctx)
	if err != nil {
		c.s.metrics.errors.WithLabelValues(parley.ErrorCode(err)).Inc()
		return
	}
	for site, counts := range sizes {
		for q, n := range counts {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), site, q)
		}
	}
}
