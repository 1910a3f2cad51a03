package outbound

import (
	"fmt"
	"net/netip"
	"strings"
)

// Allowlist is the operator's list of hosts and address ranges that outbound
// requests may reach although they are not public: "idp.internal",
// "*.corp.example" (any name under it), "10.1.2.3", "10.0.0.0/8", "fd12::/16".
// A host name is trusted as named: whatever it resolves to is dialled. The
// zero Allowlist allows nothing beyond the public internet.
type Allowlist struct {
	hosts    map[string]bool // exact names, lower case
	suffixes []string        // ".corp.example" for "*.corp.example"
	prefixes []netip.Prefix
	entries  []string // as written, for String
}

// ParseAllowlist parses a comma-separated list of entries (blanks ignored).
func ParseAllowlist(s string) (Allowlist, error) {
	var l Allowlist
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			if err := l.add(e); err != nil {
				return Allowlist{}, err
			}
		}
	}
	return l, nil
}

func (l *Allowlist) add(e string) error {
	lower := strings.ToLower(e)
	switch {
	case strings.Contains(e, "/"):
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return fmt.Errorf("outbound allow-list: %q is not a CIDR range like 10.0.0.0/8", e)
		}
		l.prefixes = append(l.prefixes, p.Masked())
	case isAddr(e):
		a, _ := netip.ParseAddr(strings.Trim(e, "[]"))
		l.prefixes = append(l.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	case strings.HasPrefix(lower, "*."):
		if !validHost(lower[2:]) {
			return fmt.Errorf("outbound allow-list: %q is not a host name pattern like *.corp.example", e)
		}
		l.suffixes = append(l.suffixes, lower[1:])
	default:
		if !validHost(lower) {
			return fmt.Errorf("outbound allow-list: %q is not a host name, address or CIDR range", e)
		}
		if l.hosts == nil {
			l.hosts = make(map[string]bool)
		}
		l.hosts[strings.TrimSuffix(lower, ".")] = true
	}
	l.entries = append(l.entries, e)
	return nil
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}

func validHost(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// String returns the list as ParseAllowlist reads it.
func (l Allowlist) String() string { return strings.Join(l.entries, ",") }

// Set parses s into l, so that an Allowlist is a flag.Value.
func (l *Allowlist) Set(s string) error {
	v, err := ParseAllowlist(s)
	if err == nil {
		*l = v
	}
	return err
}

// Empty reports whether the list allows nothing.
func (l Allowlist) Empty() bool { return len(l.entries) == 0 }

// host reports whether host name h is listed.
func (l Allowlist) host(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if l.hosts[h] {
		return true
	}
	for _, s := range l.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// addr reports whether address a lies in a listed range.
func (l Allowlist) addr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
