package outbound

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// refusedAddrs enumerates the address classes outbound requests refuse, one
// or more members each, with the class the refusal must name.
var refusedAddrs = []struct {
	addr, reason string
}{
	{"0.0.0.0", "unspecified (this network)"},
	{"0.1.2.3", "unspecified (this network)"},
	{"::", "unspecified"},
	{"127.0.0.1", "loopback"},
	{"127.255.255.254", "loopback"},
	{"::1", "loopback"},
	{"10.0.0.1", "private (RFC 1918)"},
	{"172.16.0.1", "private (RFC 1918)"},
	{"172.31.255.255", "private (RFC 1918)"},
	{"192.168.1.1", "private (RFC 1918)"},
	{"100.64.0.1", "carrier-grade NAT (RFC 6598)"},
	{"100.127.255.254", "carrier-grade NAT (RFC 6598)"},
	{"169.254.1.1", "link-local"},
	{"fe80::1", "link-local"},
	{"fe80::1%eth0", "link-local"},
	{"fc00::1", "unique-local (fc00::/7)"},
	{"fd12:3456::1", "unique-local (fc00::/7)"},
	{"fec0::1", "site-local (deprecated)"},
	{"224.0.0.1", "multicast"},
	{"239.255.255.250", "multicast"},
	{"ff02::1", "multicast"},
	{"ff0e::1", "multicast"},
	{"255.255.255.255", "reserved"},
	{"240.0.0.1", "reserved"},
	{"192.0.2.1", "documentation"},
	{"2001:db8::1", "documentation"},
	{"198.18.0.1", "benchmarking"},
	{"192.0.0.8", "IETF protocol assignments"},
	{"100::1", "discard-only (RFC 6666)"},
	// Cloud metadata, by name.
	{"169.254.169.254", "cloud metadata"},
	{"169.254.170.2", "cloud metadata"},
	{"100.100.100.200", "cloud metadata"},
	{"fd00:ec2::254", "cloud metadata"},
	{"fd20:ce::254", "cloud metadata"},
	// IPv6 forms carrying a refused IPv4 address.
	{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
	{"::ffff:10.0.0.1", "IPv4-mapped private (RFC 1918)"},
	{"::ffff:169.254.169.254", "IPv4-mapped cloud metadata"},
	{"::ffff:0:127.0.0.1", "IPv4-translated loopback"},
	{"::127.0.0.1", "IPv4-compatible loopback"},
	{"::8.8.8.8", "IPv4-compatible (not routed)"},
	{"64:ff9b::127.0.0.1", "NAT64 loopback"},
	{"64:ff9b::a9fe:a9fe", "NAT64 cloud metadata"},
	{"64:ff9b:1::1", "local-use NAT64 (RFC 8215)"},
	{"2002:7f00:1::1", "6to4 loopback"},
	{"2002:c0a8:101::1", "6to4 private (RFC 1918)"},
	{"2002:a9fe:a9fe::1", "6to4 cloud metadata"},
	{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"},
	{"4000::1", "reserved"},
}

// publicAddrs must pass.
var publicAddrs = []string{
	"8.8.8.8", "1.1.1.1", "93.184.215.14", "172.32.0.1", "100.128.0.1", "169.255.0.1",
	"2606:4700:4700::1111", "2a00:1450:4009:81f::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
	"2002:808:808::1",
}

// TestCheckRefusesEveryClass proves that Check refuses each class of
// non-public address, naming it, and lets public addresses through.
func TestCheckRefusesEveryClass(t *testing.T) {
	for _, tt := range refusedAddrs {
		a := netip.MustParseAddr(tt.addr)
		err := Check(a)
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Errorf("Check(%s) = %v, want refused as %q", tt.addr, err, tt.reason)
			continue
		}
		if be.Reason != tt.reason {
			t.Errorf("Check(%s) refused as %q, want %q", tt.addr, be.Reason, tt.reason)
		}
	}
	for _, s := range publicAddrs {
		if err := Check(netip.MustParseAddr(s)); err != nil {
			t.Errorf("Check(%s) = %v, want nil (public)", s, err)
		}
	}
}

// TestDialRefusesEveryClass proves the guard is in the dialer, where it sees
// the address a connection is about to be made to: every refused class is
// refused by the dial itself (no pre-check of the URL involved), before any
// packet leaves. In a network namespace with only loopback (see
// TestInNetworkNamespace) a broken guard could reach nothing either way.
func TestDialRefusesEveryClass(t *testing.T) {
	dial := guardedDial(Allowlist{})
	for _, tt := range refusedAddrs {
		a := netip.MustParseAddr(tt.addr)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := dial(ctx, "tcp", netip.AddrPortFrom(a, 80).String())
		cancel()
		if conn != nil {
			conn.Close()
		}
		var be *BlockedError
		if !errors.As(err, &be) {
			t.Errorf("dial %s: %v, want refused as %q", tt.addr, err, tt.reason)
		}
	}
}

func TestParseAllowlist(t *testing.T) {
	l, err := ParseAllowlist(" idp.internal, *.corp.example,10.0.0.0/8, 192.168.1.5 ,fd12::/16,[::1]")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"idp.internal", "IDP.Internal.", "a.corp.example", "b.a.corp.example"} {
		if !l.host(h) {
			t.Errorf("host(%q) = false, want true", h)
		}
	}
	for _, h := range []string{"corp.example", "evilcorp.example", "idp.internal.evil", "10.0.0.1"} {
		if l.host(h) {
			t.Errorf("host(%q) = true, want false", h)
		}
	}
	for _, a := range []string{"10.1.2.3", "192.168.1.5", "::ffff:10.0.0.1", "fd12:1::1", "::1"} {
		if !l.addr(netip.MustParseAddr(a)) {
			t.Errorf("addr(%s) = false, want true", a)
		}
	}
	for _, a := range []string{"192.168.1.6", "127.0.0.1", "fd13::1"} {
		if l.addr(netip.MustParseAddr(a)) {
			t.Errorf("addr(%s) = true, want false", a)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "http://x", "a..b", "-x.example", "*.", "*.a b"} {
		if _, err := ParseAllowlist(bad); err == nil {
			t.Errorf("ParseAllowlist(%q) = nil error, want one", bad)
		}
	}
	if l, _ := ParseAllowlist(""); !l.Empty() {
		t.Errorf("empty list not Empty")
	}
}
