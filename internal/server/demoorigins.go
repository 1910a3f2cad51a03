package server

import (
	"net"
	"net/url"
)

// demoOrigins returns the origins the demo site allows: the server's base
// URL and, when that is a loopback address, its other loopback spellings
// (localhost, 127.0.0.1 and [::1] on the same port), so the demo works
// whichever of them a developer types.
func demoOrigins(baseURL string) []string {
	out := []string{baseURL}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return out
	}
	host, port := u.Hostname(), u.Port()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	if !loopback {
		return out
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if h == host {
			continue
		}
		v := *u
		v.Path, v.RawQuery, v.Fragment = "", "", ""
		v.Host = h
		if port != "" {
			v.Host = net.JoinHostPort(h, port)
		} else if h == "::1" {
			v.Host = "[::1]"
		}
		out = append(out, v.String())
	}
	return out
}
