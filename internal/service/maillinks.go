package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Readers' e-mail: the address they leave for reply notifications
// (confirmed by a link), their settings, and sign-in by e-mail link.

// Lifetimes and limits of the links.
const (
	ConfirmTTL = 24 * time.Hour
	SignInTTL  = 15 * time.Minute
	// LinksPerAddress bounds the links of one kind sent to one address per
	// LinkWindow; LinksPerIP the sign-in requests from one address.
	LinksPerAddress = 3
	LinksPerIP      = 10
	LinkWindow      = time.Hour
)

// ReaderMail is what a reader sees of their e-mail settings.
type ReaderMail struct {
	Enabled bool   // the server sends e-mail at all
	Email   string // the confirmed address, "" for none
	Replies bool   // reply notifications on
}

// ReaderMailUpdate changes a reader's settings; nil fields stay.
type ReaderMailUpdate struct {
	// Email, when set, is a new address to confirm (a link is sent to it;
	// it is used once confirmed), or "" to remove the address.
	Email   *string
	Replies *bool
}

// normalEmail lower-cases and checks an address: EInvalid unless it is one
// bare address of at most 254 bytes.
func normalEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || strings.ContainsAny(s, "\r\n") {
		return "", parley.Errorf(parley.EInvalid, "not an e-mail address")
	}
	return s, nil
}

// newLinkToken returns a random token and the hash stored for it.
func newLinkToken() (tok, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	tok = base64.RawURLEncoding.EncodeToString(b)
	return tok, tokenHash(tok)
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func (n *Notifier) readerOf(a Actor) (*parley.User, error) {
	if a.User == nil {
		return nil, parley.Errorf(parley.EUnauthorized, "sign in or post a comment first")
	}
	return a.User, nil
}

// ReaderMail returns the caller's e-mail settings. EUnauthorized without a
// reader session.
func (n *Notifier) ReaderMail(ctx context.Context, a Actor) (ReaderMail, error) {
	u, err := n.readerOf(a)
	if err != nil {
		return ReaderMail{Enabled: n.Enabled()}, err
	}
	prefs, err := n.svc.store.MailPrefs(ctx, []string{u.ID})
	if err != nil {
		return ReaderMail{}, err
	}
	return ReaderMail{Enabled: n.Enabled(), Email: u.Email, Replies: !prefs[u.ID].NoReplies}, nil
}

// SetReaderMail changes the caller's settings. A new address is not used
// until the reader follows the link sent to it; EUnavailable when the
// server sends no e-mail, ERateLimited after LinksPerAddress links to the
// address within LinkWindow.
func (n *Notifier) SetReaderMail(ctx context.Context, a Actor, in ReaderMailUpdate) (ReaderMail, error) {
	u, err := n.readerOf(a)
	if err != nil {
		return ReaderMail{}, err
	}
	st := n.svc.store
	if in.Replies != nil {
		prefs, err := st.MailPrefs(ctx, []string{u.ID})
		if err != nil {
			return ReaderMail{}, err
		}
		p := prefs[u.ID]
		p.NoReplies, p.Updated = !*in.Replies, time.Time{}
		if err := st.SetMailPrefs(ctx, p); err != nil {
			return ReaderMail{}, err
		}
	}
	if in.Email != nil && *in.Email == "" && u.Email != "" {
		if u.IsStaff() {
			return ReaderMail{}, parley.Errorf(parley.EForbidden, "a moderator's address is changed by an admin")
		}
		var next *parley.User
		_, err := st.Update(ctx, func(tx store.Tx) error {
			var err error
			next, err = changeUser(tx, u.ID, func(x *parley.User) { x.Email = "" })
			return err
		})
		if err != nil {
			return ReaderMail{}, err
		}
		a.User = next
	} else if in.Email != nil && *in.Email != "" {
		email, err := normalEmail(*in.Email)
		if err != nil {
			return ReaderMail{}, err
		}
		if email != u.Email {
			if err := n.sendLink(ctx, MailConfirm, u.ID, email, "", ConfirmTTL, true); err != nil {
				return ReaderMail{}, err
			}
		}
	}
	return n.ReaderMail(ctx, a)
}

// sendLink queues a confirmation or sign-in link to email, with its token,
// in one unit of work. With strict, too many links to the address is an
// ERateLimited; without, the link is silently not sent (the caller must not
// learn anything from the answer).
func (n *Notifier) sendLink(ctx context.Context, kind, userID, email, browser string, ttl time.Duration, strict bool) error {
	if !n.Enabled() {
		return parley.Errorf(parley.EUnavailable, "this server sends no e-mail")
	}
	now := n.svc.now()
	sent, err := n.svc.store.MailTokensSince(ctx, kind, email, now.Add(-LinkWindow))
	if err != nil {
		return err
	}
	if sent >= LinksPerAddress {
		if strict {
			return parley.Errorf(parley.ERateLimited, "too many links were sent to this address; try again later")
		}
		return nil
	}
	tok, hash := newLinkToken()
	path := "/api/v1/mail/confirm"
	if kind == MailSignIn {
		path = "/api/v1/auth/email/verify"
	}
	link := n.base + path + "?" + url.Values{"t": {tok}}.Encode()
	data, err := json.Marshal(mailData{Link: link})
	if err != nil {
		return err
	}
	_, err = n.svc.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateMailToken(&store.MailToken{Hash: hash, Kind: kind, UserID: userID, Email: email,
			Browser: browser, Created: now, Expires: now.Add(ttl)}); err != nil {
			return err
		}
		_, err := tx.EnqueueMail(&store.QueuedMail{Key: kind + ":" + hash, Kind: kind, UserID: userID, To: email,
			Data: data, Created: now})
		return err
	})
	if err != nil {
		return err
	}
	n.Nudge()
	return nil
}

// checkToken reads a link's token and checks it: ENotFound for an
// unknown, used or expired token; EForbidden when the token is bound to
// another browser.
func (n *Notifier) checkToken(ctx context.Context, kind, tok, browser string) (*store.MailToken, error) {
	if tok == "" || len(tok) > 100 {
		return nil, errBadLink
	}
	t, err := n.svc.store.MailToken(ctx, tokenHash(tok))
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, errBadLink
	} else if err != nil {
		return nil, err
	}
	if t.Kind != kind || !t.Used.IsZero() || !n.svc.now().Before(t.Expires) {
		return nil, errBadLink
	}
	if t.Browser != "" && subtle.ConstantTimeCompare([]byte(t.Browser), []byte(browserHash(browser))) != 1 {
		return nil, parley.Errorf(parley.EForbidden, "open the link in the browser where you asked for it")
	}
	return t, nil
}

var errBadLink = parley.Errorf(parley.ENotFound, "this link is not valid any more; ask for a new one")

// spendToken marks a checked token used, in one unit of work with apply's
// writes: of two uses at once (on any instance) one wins, and the other
// gets ENotFound.
func (n *Notifier) spendToken(ctx context.Context, t *store.MailToken, apply func(tx store.Tx) error) error {
	_, err := n.svc.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.UseMailToken(t.Hash, n.svc.now()); err != nil {
			return err
		}
		if apply != nil {
			return apply(tx)
		}
		return nil
	})
	if parley.ErrorCode(err) == parley.EConflict {
		return errBadLink
	}
	return err
}

// browserHash is what is stored of the secret of the browser that asked
// for a sign-in link.
func browserHash(secret string) string {
	if secret == "" {
		return ""
	}
	return tokenHash("browser\x00" + secret)
}

// ConfirmEmail follows a confirmation link: the reader's address becomes
// the one the link was sent to.
func (n *Notifier) ConfirmEmail(ctx context.Context, tok string) (*parley.User, error) {
	t, err := n.checkToken(ctx, MailConfirm, tok, "")
	if err != nil {
		return nil, err
	}
	u, err := n.svc.store.User(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	next := u
	err = n.spendToken(ctx, t, func(tx store.Tx) error {
		var err error
		next, err = changeUser(tx, u.ID, func(x *parley.User) { x.Email = t.Email })
		return err
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// RequestSignIn sends a sign-in link to email when a reader has that
// address, bound to the browser whose secret is browser. It answers the
// same whether or not the address is known, and whether or not the link
// went out: only a malformed address (EInvalid), too many requests from
// the caller's IP (ERateLimited) or a server without e-mail
// (EUnavailable) are errors.
func (n *Notifier) RequestSignIn(ctx context.Context, a Actor, email, browser string) error {
	if !n.Enabled() {
		return parley.Errorf(parley.EUnavailable, "this server sends no e-mail")
	}
	email, err := normalEmail(email)
	if err != nil {
		return err
	}
	if browser == "" {
		return parley.Errorf(parley.EInvalid, "the browser's sign-in cookie is missing")
	}
	if !n.allowIP(n.svc.hashIP(a.IP)) {
		return parley.Errorf(parley.ERateLimited, "too many sign-in requests; try again later")
	}
	users, err := n.svc.store.UsersByEmail(ctx, email)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.IsStaff() {
			continue // moderators sign in with their password
		}
		return n.sendLink(ctx, MailSignIn, u.ID, email, browserHash(browser), SignInTTL, false)
	}
	return nil
}

// VerifySignIn follows a sign-in link from the browser whose secret is
// browser, and returns the reader it signs in.
func (n *Notifier) VerifySignIn(ctx context.Context, tok, browser string) (*parley.User, error) {
	t, err := n.checkToken(ctx, MailSignIn, tok, browser)
	if err != nil {
		return nil, err
	}
	u, err := n.svc.store.User(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Banned(n.svc.now()) {
		return nil, parley.Errorf(parley.EForbidden, "this account is banned")
	}
	if err := n.spendToken(ctx, t, nil); err != nil {
		return nil, err
	}
	return u, nil
}

// allowIP counts a sign-in request from the IP hash and reports whether it
// is within LinksPerIP per LinkWindow.
func (n *Notifier) allowIP(ip string) bool {
	now := n.svc.now()
	n.ipMu.Lock()
	defer n.ipMu.Unlock()
	if len(n.ips) > 100_000 {
		clear(n.ips)
	}
	kept := n.ips[ip][:0]
	for _, at := range n.ips[ip] {
		if now.Sub(at) < LinkWindow {
			kept = append(kept, at)
		}
	}
	if len(kept) >= LinksPerIP {
		n.ips[ip] = kept
		return false
	}
	n.ips[ip] = append(kept, now)
	return true
}
