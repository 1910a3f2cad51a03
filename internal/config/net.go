package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// HTTP server limits, shared by whatever builds Parley's http.Server: a
// client that sends its request headers slower than HeaderTimeout
// (slowloris) is cut off, as is one that takes longer than ReadTimeout for
// the whole request or sits idle on a keep-alive connection past
// IdleTimeout. Event streams clear their write deadline themselves.
const (
	DefaultHeaderTimeout = 10 * time.Second
	ReadTimeout          = 30 * time.Second
	WriteTimeout         = 60 * time.Second
	IdleTimeout          = 120 * time.Second
	MaxHeaderBytes       = 64 << 10
)

// Default caps on open server-sent event streams (/api/v1/stream and the
// admin stream): over either, a new stream gets 429 with Retry-After.
const (
	DefaultMaxStreams      = 10000 // on one instance
	DefaultMaxStreamsPerIP = 16    // from one client address (an IPv6 /64)
)

// Proxies are the addresses of the reverse proxies whose X-Forwarded-For
// (or X-Real-IP) Parley believes. Empty, the socket peer is the client.
type Proxies []netip.Prefix

// loopback is what "on" means: a proxy on the same machine.
var loopback = Proxies{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseProxies parses --trust-proxy: "off" (or empty) trusts no proxy, "on"
// a proxy on loopback only, else a comma-separated list of addresses and
// CIDR ranges, e.g. "10.0.0.0/8,fd00::/8".
func ParseProxies(s string) (Proxies, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if on, err := boolEnv(s); err == nil {
		if on {
			return append(Proxies(nil), loopback...), nil
		}
		return nil, nil
	}
	var out Proxies
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("trust-proxy: %q is not an address or CIDR range", e)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("trust-proxy: %q is not on, off, an address or a CIDR range", e)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Contains reports whether a is one of the proxies.
func (p Proxies) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// String formats p as ParseProxies reads it.
func (p Proxies) String() string {
	if len(p) == 0 {
		return "off"
	}
	s := make([]string, len(p))
	for i, pre := range p {
		s[i] = pre.String()
	}
	return strings.Join(s, ",")
}

// proxiesValue adapts *Proxies to flag.Value; as a boolean flag, a bare
// --trust-proxy means "on" as it always did.
type proxiesValue struct{ p *Proxies }

func (v proxiesValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v proxiesValue) Set(s string) error {
	p, err := ParseProxies(s)
	if err == nil {
		*v.p = p
	}
	return err
}

func (v proxiesValue) IsBoolFlag() bool { return true }
