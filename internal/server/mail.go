package server

import (
	"crypto/tls"

	"github.com/parleyhq/parley/internal/mail"
	"github.com/parleyhq/parley/internal/service"
)

// notifier builds the instance's e-mail: with --smtp-url and --mail-from a
// Notifier sending through that server, without them one that sends
// nothing (and says so to the widget and the admin UI). Its key, derived
// from the signing key, signs unsubscribe links.
func (s *Server) notifier(svc *service.Service, key []byte, tlsConfig *tls.Config) *service.Notifier {
	cfg := s.cfg.Mail
	var m service.Mailer
	if cfg.Enabled() {
		smtp := mail.NewSMTP(cfg.SMTP)
		smtp.TLS = tlsConfig
		m = smtp
		s.logger.Info("mail: sending e-mail", "smtp", cfg.SMTP.String()) // String omits the password
	} else {
		s.logger.Info("mail: off; give --smtp-url and --mail-from to send e-mail")
	}
	n := service.NewNotifier(svc, m, cfg.From, s.cfg.BaseURL, append([]byte("mail\x00"), key...))
	n.Logger = s.logger
	if cfg.RetryMin > 0 {
		n.MinBackoff = cfg.RetryMin
	}
	if cfg.ReplyInterval > 0 {
		n.ReplyInterval = cfg.ReplyInterval
	}
	n.QueueSize, n.QueueAge = cfg.QueueSize, cfg.QueueAge
	if cfg.Lease > 0 {
		n.Lease = cfg.Lease
	}
	if cfg.AlertInterval > 0 {
		n.AlertInterval = cfg.AlertInterval
	}
	if n.MinBackoff < n.Poll {
		n.Poll = n.MinBackoff // a short retry (tests) is not held up by the poll
	}
	return n
}
