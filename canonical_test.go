package parley

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		ignore []string
		want   string
	}{
		{"already canonical", "https://news.example.com/2026/11/story", nil, "https://news.example.com/2026/11/story"},
		{"root gets a slash", "https://example.com", nil, "https://example.com/"},
		{"root slash kept", "https://example.com/", nil, "https://example.com/"},
		{"trailing slash dropped", "https://example.com/a/b/", nil, "https://example.com/a/b"},
		{"surrounding space trimmed", "  https://example.com/a \n", nil, "https://example.com/a"},
		{"fragment dropped", "https://example.com/a#comments", nil, "https://example.com/a"},
		{"hash-bang fragment dropped", "https://example.com/#!/story/1", nil, "https://example.com/"},
		{"scheme and host lower-cased", "HTTPS://News.Example.COM/Story", nil, "https://news.example.com/Story"},
		{"path case kept", "https://example.com/Politics/Vote", nil, "https://example.com/Politics/Vote"},
		{"default https port dropped", "https://example.com:443/a", nil, "https://example.com/a"},
		{"default http port dropped and upgraded", "http://example.com:80/a", nil, "https://example.com/a"},
		{"http is the same thread as https", "http://example.com/a", nil, "https://example.com/a"},
		{"http with a port keeps its scheme", "http://localhost:8080/demo", nil, "http://localhost:8080/demo"},
		{"https with a port", "https://example.com:8443/a/", nil, "https://example.com:8443/a"},
		{"http on 443 is not https", "http://example.com:443/a", nil, "http://example.com:443/a"},
		{"port leading zeros", "http://example.com:08080/a", nil, "http://example.com:8080/a"},
		{"empty port", "https://example.com:/a", nil, "https://example.com/a"},
		{"trailing dot on host", "https://example.com./a", nil, "https://example.com/a"},
		{"utm parameters", "https://example.com/a?utm_source=tw&utm_medium=social&UTM_Campaign=x", nil, "https://example.com/a"},
		{"click ids", "https://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4&yclid=5&igshid=6", nil, "https://example.com/a"},
		{"mail and analytics ids", "https://example.com/a?mc_cid=1&mc_eid=2&_ga=3&ref_src=twsrc&_hsenc=x&pk_campaign=y", nil, "https://example.com/a"},
		{"tracking removed, content kept", "https://example.com/?p=123&utm_source=rss", nil, "https://example.com/?p=123"},
		{"query sorted", "https://example.com/a?b=1&a=2", nil, "https://example.com/a?a=2&b=1"},
		{"repeated names keep their order", "https://example.com/a?tag=z&id=1&tag=a", nil, "https://example.com/a?id=1&tag=z&tag=a"},
		{"empty query removed", "https://example.com/a?", nil, "https://example.com/a"},
		{"empty pairs removed", "https://example.com/a?&&b=1&&", nil, "https://example.com/a?b=1"},
		{"empty value written bare", "https://example.com/a?print=&x", nil, "https://example.com/a?print&x"},
		{"query re-escaped", "https://example.com/s?q=caf%c3%a9+au+lait&r=a,b", nil, "https://example.com/s?q=caf%C3%A9+au+lait&r=a%2Cb"},
		{"raw unicode in query", "https://example.com/s?q=café", nil, "https://example.com/s?q=caf%C3%A9"},
		{"stray percent in query", "https://example.com/s?off=100%", nil, "https://example.com/s?off=100%25"},
		{"site ignore list", "https://example.com/a?amp=1&section=world&id=7", []string{"AMP", " section "}, "https://example.com/a?id=7"},
		{"site ignore prefix", "https://example.com/a?ref=home&referrer=x&id=7", []string{"ref*"}, "https://example.com/a?id=7"},
		{"empty ignore entries", "https://example.com/a?id=7", []string{"", "*", " "}, "https://example.com/a?id=7"},
		{"duplicate slashes collapsed", "https://example.com//a///b//", nil, "https://example.com/a/b"},
		{"dot segments resolved", "https://example.com/a/./b/../c", nil, "https://example.com/a/c"},
		{"dot segments above root", "https://example.com/../../a", nil, "https://example.com/a"},
		{"escaped dots resolved", "https://example.com/a/%2e%2E/b", nil, "https://example.com/b"},
		{"unreserved escapes decoded", "https://example.com/%7Euser/%61bc", nil, "https://example.com/~user/abc"},
		{"reserved escapes upper-cased", "https://example.com/a%2fb/c%3a", nil, "https://example.com/a%2Fb/c%3A"},
		{"unicode path escaped", "https://example.com/café/ü", nil, "https://example.com/caf%C3%A9/%C3%BC"},
		{"escaped and raw unicode agree", "https://example.com/caf%c3%a9/%C3%BC", nil, "https://example.com/caf%C3%A9/%C3%BC"},
		{"space in path", "https://example.com/a b", nil, "https://example.com/a%20b"},
		{"jsessionid removed", "https://example.com/a;jsessionid=ABC123/b;JSESSIONID=x;v=2", nil, "https://example.com/a/b;v=2"},
		{"sub-delimiters kept", "https://example.com/a;b=c/@x:y/(1)", nil, "https://example.com/a;b=c/@x:y/(1)"},
		{"idn host to punycode", "https://Bücher.example/x", nil, "https://xn--bcher-kva.example/x"},
		{"punycode host kept", "https://XN--BCHER-KVA.example/x", nil, "https://xn--bcher-kva.example/x"},
		{"escaped idn host", "https://b%C3%BCcher.example/x", nil, "https://xn--bcher-kva.example/x"},
		{"ideographic full stop", "https://例子。测试/", nil, "https://xn--fsqu00a.xn--0zwm56d/"},
		{"ipv4 host", "http://127.0.0.1:8080/a/", nil, "http://127.0.0.1:8080/a"},
		{"ipv6 host shortened", "http://[2001:DB8:0:0::1]/a", nil, "https://[2001:db8::1]/a"},
		{"ipv6 with port", "http://[::1]:8080/", nil, "http://[::1]:8080/"},
		{"underscore in host", "https://my_host.internal/a", nil, "https://my_host.internal/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalURL(tt.in, tt.ignore)
			if err != nil {
				t.Fatalf("CanonicalURL(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := CanonicalURL(got, tt.ignore)
			if err != nil || again != got {
				t.Errorf("CanonicalURL(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestCanonicalURLSameThread(t *testing.T) {
	// Each group is one article reached in different ways.
	groups := [][]string{
		{
			"https://news.example.com/2026/story",
			"http://news.example.com/2026/story/",
			"https://NEWS.example.com:443/2026//story#comments",
			"https://news.example.com/2026/./story?utm_source=newsletter&fbclid=abc",
			"http://news.example.com./2026/story?",
		},
		{
			"https://example.com/?p=1&lang=en",
			"https://example.com/?lang=en&p=1&gclid=x",
			"https://example.com?lang=en&p=1",
		},
	}
	for _, g := range groups {
		want, err := CanonicalURL(g[0], nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range g[1:] {
			if got, err := CanonicalURL(in, nil); err != nil || got != want {
				t.Errorf("CanonicalURL(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
	}
}

func TestCanonicalURLErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string // a part of the message
	}{
		{"empty", "", "empty"},
		{"blank", " \t ", "empty"},
		{"too long", "https://example.com/" + strings.Repeat("a", MaxURLLength), "longer"},
		{"too long once escaped", "https://example.com/" + strings.Repeat("é", 700), "longer"},
		{"invalid utf-8", "https://example.com/\xff", "UTF-8"},
		{"control character", "https://example.com/a\x00b", "control"},
		{"newline inside", "https://example.com/a\nb", "control"},
		{"c1 control", "https://example.com/a\u0085b", "control"},
		{"relative", "/2026/story", "absolute"},
		{"scheme-relative", "//example.com/a", "absolute"},
		{"no scheme", "example.com/a", "absolute"},
		{"javascript", "javascript:alert(1)", "http or https"},
		{"data", "data:text/html,<script>alert(1)</script>", "http or https"},
		{"ftp", "ftp://example.com/a", "http or https"},
		{"opaque http", "http:example.com/a", "absolute"},
		{"user info", "https://user:pass@example.com/a", "user name"},
		{"user only", "https://user@example.com/a", "user name"},
		{"no host", "https:///a", "no host"},
		{"port out of range", "https://example.com:70000/a", "port"},
		{"port zero", "https://example.com:0/a", "port"},
		{"port not a number", "https://example.com:http/a", "parsed"},
		{"space in host", "https://exa mple.com/a", "parsed"},
		{"empty label", "https://example..com/a", "host"},
		{"only a dot", "https://./a", "host"},
		{"punctuation in host", "https://exa!mple.com/a", "host"},
		{"escaped slash in host", "https://example.com%2F.evil/a", "parsed"},
		{"invalid escaped host", "https://%FF.example/a", "host"},
		{"ipv6 zone", "http://[fe80::1%25eth0]/", "host"},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".com/", "host"},
		{"bidi override in host", "https://exa\u202emple.com/", "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalURL(tt.in, nil)
			if err == nil {
				t.Fatalf("CanonicalURL(%q) = %q, want an error", tt.in, got)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EInvalid {
				t.Fatalf("error %v: want *Error with code %q", err, EInvalid)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not mention %q", e.Message, tt.msg)
			}
		})
	}
}

func TestPunycode(t *testing.T) {
	// Vectors checked against golang.org/x/net/idna.
	tests := []struct{ in, want string }{
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
		{"пример", "e1afmkfd"},
		{"例子", "fsqu00a"},
		{"测试", "0zwm56d"},
		{"παράδειγμα", "hxajbheg2az3al"},
		{"日本語", "wgv71a119e"},
		{"straße", "strae-oqa"},
		{"ü-ber_x", "-ber_x-2ya"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := punycode(tt.in); got != tt.want {
				t.Errorf("punycode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?b=1&a=2#x",
		"http://Bücher.example:80//a/./b/../c/?utm_source=x&q=%e2%82%ac",
		"http://[::1]:8080/a;jsessionid=1/b?x=&y",
		"HTTPS://EXAMPLE.COM:0443/%7e/%2F?100%",
		"https://例子。测试/café?é=ü",
		"javascript:alert(1)",
		"//example.com",
		"https://a@b/",
	} {
		f.Add(s, "ref*")
	}
	f.Fuzz(func(t *testing.T, raw, ignore string) {
		ig := strings.Split(ignore, ",")
		out, err := CanonicalURL(raw, ig)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EInvalid || e.Message == "" {
				t.Fatalf("CanonicalURL(%q) error %v: want *Error with code %q", raw, err, EInvalid)
			}
			return
		}
		if !utf8.ValidString(out) || len(out) > MaxURLLength {
			t.Fatalf("CanonicalURL(%q) = %q: invalid UTF-8 or too long", raw, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("CanonicalURL(%q) = %q does not parse: %v", raw, out, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(out, "#") {
			t.Fatalf("CanonicalURL(%q) = %q: not an absolute http(s) URL without user info and fragment", raw, out)
		}
		again, err := CanonicalURL(out, ig)
		if err != nil || again != out {
			t.Fatalf("not idempotent: CanonicalURL(%q) = %q, then %q, %v", raw, out, again, err)
		}
	})
}

func ExampleCanonicalURL() {
	u, err := CanonicalURL("http://News.Example.com:80/2026/11/story/?utm_source=newsletter&page=2&id=7#comments", []string{"page"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u)
	// Output: https://news.example.com/2026/11/story?id=7
}
