package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxRedirects     = 3
	DefaultUserAgent        = "Parley (+https://github.com/parleyhq/parley)"

	dialTimeout = 5 * time.Second
)

// Errors a request through the client can fail with, wrapped in its
// *url.Error; test with errors.Is. A refused address is a *BlockedError
// (errors.As).
var (
	ErrTooLarge         = errors.New("outbound: response body over the size limit")
	ErrTooManyRedirects = errors.New("outbound: too many redirects")
	ErrScheme           = errors.New("outbound: only http and https URLs are fetched")
	ErrHTTPSDowngrade   = errors.New("outbound: refusing a redirect from https to http")
)

// Options configures a client. The zero value is the safe default: public
// addresses only, DefaultTimeout, DefaultMaxResponseBytes,
// DefaultMaxRedirects, DefaultUserAgent.
type Options struct {
	// Timeout bounds a whole request: dialling, TLS, headers and reading
	// the body.
	Timeout time.Duration
	// MaxResponseBytes caps a response body; a larger one fails with
	// ErrTooLarge (at once when Content-Length says so, else on the read
	// that crosses the limit). A JWKS or discovery document is a few KiB.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects a request follows; negative
	// follows none and returns the redirect response itself (webhooks).
	MaxRedirects int
	// Allow lists the non-public hosts and ranges the operator trusts.
	Allow Allowlist
	// UserAgent is sent when a request sets none.
	UserAgent string
}

// NewClient returns an *http.Client that refuses non-public addresses at
// dial time (see the package documentation) and caps time, size and
// redirects as o says. Each caller (the JWKS cache, the webhook sender)
// makes one and keeps it: it pools its connections.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	t := &http.Transport{
		Proxy:                  nil, // never HTTP_PROXY: the proxy would dial past the guard
		DialContext:            guardedDial(o.Allow),
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    dialTimeout,
		ResponseHeaderTimeout:  o.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     &transport{next: t, o: o},
		Timeout:       o.Timeout,
		CheckRedirect: checkRedirect(o.MaxRedirects),
	}
}

// guardedDial dials as net.Dialer does, refusing in Control every resolved
// address that is neither public nor allowed, unless the host name itself is
// on the allow-list.
func guardedDial(allow Allowlist) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
		if !allow.host(host) {
			d.Control = func(network, address string, _ syscall.RawConn) error {
				return control(allow, host, network, address)
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

// control judges the address a connection is about to be made to.
func control(allow Allowlist, host, network, address string) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("outbound: refusing to dial %s over %s", address, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: refusing to dial %q: %w", address, err)
	}
	a := ap.Addr()
	if allow.addr(a) {
		return nil
	}
	if err := Check(a); err != nil {
		err.(*BlockedError).Host = host
		return err
	}
	return nil
}

func checkRedirect(max int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if max < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > max {
			return fmt.Errorf("%w (%d)", ErrTooManyRedirects, max)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect to %s:", ErrScheme, req.URL.Scheme)
		}
		if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme == "http" {
			return ErrHTTPSDowngrade
		}
		return nil // the new host is judged when it is dialled
	}
}

// transport adds the user agent, refuses other schemes and literal refused
// addresses before anything is dialled (a clearer error; the dialer would
// refuse them too), and caps the response body.
type transport struct {
	next http.RoundTripper
	o    Options
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("%w, not %q", ErrScheme, req.URL.Scheme)
	}
	host := req.URL.Hostname()
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && !t.o.Allow.addr(a) {
		if err := Check(a); err != nil {
			return nil, err
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.o.UserAgent)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.o.MaxResponseBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes declared, the limit is %d", ErrTooLarge, resp.ContentLength, t.o.MaxResponseBytes)
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: t.o.MaxResponseBytes}
	return resp, nil
}

// cappedBody fails the read that goes past the limit with ErrTooLarge,
// rather than truncating: a JWKS cut short must not parse as a shorter one.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - 1, ErrTooLarge // one byte past the limit: it is over
	}
	return n, err
}
