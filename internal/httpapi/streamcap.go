package httpapi

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/config"
)

// streamCaps counts the open event streams, on the instance and per client
// address (IPv6 per /64), so that long-lived connections nobody closes
// cannot exhaust the server's file descriptors and memory.
type streamCaps struct {
	max, perIP int

	mu    sync.Mutex
	total int
	byIP  map[string]int
}

func newStreamCaps(max, perIP int) *streamCaps {
	if max <= 0 {
		max = config.DefaultMaxStreams
	}
	if perIP <= 0 {
		perIP = config.DefaultMaxStreamsPerIP
	}
	return &streamCaps{max: max, perIP: perIP, byIP: make(map[string]int)}
}

// acquire counts a new stream from key, or reports false when a cap is
// reached.
func (c *streamCaps) acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= c.max || c.byIP[key] >= c.perIP {
		return false
	}
	c.total++
	c.byIP[key]++
	return true
}

func (c *streamCaps) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.byIP[key]--; c.byIP[key] <= 0 {
		delete(c.byIP, key)
	}
}

// streamRetry is the Retry-After of a stream refused for a cap: the
// widget's EventSource retries on its own; this spaces the retries out.
const streamRetry = 30

// capStreams admits an event stream while the caps allow, else answers 429
// with Retry-After.
func (s *Server) capStreams(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := limitKey(s.clientIP(r))
		if !s.streamCaps.acquire(key) {
			w.Header().Set("Retry-After", strconv.Itoa(streamRetry))
			s.writeError(w, r, parley.Errorf(parley.ERateLimited, "Too many open live-update streams: try again in %d seconds.", streamRetry))
			return
		}
		defer s.streamCaps.release(key)
		next(w, r)
	}
}
