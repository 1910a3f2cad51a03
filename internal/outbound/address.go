package outbound

import (
	"fmt"
	"net/netip"
)

// A BlockedError is returned, wrapped in the *url.Error of the request, when
// a request would reach an address that outbound requests may not: the
// address as resolved and the class it belongs to.
type BlockedError struct {
	Addr   netip.Addr
	Reason string // e.g. "loopback", "private (RFC 1918)", "cloud metadata"
	Host   string // the host name being dialled, when known
}

func (e *BlockedError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("outbound: refusing %s (%s): %s address", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("outbound: refusing %s: %s address", e.Addr, e.Reason)
}

// class is a range of addresses refused, with the name it is refused under.
type class struct {
	prefix netip.Prefix
	reason string
}

func mustPrefixes(reason string, cidrs ...string) []class {
	out := make([]class, len(cidrs))
	for i, c := range cidrs {
		out[i] = class{netip.MustParsePrefix(c), reason}
	}
	return out
}

// metadata lists cloud instance-metadata endpoints. Most lie inside a class
// refused anyway; they are named first so that a refusal says what it
// protected.
var metadata = mustPrefixes("cloud metadata",
	"169.254.169.254/32", // AWS, GCP, Azure, OpenStack, DigitalOcean …
	"169.254.170.2/32",   // AWS ECS task metadata
	"169.254.169.123/32", // AWS time sync
	"100.100.100.200/32", // Alibaba Cloud
	"192.0.0.192/32",     // Oracle Cloud (classic)
	"fd00:ec2::254/128",  // AWS IMDS over IPv6
	"fd00:ec2::23/128",   // AWS DNS over IPv6
	"fd20:ce::254/128",   // GCP (IPv6 metadata)
)

// refused4 are the IPv4 ranges that are not the public internet (RFC 6890
// and its updates), in the order they are reported.
var refused4 = concat(
	metadata[:5],
	mustPrefixes("unspecified (this network)", "0.0.0.0/8"),
	mustPrefixes("loopback", "127.0.0.0/8"),
	mustPrefixes("private (RFC 1918)", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
	mustPrefixes("carrier-grade NAT (RFC 6598)", "100.64.0.0/10"),
	mustPrefixes("link-local", "169.254.0.0/16"),
	mustPrefixes("IETF protocol assignments", "192.0.0.0/24"),
	mustPrefixes("documentation", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
	mustPrefixes("benchmarking", "198.18.0.0/15"),
	mustPrefixes("6to4 relay anycast", "192.88.99.0/24"),
	mustPrefixes("multicast", "224.0.0.0/4"),
	mustPrefixes("reserved", "240.0.0.0/4"), // includes 255.255.255.255, broadcast
)

// refused6 are the IPv6 ranges refused outright. Ranges that embed an IPv4
// address (mapped, compatible, NAT64, 6to4, Teredo) are judged by the IPv4
// address they carry, in check.
var refused6 = concat(
	metadata[5:],
	mustPrefixes("unspecified", "::/128"),
	mustPrefixes("loopback", "::1/128"),
	mustPrefixes("discard-only (RFC 6666)", "100::/64"),
	mustPrefixes("local-use NAT64 (RFC 8215)", "64:ff9b:1::/48"),
	// Teredo tunnels embed the client's and the relay's IPv4 addresses; no
	// server Parley fetches from is reached through one.
	mustPrefixes("Teredo", "2001::/32"),
	mustPrefixes("IETF protocol assignments", "2001::/23"),
	mustPrefixes("documentation", "2001:db8::/32", "3fff::/20"),
	mustPrefixes("unique-local (fc00::/7)", "fc00::/7"),
	mustPrefixes("site-local (deprecated)", "fec0::/10"),
	mustPrefixes("link-local", "fe80::/10"),
	mustPrefixes("multicast", "ff00::/8"),
)

// Ranges of IPv6 that carry an IPv4 address.
var (
	mapped4     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped
	translated4 = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated
	compatible4 = netip.MustParsePrefix("::/96")           // IPv4-compatible (deprecated)
	nat64       = netip.MustParsePrefix("64:ff9b::/96")    // well-known NAT64 prefix
	sixToFour   = netip.MustParsePrefix("2002::/16")       // 6to4: the IPv4 in bits 16–48
	global6     = netip.MustParsePrefix("2000::/3")        // global unicast
)

func concat(lists ...[]class) []class {
	var out []class
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Check returns a *BlockedError when outbound requests may not reach a: any
// address that is not public unicast on the internet, and any IPv6 address
// that carries such an IPv4 address. It is what every dial of the client
// runs on the resolved address; exported for callers that want to vet an
// address before they store it (a webhook URL with a literal address).
func Check(a netip.Addr) error {
	if reason := refusal(a); reason != "" {
		return &BlockedError{Addr: a, Reason: reason}
	}
	return nil
}

// refusal names the class a belongs to, "" when a is public.
func refusal(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid"
	}
	a = a.WithZone("")
	if a.Is4() {
		for _, c := range refused4 {
			if c.prefix.Contains(a) {
				return c.reason
			}
		}
		return ""
	}
	for _, c := range refused6 {
		if c.prefix.Contains(a) {
			return c.reason
		}
	}
	b := a.As16()
	var embedded netip.Addr
	via := ""
	switch {
	case mapped4.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-mapped"
	case translated4.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-translated"
	case compatible4.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-compatible"
	case nat64.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[12:16])), "NAT64"
	case sixToFour.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[2:6])), "6to4"
	case !global6.Contains(a):
		return "reserved"
	default:
		return ""
	}
	if r := refusal(embedded); r != "" {
		return via + " " + r
	}
	if via == "IPv4-compatible" || via == "IPv4-translated" {
		return via + " (not routed)"
	}
	return ""
}
