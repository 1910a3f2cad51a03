// Package auth identifies callers: readers by a signed session cookie,
// readers a publisher signed in by their SSO token (HS256 with the site's
// secret, or RS256/ES256/EdDSA with keys from the publisher's JWKS, fetched
// through package outbound), moderators and admins by their staff session
// (an opaque token stored hashed, Argon2id passwords, a CSRF token bound to
// the session), and the automation by the admin bearer token. It holds no
// state beyond a signing key and the JWKS cache; accounts and sessions are
// stored by the service.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ReaderCookie is the name of the reader session cookie on plain http
// (local use).
const ReaderCookie = "parley_reader"

// SecureReaderCookie is its name over HTTPS. The __Host- prefix makes the
// browser accept it only when set by this host itself, Secure, for Path=/
// and without Domain, so a page on a sibling subdomain, or a network
// attacker on plain http, cannot plant or overwrite a reader's session.
// (An HTTPS deployment that ran a release before this one signs its
// anonymous readers out once: the unprefixed cookie is not read there.)
const SecureReaderCookie = "__Host-" + ReaderCookie

// readerCookie is the reader cookie's name for this deployment.
func (s *Sessions) readerCookie() string {
	if s.Secure {
		return SecureReaderCookie
	}
	return ReaderCookie
}

// Sessions signs and verifies reader session cookies. The cookie holds the
// reader's user id and its issue time, signed with HMAC-SHA256; nothing about
// the reader is stored in the cookie that the server does not already know.
type Sessions struct {
	key    []byte
	Secure bool          // HTTPS: SameSite=None; Secure, so the cross-site embed works
	MaxAge time.Duration // cookie lifetime; default one year
	Now    func() time.Time
}

// NewSessions returns Sessions signing with key (at least 32 bytes).
func NewSessions(key []byte, secure bool) (*Sessions, error) {
	if len(key) < 32 {
		return nil, errors.New("session key must be at least 32 bytes")
	}
	return &Sessions{key: key, Secure: secure, MaxAge: 365 * 24 * time.Hour, Now: time.Now}, nil
}

func (s *Sessions) mac(payload string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token returns a new signed session value for userID. It holds the issue
// time in milliseconds and 96 random bits, so that no two sign-ins ever get
// the same value: each is a new session id, which the server can end alone
// (ReaderSessionHash).
func (s *Sessions) Token(userID string) string {
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	payload := userID + "." + strconv.FormatInt(s.Now().UnixMilli(), 36) + "." + base64.RawURLEncoding.EncodeToString(nonce)
	return payload + "." + s.mac(payload)
}

// Verify returns the user id in a signed session value, or an error when the
// value is malformed, forged or expired.
func (s *Sessions) Verify(token string) (string, error) {
	id, _, err := s.VerifyIssued(token)
	return id, err
}

// VerifyIssued is Verify, also returning when the session was issued. A
// value of the older form (issue time in seconds, no random part) is still
// read, with its time in seconds.
func (s *Sessions) VerifyIssued(token string) (string, time.Time, error) {
	if len(token) > 256 {
		return "", time.Time{}, errors.New("session too long")
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", time.Time{}, errors.New("malformed session")
	}
	payload, sig := token[:i], token[i+1:]
	if subtle.ConstantTimeCompare([]byte(sig), []byte(s.mac(payload))) != 1 {
		return "", time.Time{}, errors.New("bad session signature")
	}
	id, rest, ok := strings.Cut(payload, ".")
	if !ok || id == "" {
		return "", time.Time{}, errors.New("malformed session")
	}
	ts, nonce, withNonce := strings.Cut(rest, ".")
	n, err := strconv.ParseInt(ts, 36, 64)
	if err != nil || (withNonce && nonce == "") {
		return "", time.Time{}, errors.New("malformed session time")
	}
	issued := time.Unix(n, 0)
	if withNonce {
		issued = time.UnixMilli(n)
	}
	if s.Now().Sub(issued) > s.MaxAge {
		return "", time.Time{}, errors.New("session expired")
	}
	return id, issued, nil
}

// ReaderSession is the reader session of a request's cookie.
type ReaderSession struct {
	UserID  string
	Hash    string    // what the server stores to end it (ReaderSessionHash)
	Issued  time.Time // when it was issued (see parley.User.SessionsAfter)
	Expires time.Time // when the cookie expires by itself
}

// ReaderSession returns the request's reader session: the zero value
// without a valid one.
func (s *Sessions) ReaderSession(r *http.Request) ReaderSession {
	c, err := r.Cookie(s.readerCookie())
	if err != nil {
		return ReaderSession{}
	}
	id, issued, err := s.VerifyIssued(c.Value)
	if err != nil {
		return ReaderSession{}
	}
	return ReaderSession{UserID: id, Hash: ReaderSessionHash(c.Value), Issued: issued, Expires: issued.Add(s.MaxAge)}
}

// ReaderSessionHash is the stored form of an ended reader session: the
// SHA-256 of the cookie's value, kept apart from the staff sessions' hashes.
func ReaderSessionHash(token string) string {
	return HashStaffToken("reader\x00" + token)
}

// Reader returns the reader id of the request's session cookie, or "".
func (s *Sessions) Reader(r *http.Request) string {
	c, err := r.Cookie(s.readerCookie())
	if err != nil {
		return ""
	}
	id, err := s.Verify(c.Value)
	if err != nil {
		return ""
	}
	return id
}

// SetReader sets the session cookie for userID on w. Over HTTPS the cookie is
// SameSite=None; Secure so that it travels with the widget's cross-site
// requests; on plain http (local use) it is SameSite=Lax. Always HttpOnly.
func (s *Sessions) SetReader(w http.ResponseWriter, userID string) {
	c := &http.Cookie{
		Name:     s.readerCookie(),
		Value:    s.Token(userID),
		Path:     "/",
		MaxAge:   int(s.MaxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if s.Secure {
		c.Secure = true
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = true
	}
	http.SetCookie(w, c)
}

// NewID returns a random 16-byte identifier in hex.
func NewID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// LoadOrCreateKey reads a hex key from path, or generates a 32-byte key and
// stores it there with mode 0600.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 32 {
			return nil, fmt.Errorf("key file %s is corrupt", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := writeSecret(path, hex.EncodeToString(key)); err != nil {
		return nil, err
	}
	return key, nil
}

// LoadOrCreateToken reads the admin token from path, or generates one and
// stores it there. created reports whether it is new (so it can be printed once).
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read admin token: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	if err := writeSecret(path, token); err != nil {
		return "", false, err
	}
	return token, true, nil
}

func writeSecret(path, value string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TokenEqual compares a presented bearer token with the configured one in
// constant time.
func TokenEqual(got, want string) bool {
	if want == "" || got == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// BearerToken returns the token of an "Authorization: Bearer …" header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// ClearReader removes the reader session cookie (a reader signing out),
// with the attributes SetReader gave it so that the browser replaces it.
func (s *Sessions) ClearReader(w http.ResponseWriter) {
	c := &http.Cookie{Name: s.readerCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if s.Secure {
		c.Secure = true
		c.SameSite = http.SameSiteNoneMode
		c.Partitioned = true
	}
	http.SetCookie(w, c)
}
