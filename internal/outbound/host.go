package outbound

import (
	"net/netip"
	"strings"
)

// CheckHost returns a *BlockedError when host (a URL's host name, without
// its port) is a literal address that the client would refuse under l: a
// webhook URL of http://169.254.169.254/ is refused when it is stored, not
// only when it is posted to. A host name passes; the dialler judges what
// it resolves to, on every connection.
func (l Allowlist) CheckHost(host string) error {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || l.host(host) || l.addr(a) {
		return nil
	}
	if err := Check(a); err != nil {
		err.(*BlockedError).Host = host
		return err
	}
	return nil
}
