package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the caller's IP. Without trusted proxies it is the socket
// peer. When the peer is one of the configured proxies, it is the right-most
// X-Forwarded-For address that is not itself a trusted proxy: the address
// the outermost trusted proxy saw; everything left of it was written by the
// client and proves nothing. X-Real-IP counts only without X-Forwarded-For.
// A peer that is no trusted proxy cannot name another client.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(s.trustProxy) == 0 || !s.trustProxy.Contains(peer) {
		return host
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		parts := strings.Split(strings.Join(xff, ","), ",")
		client := peer
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				break // garbage: trust nothing further left
			}
			client = a.Unmap()
			if !s.trustProxy.Contains(client) {
				break
			}
		}
		return client.String()
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
		return a.Unmap().String()
	}
	return host
}

// limitKey is the key an address is rate-limited under: an IPv4 address
// itself, an IPv6 address its /64, which one subscriber usually holds whole
// (so rotating through it buys no more budget).
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
