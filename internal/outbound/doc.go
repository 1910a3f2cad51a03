// Package outbound is the one HTTP client for every request Parley's server
// makes to another host: fetching an identity provider's JWKS and OIDC
// discovery document, delivering webhooks, anything to come. A URL there is
// configured by an operator, a site owner or (for webhooks) anyone holding
// an admin token, so it may point at the server's own network: the metadata
// service of its cloud, a database, an admin port on loopback. The client
// refuses those.
//
// The guard runs where it cannot be fooled: in the dialer's Control hook, on
// the address about to be connected to, after DNS resolution, for every
// connection (so a name that resolves to a public address once and to
// 127.0.0.1 the next time, DNS rebinding, is refused the second time) and so
// for every redirect too, which also passes CheckRedirect (a limit on their
// number, http(s) only, no downgrade from https). Environment proxies are
// ignored: a proxy would dial the target on the client's behalf, past the
// guard. Responses are capped in size and requests in time.
//
// Refused: loopback, unspecified, private (RFC 1918), carrier-grade NAT,
// link-local, unique-local, site-local, multicast, reserved, documentation
// and benchmarking ranges, the cloud metadata addresses by name, and IPv6
// forms that carry a refused IPv4 address (IPv4-mapped, -compatible,
// -translated, NAT64, 6to4) or tunnel to one (Teredo). An operator whose
// identity provider sits on the internal network lists its host or range in
// Allow (--outbound-allow); nothing is allowed by default.
package outbound
