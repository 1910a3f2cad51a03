// Package mailtest is a real SMTP server for tests (github.com/emersion/go-smtp)
// on a loopback port: it receives every message Parley sends, with or
// without TLS and authentication, and can go down and come back on the
// same port to stage an outage.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server speaks.
type Options struct {
	// TLS: "" plain (smtp://…?starttls=off), "starttls", or "implicit".
	TLS string
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
	// HangUpOnReset makes the server drop the connection when the client
	// sends RSET, as go-mail does after each accepted message: the end of
	// the session fails after the message was accepted. Plain or
	// STARTTLS-less connections only (TLS "").
	HangUpOnReset bool
	// Unknown are addresses the server has no mailbox for: RCPT TO them
	// gets 550 5.1.1, a permanent refusal (Refused counts them).
	Unknown []string
}

// Message is one message received.
type Message struct {
	From string
	To   []string
	Data []byte
	// TLS reports that it came over an encrypted connection; Auth the
	// user it authenticated as ("" for none).
	TLS  bool
	Auth string
}

// Parsed parses the message's headers and body.
func (m Message) Parsed(t testing.TB) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, m.Data)
	}
	return msg
}

// Server is a running SMTP server.
type Server struct {
	t    testing.TB
	opts Options
	addr string
	tls  *tls.Config
	pool *x509.CertPool

	mu       sync.Mutex
	srv      *smtp.Server
	msgs     []Message
	arrived  chan struct{}
	rejectN  int // the next rejectN DATA commands fail with 451
	refused  int // RCPT TO an Unknown address refused
	accepted int
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, arrived: make(chan struct{}, 1)}
	if opts.TLS != "" {
		s.tls, s.pool = selfSigned(t)
	}
	ln, err := s.listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) (net.Listener, error) {
	if s.opts.TLS == "implicit" {
		return tls.Listen("tcp", addr, s.tls)
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil && s.opts.HangUpOnReset {
		ln = hangUpListener{ln}
	}
	return ln, err
}

// hangUpListener's connections hang up when the client sends RSET.
type hangUpListener struct{ net.Listener }

func (l hangUpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return hangUpConn{c}, nil
}

type hangUpConn struct{ net.Conn }

func (c hangUpConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n >= 4 && strings.EqualFold(string(b[:4]), "RSET") {
		c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 4 << 20
	srv.AllowInsecureAuth = s.opts.TLS == ""
	if s.opts.TLS == "starttls" {
		srv.TLSConfig = s.tls
	}
	srv.ErrorLog = discard{}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln) // ends when Stop closes the server
}

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

// URL is the --smtp-url that reaches the server.
func (s *Server) URL() string {
	u := "smtp://"
	if s.opts.TLS == "implicit" {
		u = "smtps://"
	}
	if s.opts.Username != "" {
		u += s.opts.Username + ":" + s.opts.Password + "@"
	}
	u += s.addr
	if s.opts.TLS == "" {
		u += "?starttls=off"
	}
	return u
}

// ClientTLS is a TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
}

// Stop takes the server down as one shutting down for maintenance does:
// new connections are refused until Restart, and a session in progress may
// finish its message (for at most 5 s), so that every message the server
// holds was acknowledged to its sender. (Cutting a session between the
// server taking a message and its reply is the one case SMTP cannot tell
// apart from a lost message: the sender sends again, with the same
// Message-ID; Parley's crash tests cover that window.)
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// Restart listens again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment after Close
		if ln, err = s.listen(s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// RejectNext makes the next n messages fail with a temporary error (451)
// after their data was sent.
func (s *Server) RejectNext(n int) {
	s.mu.Lock()
	s.rejectN = n
	s.mu.Unlock()
}

// Refused is how many times RCPT TO an Unknown address was refused.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until at least n messages have arrived, or fails the test
// after timeout.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if ms := s.Messages(); len(ms) >= n {
			return ms
		}
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("mailtest: %d messages after %v, want %d", len(s.Messages()), timeout, n)
		}
	}
}

type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, tls: isTLS, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	auth string
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.opts.Username || password != x.s.opts.Password {
			return errors.New("invalid credentials")
		}
		x.auth = username
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.auth == "" {
		return smtp.ErrAuthRequired
	}
	if x.s.opts.TLS == "starttls" {
		if _, ok := x.conn.TLSConnectionState(); !ok {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "STARTTLS first"}
		}
		x.tls = true
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, u := range x.s.opts.Unknown {
		if strings.EqualFold(u, to) {
			x.s.mu.Lock()
			x.s.refused++
			x.s.mu.Unlock()
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectN > 0 {
		s.rejectN--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.msgs = append(s.msgs, Message{From: x.from, To: append([]string(nil), x.to...), Data: b, TLS: x.tls, Auth: x.auth})
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}

// Header returns a header of a received message, decoded.
func Header(msg *mail.Message, name string) string {
	v := msg.Header.Get(name)
	if d, err := new(mimeDecoder).decode(v); err == nil {
		return d
	}
	return v
}

// String describes a message for failures.
func (m Message) String() string {
	return fmt.Sprintf("from %s to %s, %d bytes", m.From, strings.Join(m.To, ","), len(m.Data))
}
