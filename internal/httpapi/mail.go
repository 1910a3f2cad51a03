package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// E-mail: a reader's address and settings, the links Parley mails
// (confirmation, sign-in, one-click unsubscribe), all answered here and
// decided in service.Notifier.

// signInCookie binds a sign-in link to the browser that asked for it.
const signInCookie = "parley_signin"

// mailPageCSP: the small HTML pages the links open; the unsubscribe page
// has a form posting to itself.
const mailPageCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type readerMailJSON struct {
	Enabled  bool   `json:"enabled"` // the server sends e-mail
	SignedIn bool   `json:"signed_in"`
	Email    string `json:"email"` // the confirmed address; "" for none
	Replies  bool   `json:"replies"`
	// ConfirmationSent is true when a link was just sent to a new address.
	ConfirmationSent bool `json:"confirmation_sent,omitempty"`
}

func toReaderMail(m service.ReaderMail, signedIn bool) readerMailJSON {
	return readerMailJSON{Enabled: m.Enabled, SignedIn: signedIn, Email: m.Email, Replies: m.Replies}
}

// handleGetMail serves GET /api/v1/me/mail: whether the server sends
// e-mail, and the reader's address and settings.
func (s *Server) handleGetMail(w http.ResponseWriter, r *http.Request) {
	u, err := s.reader(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if u == nil {
		writeJSON(w, http.StatusOK, readerMailJSON{Enabled: s.mail.Enabled(), Replies: true})
		return
	}
	m, err := s.mail.ReaderMail(r.Context(), service.Actor{User: u})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toReaderMail(m, true))
}

// handlePatchMail serves PATCH /api/v1/me/mail {"email": …, "replies": …}:
// a new address gets a confirmation link and is used once confirmed.
func (s *Server) handlePatchMail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email   *string `json:"email"`
		Replies *bool   `json:"replies"`
	}
	actor, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	m, err := s.mail.SetReaderMail(r.Context(), actor, service.ReaderMailUpdate{Email: in.Email, Replies: in.Replies})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toReaderMail(m, true)
	out.ConfirmationSent = in.Email != nil && *in.Email != "" && m.Email != *in.Email
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, out)
}

// handleConfirmMail serves GET /api/v1/mail/confirm?t=TOKEN, the link of
// a confirmation message.
func (s *Server) handleConfirmMail(w http.ResponseWriter, r *http.Request) {
	_, err := s.mail.ConfirmEmail(r.Context(), r.URL.Query().Get("t"))
	if err != nil {
		s.mailPage(w, r, statusOf[parley.ErrorCode(err)], "This link does not work", parley.ErrorMessage(err), "")
		return
	}
	s.mailPage(w, r, http.StatusOK, "Address confirmed", "You will be told by e-mail when someone replies to your comments. Each message has a link to stop them.", "")
}

// handleUnsubscribe serves GET and POST /api/v1/mail/unsubscribe?u=&k=&s=.
// POST is RFC 8058's one click (List-Unsubscribe-Post), sent by the mail
// client or by the button of the page GET shows: a GET changes nothing,
// since link scanners follow links.
func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	what := "reply notifications"
	if q.Get("k") == service.MailAlert {
		what = "moderator alerts"
	}
	if r.Method == http.MethodGet {
		s.mailPage(w, r, http.StatusOK, "Stop "+what+"?", "Press the button to stop receiving "+what+" from these comments.", r.URL.RequestURI())
		return
	}
	if err := s.mail.Unsubscribe(r.Context(), q.Get("u"), q.Get("k"), q.Get("s")); err != nil {
		s.mailPage(w, r, statusOf[parley.ErrorCode(err)], "This link does not work", parley.ErrorMessage(err), "")
		return
	}
	s.mailPage(w, r, http.StatusOK, "Unsubscribed", "You will receive no more "+what+".", "")
}

// handleEmailSignIn serves POST /api/v1/auth/email {"email": …}: a
// sign-in link goes to the address if a reader has it. The answer is the
// same either way; the browser gets the cookie the link must come back
// with.
func (s *Server) handleEmailSignIn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		Site  string `json:"site"`
	}
	actor, ok := s.begin(w, r, &in, s.actionLimits)
	if !ok {
		return
	}
	secret := ""
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		secret = c.Value
	} else {
		b := make([]byte, 32)
		rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := s.mail.RequestSignIn(r.Context(), actor, in.Email, secret); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, s.signInCookie(secret, int(service.SignInTTL/time.Second)))
	writeJSON(w, http.StatusAccepted, map[string]string{
		"status": "If a reader has this address, a sign-in link is on its way. It works once, for 15 minutes, in this browser.",
	})
}

// signInCookie is the cookie that binds a sign-in link to the browser that
// asked for it (maxAge -1 deletes it). Over HTTPS it is SameSite=None and
// Secure, so that the widget's cross-site request may set it, and
// Partitioned (CHIPS), so that a browser that blocks third-party cookies
// keeps it in the embedding site's partition instead of refusing it. A
// partitioned cookie is deleted only by a Set-Cookie that is partitioned
// too: the deletion carries the same attributes.
func (s *Server) signInCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: signInCookie, Value: value, Path: "/api/v1/auth/email", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if s.sessions.Secure {
		c.Secure, c.SameSite, c.Partitioned = true, http.SameSiteNoneMode, true
	}
	return c
}

// handleEmailVerify serves GET /api/v1/auth/email/verify?t=TOKEN, the link
// of a sign-in message: in the browser that asked, it signs the reader in.
func (s *Server) handleEmailVerify(w http.ResponseWriter, r *http.Request) {
	secret := ""
	if c, err := r.Cookie(signInCookie); err == nil {
		secret = c.Value
	}
	u, err := s.mail.VerifySignIn(r.Context(), r.URL.Query().Get("t"), secret)
	if err != nil {
		s.mailPage(w, r, statusOf[parley.ErrorCode(err)], "This link does not work", parley.ErrorMessage(err), "")
		return
	}
	if err := s.signInReader(w, r, u.ID); err != nil {
		s.mailPage(w, r, statusOf[parley.ErrorCode(err)], "This link does not work", parley.ErrorMessage(err), "")
		return
	}
	http.SetCookie(w, s.signInCookie("", -1))
	s.mailPage(w, r, http.StatusOK, "Signed in", "You are signed in as "+u.Name+". Go back to the discussion and reload it.", "")
}

var mailPageTmpl = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
<h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Action}}<form method="post" action="{{.Action}}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

// mailPage answers a link with a small HTML page.
func (s *Server) mailPage(w http.ResponseWriter, r *http.Request, status int, title, text, action string) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", mailPageCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	w.WriteHeader(status)
	mailPageTmpl.Execute(w, map[string]string{"Title": title, "Text": text, "Action": action})
}

type staffMailJSON struct {
	Enabled bool   `json:"enabled"` // the server sends e-mail
	Email   string `json:"email"`
	Alerts  bool   `json:"alerts"`
	Digest  bool   `json:"digest"` // one message a day instead of each alert
}

// handleStaffMail serves GET and PATCH /api/v1/admin/me/mail
// {"alerts": …, "digest": …}: the signed-in moderator's alert settings.
func (s *Server) handleStaffMail(w http.ResponseWriter, r *http.Request) {
	var out service.StaffMail
	var err error
	if r.Method == http.MethodPatch {
		var in struct {
			Alerts *bool `json:"alerts"`
			Digest *bool `json:"digest"`
		}
		if err := decode(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err = s.mail.SetStaffMail(r.Context(), s.staff(r), in.Alerts, in.Digest)
	} else {
		out, err = s.mail.StaffMailSettings(r.Context(), s.staff(r))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, staffMailJSON{Enabled: out.Enabled, Email: out.Email, Alerts: out.Alerts, Digest: out.Digest})
}
