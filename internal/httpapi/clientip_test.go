package httpapi

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/config"
)

// TestClientIP proves that X-Forwarded-For is believed only from the
// configured proxies, and only as far as the proxies wrote it.
func TestClientIP(t *testing.T) {
	mustProxies := func(s string) config.Proxies {
		p, err := config.ParseProxies(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		proxies string
		peer    string
		xff     []string
		realIP  string
		want    string
	}{
		{"no proxies: XFF ignored", "off", "203.0.113.9:5000", []string{"1.2.3.4"}, "", "203.0.113.9"},
		{"no proxies: X-Real-IP ignored", "off", "203.0.113.9:5000", nil, "1.2.3.4", "203.0.113.9"},
		{"on trusts loopback", "on", "127.0.0.1:5000", []string{"1.2.3.4"}, "", "1.2.3.4"},
		{"on trusts ::1", "on", "[::1]:5000", []string{"2001:db8::7"}, "", "2001:db8::7"},
		{"on does not trust others", "on", "10.0.0.2:5000", []string{"1.2.3.4"}, "", "10.0.0.2"},
		{"peer outside the list", "10.0.0.0/8", "192.168.0.2:5000", []string{"1.2.3.4"}, "", "192.168.0.2"},
		{"peer in the list", "10.0.0.0/8", "10.9.8.7:5000", []string{"1.2.3.4"}, "", "1.2.3.4"},
		{"client-written prefix ignored", "10.0.0.0/8", "10.9.8.7:5000", []string{"6.6.6.6, 1.2.3.4"}, "", "1.2.3.4"},
		{"chain of trusted proxies", "10.0.0.0/8", "10.9.8.7:5000", []string{"6.6.6.6, 1.2.3.4, 10.1.1.1"}, "", "1.2.3.4"},
		{"several header lines", "10.0.0.0/8", "10.9.8.7:5000", []string{"6.6.6.6", "1.2.3.4, 10.1.1.1"}, "", "1.2.3.4"},
		{"garbage stops the walk", "10.0.0.0/8", "10.9.8.7:5000", []string{"1.2.3.4, nonsense, 10.1.1.1"}, "", "10.1.1.1"},
		{"all trusted: the left-most", "10.0.0.0/8", "10.9.8.7:5000", []string{"10.1.1.1, 10.2.2.2"}, "", "10.1.1.1"},
		{"mapped address unmapped", "on", "127.0.0.1:5000", []string{"::ffff:1.2.3.4"}, "", "1.2.3.4"},
		{"X-Real-IP from a proxy", "on", "127.0.0.1:5000", nil, "1.2.3.4", "1.2.3.4"},
		{"empty header from a proxy", "on", "127.0.0.1:5000", nil, "", "127.0.0.1"},
		{"single address list", "10.9.8.7", "10.9.8.7:5000", []string{"1.2.3.4"}, "", "1.2.3.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{trustProxy: mustProxies(tt.proxies)}
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4":               "1.2.3.4",
		"::ffff:1.2.3.4":        "1.2.3.4",
		"2001:db8:1:2:a:b:c:d":  "2001:db8:1:2::/64",
		"2001:db8:1:2::1":       "2001:db8:1:2::/64",
		"2001:db8:1:3::1":       "2001:db8:1:3::/64",
		"fe80::1%eth0":          "fe80::/64",
		"not an address at all": "not an address at all",
	} {
		if got := limitKey(in); got != want {
			t.Errorf("limitKey(%q) = %q, want %q", in, got, want)
		}
	}
}
