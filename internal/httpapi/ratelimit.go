package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/service"
)

// limiters holds one token bucket per key (a reader id or an IP), created on
// first use and forgotten after they sit full and idle.
type limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*limiterEntry
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiters(r config.Rate) *limiters {
	return &limiters{
		every: rate.Limit(float64(r.N) / r.Per.Seconds()),
		burst: r.Burst,
		m:     make(map[string]*limiterEntry),
	}
}

// reserve takes one token for key and returns how long the caller must wait
// when none is left (0 when allowed).
func (ls *limiters) reserve(key string, now time.Time) time.Duration {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	e := ls.m[key]
	if e == nil {
		e = &limiterEntry{l: rate.NewLimiter(ls.every, ls.burst)}
		ls.m[key] = e
	}
	e.seen = now
	res := e.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// sweep forgets limiters idle long enough to have refilled.
func (ls *limiters) sweep(now time.Time) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	idle := time.Duration(float64(ls.burst)/float64(ls.every)*float64(time.Second)) + time.Minute
	for k, e := range ls.m {
		if now.Sub(e.seen) > idle {
			delete(ls.m, k)
		}
	}
}

// limitPair limits one kind of write per reader and per IP.
type limitPair struct {
	reader, ip *limiters
}

func newLimitPair(r config.Rate) limitPair {
	return limitPair{reader: newLimiters(r), ip: newLimiters(r)}
}

type rateLimited struct {
	wait time.Duration
}

func (e *rateLimited) Error() string { return "rate limited" }

// limit charges one write to the actor and their IP. Staff and the admin
// token are not limited.
func (s *Server) limit(r *http.Request, a service.Actor, p limitPair) error {
	if !s.rateLimit || a.Admin || (a.User != nil && a.User.IsStaff()) {
		return nil
	}
	now := time.Now()
	if a.User != nil {
		if d := p.reader.reserve(a.User.ID, now); d > 0 {
			return &rateLimited{d}
		}
	}
	if d := p.ip.reserve(limitKey(a.IP), now); d > 0 {
		return &rateLimited{d}
	}
	return nil
}

func (s *Server) writeRateLimited(w http.ResponseWriter, r *http.Request, err error) {
	secs := 1
	if rl, ok := err.(*rateLimited); ok {
		secs = int(math.Ceil(rl.wait.Seconds()))
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, parley.Errorf(parley.ERateLimited, "Too many requests: try again in %d seconds.", secs))
}
