package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/mail"
	"github.com/parleyhq/parley/internal/mail/mailtest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, url string
		want      mail.Config
		err       string
	}{
		{"starttls by default", "smtp://bob:s3cret@mail.example.com", mail.Config{Host: "mail.example.com", Port: 587, Username: "bob", Password: "s3cret", Security: mail.StartTLS}, ""},
		{"implicit tls", "smtps://bob:s3cret@mail.example.com:2465", mail.Config{Host: "mail.example.com", Port: 2465, Username: "bob", Password: "s3cret", Security: mail.ImplicitTLS}, ""},
		{"plain to loopback", "smtp://127.0.0.1:2525?starttls=off", mail.Config{Host: "127.0.0.1", Port: 2525, Security: mail.Plain}, ""},
		{"plain to localhost", "smtp://localhost:25?starttls=off", mail.Config{Host: "localhost", Port: 25, Security: mail.Plain}, ""},
		{"plain elsewhere refused", "smtp://mail.example.com?starttls=off", mail.Config{}, "only to a loopback host"},
		{"starttls=off with smtps", "smtps://127.0.0.1?starttls=off", mail.Config{}, "goes with smtp://"},
		{"other scheme", "http://mail.example.com", mail.Config{}, "scheme"},
		{"no host", "smtp://", mail.Config{}, "host"},
		{"bad port", "smtp://h:99999", mail.Config{}, "port"},
		{"unknown parameter", "smtp://h?tls=1", mail.Config{}, "unknown parameter"},
		{"a bad URL does not quote the password", "smtp://bob:pa%zzss@h", mail.Config{}, "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mail.ParseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q): got %v, want an error with %q", tt.url, err, tt.err)
				}
				if strings.Contains(err.Error(), "pa%zzss") || strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error quotes the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseURL(%q): got %+v, %v; want %+v", tt.url, got, err, tt.want)
			}
			if strings.Contains(got.String(), "s3cret") {
				t.Errorf("String() shows the password: %s", got)
			}
		})
	}
}

func TestHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Plain title", "Plain title"},
		{"Evil\r\nBcc: victim@example.com", "Evil Bcc: victim@example.com"},
		{"a\nb\rc\td\u2028e\x00f", "a b c d e f"},
		{"  lots   of\n\n space ", "lots of space"},
	}
	for _, tt := range tests {
		if got := mail.HeaderText(tt.in); got != tt.want {
			t.Errorf("HeaderText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSendModes sends one message through each way of connecting to a real
// SMTP server on loopback: clear text to a local relay, STARTTLS, and
// implicit TLS with authentication.
func TestSendModes(t *testing.T) {
	for _, opts := range []mailtest.Options{
		{},
		{TLS: "starttls"},
		{TLS: "starttls", Username: "parley", Password: "pw-starttls"},
		{TLS: "implicit", Username: "parley", Password: "pw-implicit"},
	} {
		t.Run(opts.TLS+"/"+opts.Username, func(t *testing.T) {
			srv := mailtest.Start(t, opts)
			cfg, err := mail.ParseURL(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			m := mail.NewSMTP(cfg)
			m.TLS = srv.ClientTLS()
			m.Timeout = 5 * time.Second
			err = m.Send(t.Context(), &mail.Message{
				From: "Parley <parley@example.com>", To: "reader@example.com",
				Subject: "Hello\r\nBcc: victim@example.com", Text: "text", HTML: "<p>html</p>",
				MessageID: "m1.test@example.com", Unsubscribe: "https://c.example.com/u?t=1",
			})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Wait(1, 5*time.Second)[0]
			if got.TLS != (opts.TLS != "") || got.Auth != opts.Username {
				t.Errorf("received over TLS=%v as %q, want TLS=%v as %q", got.TLS, got.Auth, opts.TLS != "", opts.Username)
			}
			msg := got.Parsed(t)
			if h := msg.Header.Get("Bcc"); h != "" {
				t.Errorf("a Bcc header was injected: %q", h)
			}
			if s := mailtest.Header(msg, "Subject"); s != "Hello Bcc: victim@example.com" {
				t.Errorf("Subject: got %q", s)
			}
			if len(got.To) != 1 || got.To[0] != "reader@example.com" {
				t.Errorf("RCPT TO: got %v", got.To)
			}
		})
	}
}

// TestSendRefusesWrongPasswordAndPlainAuth: a wrong password fails without
// the error quoting it, and STARTTLS is required on smtp:// (a server
// that does not offer it is refused).
func TestSendFailures(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: "implicit", Username: "parley", Password: "right"})
	cfg, _ := mail.ParseURL(strings.Replace(srv.URL(), ":right@", ":wrong-pw@", 1))
	m := mail.NewSMTP(cfg)
	m.TLS = srv.ClientTLS()
	err := m.Send(t.Context(), &mail.Message{From: "p@example.com", To: "r@example.com", Subject: "s", Text: "t", MessageID: "x@y"})
	if err == nil || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("Send with a wrong password: got %v, want an error without the password", err)
	}

	plain := mailtest.Start(t, mailtest.Options{})
	cfg, _ = mail.ParseURL("smtp://" + plain.Addr()) // STARTTLS required, and not offered
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = mail.NewSMTP(cfg).Send(ctx, &mail.Message{From: "p@example.com", To: "r@example.com", Subject: "s", Text: "t", MessageID: "x@y"})
	if err == nil || len(plain.Messages()) != 0 {
		t.Errorf("Send over smtp:// to a server without STARTTLS: got %v and %d messages, want a refusal", err, len(plain.Messages()))
	}

	for _, bad := range []mail.Message{
		{From: "p@example.com", To: "r@example.com\r\nBcc: x@example.com", MessageID: "x@y"},
		{From: "p@example.com", To: "Name <r@example.com>", MessageID: "x@y"},
		{From: "p@example.com", To: "r@example.com", MessageID: "x@y", Unsubscribe: "https://x/\r\nBcc: y"},
		{From: "p@example.com", To: "r@example.com", MessageID: "<x@y>"},
	} {
		if _, err := mail.Build(&bad); err == nil {
			t.Errorf("Build(%+v): got nil, want an error", bad)
		}
	}
}

// TestAcceptedThenHungUp: a server that accepts a message and then drops
// the connection (at go-mail's RSET after DATA) has the message: Send
// reports it sent, SendAccepted calls accepted once, before returning, so
// that a caller never sends an accepted message again. A server that
// refuses the data (451) makes SendAccepted fail without calling it.
func TestAcceptedThenHungUp(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{HangUpOnReset: true})
	cfg, err := mail.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	m := mail.NewSMTP(cfg)
	m.Timeout = 5 * time.Second
	msg := func(id string) *mail.Message {
		return &mail.Message{From: "p@example.com", To: "r@example.com", Subject: "s", Text: "t", MessageID: id}
	}
	calls := 0
	if err := m.SendAccepted(t.Context(), msg("a1@example.com"), func() { calls++ }); err != nil || calls != 1 {
		t.Fatalf("SendAccepted to a server that hangs up after accepting: %v, accepted called %d times; want nil and once", err, calls)
	}
	if err := m.Send(t.Context(), msg("a2@example.com")); err != nil {
		t.Fatalf("Send to a server that hangs up after accepting: %v", err)
	}
	if got := srv.Wait(2, 5*time.Second); len(got) != 2 {
		t.Fatalf("%d messages received, want 2", len(got))
	}
	srv.RejectNext(1)
	calls = 0
	if err := m.SendAccepted(t.Context(), msg("a3@example.com"), func() { calls++ }); err == nil || calls != 0 {
		t.Errorf("SendAccepted of a refused message: %v, accepted called %d times; want an error and none", err, calls)
	}
}
