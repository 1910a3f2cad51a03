// Package mail is Parley's one outbound mailer: an SMTP client (through
// github.com/wneessen/go-mail) configured by --smtp-url, and the Message it
// sends. It knows nothing of comments or readers: the service decides what
// to send and renders it (internal/service/notify.go); this package makes
// sure that what goes out is well formed: one Message-ID, one-click
// unsubscribe headers (RFC 8058), a text and an HTML part, and no header a
// user's input could add (CR and LF never reach a header).
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
)

// Security is how the connection to the SMTP server is protected.
type Security string

const (
	// StartTLS connects in plain text and requires STARTTLS before
	// anything else (smtp://, the default).
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS Security = "tls"
	// Plain sends in clear text: smtp://…?starttls=off, allowed only to
	// a loopback host (a local relay).
	Plain Security = "none"
)

// Config is where and how to send: parsed from --smtp-url.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string // never printed: see String
	Security Security
}

// ParseURL parses smtp://user:pass@host:port (STARTTLS required; port 587
// by default), smtps://user:pass@host:port (implicit TLS; port 465), and
// smtp://host:port?starttls=off for a relay on a loopback address.
func ParseURL(raw string) (Config, error) {
	var c Config
	u, err := url.Parse(raw)
	if err != nil {
		return c, errors.New("smtp URL: not a URL") // the error would quote the password
	}
	switch u.Scheme {
	case "smtp":
		c.Security, c.Port = StartTLS, 587
	case "smtps":
		c.Security, c.Port = ImplicitTLS, 465
	default:
		return c, fmt.Errorf("smtp URL: the scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("smtp URL: a host is required")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return c, fmt.Errorf("smtp URL: bad port %q", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return c, fmt.Errorf("smtp URL: unknown parameter %q (only starttls=off)", k)
		}
	}
	switch v := q.Get("starttls"); v {
	case "", "on":
	case "off":
		if c.Security != StartTLS {
			return c, errors.New("smtp URL: starttls=off goes with smtp://, not smtps://")
		}
		if !isLoopback(c.Host) {
			return c, fmt.Errorf("smtp URL: starttls=off is allowed only to a loopback host, not %q", c.Host)
		}
		c.Security = Plain
	default:
		return c, fmt.Errorf("smtp URL: starttls=%q: want off", v)
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes c for logs, without the password.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Security == ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.User(c.Username)
	}
	if c.Security == Plain {
		u.RawQuery = "starttls=off"
	}
	return u.String()
}

// Message is one e-mail. Every field may hold a user's input: Send puts
// none of it into a header unchecked.
type Message struct {
	From      string // "Name <addr>" or an address
	To        string // an address
	Subject   string
	Text      string // the text/plain part
	HTML      string // the text/html part, already escaped by its renderer
	MessageID string // without angle brackets, e.g. "mail-12.abc@comments.example.com"
	// Unsubscribe is the one-click unsubscribe URL (List-Unsubscribe,
	// with List-Unsubscribe-Post: List-Unsubscribe=One-Click); "" for a
	// message one cannot unsubscribe from (a sign-in link).
	Unsubscribe string
	Date        time.Time
}

// HeaderText makes s safe for a header: CR, LF and every other control
// character become a space, and runs of spaces one. A subject built from a
// title cannot start a header of its own.
func HeaderText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// Build turns m into a go-mail message, checking every address.
func Build(m *Message) (*gomail.Msg, error) {
	from, err := netmail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("mail: bad From address: %w", err)
	}
	from.Name = HeaderText(from.Name)
	to, err := netmail.ParseAddress(m.To)
	if err != nil || to.Address != m.To || strings.ContainsAny(m.To, "\r\n") {
		return nil, errors.New("mail: bad To address")
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(HeaderText(m.Subject))
	id := HeaderText(m.MessageID)
	if id == "" || strings.ContainsAny(id, "<> ") {
		return nil, errors.New("mail: a message needs a Message-ID without <, > or spaces")
	}
	msg.SetMessageIDWithValue(id)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	if m.Unsubscribe != "" {
		u, err := url.Parse(m.Unsubscribe)
		if err != nil || u.Scheme != "https" && u.Scheme != "http" || strings.ContainsAny(m.Unsubscribe, "\r\n<> ") {
			return nil, errors.New("mail: bad unsubscribe URL")
		}
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetUserAgent("Parley")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// SMTP sends messages to the configured server, one connection per call to
// Send (notifications are few; a pool would outlive a server's idle
// timeout).
type SMTP struct {
	cfg Config
	// TLS, when set, replaces the default TLS configuration (tests trust
	// their own certificate with it); ServerName defaults to the host.
	TLS *tls.Config
	// Timeout bounds a connection and each command; default 30 s.
	Timeout time.Duration
}

// NewSMTP returns a mailer for cfg.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg, Timeout: 30 * time.Second} }

// Config returns the mailer's configuration.
func (s *SMTP) Config() Config { return s.cfg }

// Send delivers one message: it returns nil once the server has accepted
// it (the reply to DATA). An error names no password.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	return s.SendAccepted(ctx, m, nil)
}

// SendAccepted is Send, calling accepted (when not nil) as soon as the
// server has accepted the message, before the session is closed: the
// caller records the message sent with the least delay after the
// server's reply to DATA. SMTP has no way to ask a server whether it
// holds a message (RFC 1047): a client that dies between that reply and
// its record sends the message again, so the record must follow the
// reply as closely as it can. A message the server accepted is reported
// sent even when what follows (RSET, QUIT) fails, so that such a failure
// never sends it twice.
func (s *SMTP) SendAccepted(ctx context.Context, m *Message, accepted func()) error {
	msg, err := Build(m)
	if err != nil {
		return err
	}
	tc := s.TLS
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tc = tc.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = s.cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.Timeout),
		gomail.WithTLSConfig(tc),
		gomail.WithHELO("parley"),
	}
	switch s.cfg.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.Security == Plain { // loopback only (ParseURL)
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return s.scrub(fmt.Errorf("mail: %w", err))
	}
	client, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return s.scrub(fmt.Errorf("mail: send to %s: dial failed: %w", s.cfg.String(), err))
	}
	err = c.SendWithSMTPClient(client, msg)
	if msg.IsDelivered() {
		// Accepted (a failed RSET after DATA is no failure of the
		// message): recorded before QUIT, whose failure changes nothing.
		if accepted != nil {
			accepted()
		}
		c.CloseWithSMTPClient(client)
		return nil
	}
	c.CloseWithSMTPClient(client)
	if err == nil {
		err = errors.New("the server did not accept the message")
	}
	return s.scrub(fmt.Errorf("mail: send to %s: %w", s.cfg.String(), err))
}

// scrub removes the password from an error's text, should a library ever
// quote it.
func (s *SMTP) scrub(err error) error {
	if s.cfg.Password == "" || !strings.Contains(err.Error(), s.cfg.Password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s.cfg.Password, "xxxxx"))
}

// Permanent reports whether err is the server's refusal of this one
// message for good: a 5xx reply to RCPT TO (no such mailbox, a disabled
// one) or to the end of its data (the content refused). Trying again
// sends nothing, so the sender gives such a message up instead of letting
// it hold back the queue. A 5xx to MAIL FROM or AUTH concerns every
// message (the sender address, the account), a 4xx and a failure to reach
// the server are temporary: none of these is permanent here, and the
// message waits for the operator or the server.
func Permanent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) || se.IsTemp() {
		return false
	}
	if code := se.ErrorCode(); code < 500 || code > 599 {
		return false
	}
	return se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose
}
