package config

import (
	"errors"
	"flag"
	"fmt"
	netmail "net/mail"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/mail"
)

// Mail configures outbound e-mail; without SMTPURL and From Parley sends
// none.
type Mail struct {
	SMTPURL string // smtp://user:pass@host:port (STARTTLS), smtps://… (implicit TLS); see mail.ParseURL
	From    string // the From address, "Name <addr>" or addr
	// RetryMin is the first wait after a failed send, doubled each time
	// up to an hour.
	RetryMin time.Duration
	// ReplyInterval is the least time between two reply notifications to
	// one reader about one page (later ones wait in a digest).
	ReplyInterval time.Duration
	// AlertInterval is the least time between two moderator alerts of one
	// condition.
	AlertInterval time.Duration
	// Lease is how long a sender holds the messages it took from the
	// queue; after a crash they wait this long before they are sent.
	Lease time.Duration
	// QueueSize and QueueAge: a site's moderators are alerted when its
	// queue of held comments has this many, or its oldest has waited this
	// long; 0 for no limit.
	QueueSize int
	QueueAge  time.Duration

	// SMTP is SMTPURL parsed by Validate.
	SMTP mail.Config
}

// Enabled reports whether e-mail is configured.
func (m *Mail) Enabled() bool { return m.SMTPURL != "" }

func (m *Mail) defaults() {
	if m.RetryMin == 0 {
		m.RetryMin = 30 * time.Second
	}
	if m.ReplyInterval == 0 {
		m.ReplyInterval = time.Hour
	}
	if m.AlertInterval == 0 {
		m.AlertInterval = time.Hour
	}
	if m.Lease == 0 {
		m.Lease = time.Minute
	}
}

func (m *Mail) fromEnv(getenv func(string) string) error {
	if v := getenv("PARLEY_SMTP_URL"); v != "" {
		m.SMTPURL = v
	}
	if v := getenv("PARLEY_MAIL_FROM"); v != "" {
		m.From = v
	}
	for k, p := range map[string]*time.Duration{"PARLEY_MAIL_RETRY": &m.RetryMin, "PARLEY_REPLY_INTERVAL": &m.ReplyInterval, "PARLEY_ALERT_INTERVAL": &m.AlertInterval, "PARLEY_MAIL_LEASE": &m.Lease, "PARLEY_ALERT_QUEUE_AGE": &m.QueueAge} {
		if v := getenv(k); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = d
		}
	}
	if v := getenv("PARLEY_ALERT_QUEUE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("PARLEY_ALERT_QUEUE_SIZE: %q is not a number", v)
		}
		m.QueueSize = n
	}
	return nil
}

func (m *Mail) flags(fs *flag.FlagSet) {
	m.defaults()
	fs.StringVar(&m.SMTPURL, "smtp-url", m.SMTPURL, "send e-mail through this server: smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465, or smtp://127.0.0.1:25?starttls=off for a local relay (PARLEY_SMTP_URL)")
	fs.StringVar(&m.From, "mail-from", m.From, "the From address of Parley's e-mail, e.g. 'Comments <comments@example.com>' (PARLEY_MAIL_FROM)")
	fs.DurationVar(&m.RetryMin, "mail-retry", m.RetryMin, "first wait after a failed send, doubled each time up to 1h (PARLEY_MAIL_RETRY)")
	fs.DurationVar(&m.ReplyInterval, "reply-interval", m.ReplyInterval, "least time between two reply e-mails to one reader about one page; later replies wait in a digest (PARLEY_REPLY_INTERVAL)")
	fs.DurationVar(&m.Lease, "mail-lease", m.Lease, "how long a sender holds the messages it took from the queue; after a crash they wait this long (PARLEY_MAIL_LEASE)")
	fs.IntVar(&m.QueueSize, "alert-queue-size", m.QueueSize, "alert a site's moderators when this many comments are held; 0 = never (PARLEY_ALERT_QUEUE_SIZE)")
	fs.DurationVar(&m.QueueAge, "alert-queue-age", m.QueueAge, "alert a site's moderators when a held comment has waited this long, e.g. 2h; 0 = never (PARLEY_ALERT_QUEUE_AGE)")
	fs.DurationVar(&m.AlertInterval, "alert-interval", m.AlertInterval, "least time between two moderator alerts of one condition (PARLEY_ALERT_INTERVAL)")
}

func (m *Mail) validate() error {
	m.defaults()
	if (m.SMTPURL == "") != (m.From == "") {
		return errors.New("--smtp-url and --mail-from go together: give both to send e-mail, or neither")
	}
	if m.SMTPURL == "" {
		return nil
	}
	c, err := mail.ParseURL(m.SMTPURL)
	if err != nil {
		return err
	}
	m.SMTP = c
	if _, err := netmail.ParseAddress(m.From); err != nil {
		return fmt.Errorf("--mail-from %q is not an address", m.From)
	}
	if m.QueueSize < 0 || m.QueueAge < 0 {
		return errors.New("alert-queue-size and alert-queue-age must not be negative")
	}
	if m.RetryMin < time.Second/10 || m.Lease < time.Second || m.ReplyInterval < 0 || m.AlertInterval < 0 {
		return errors.New("mail-retry must be at least 100ms, mail-lease at least 1s, and the intervals not negative")
	}
	return nil
}
