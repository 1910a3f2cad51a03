package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// StaffCookie is the name of the moderator session cookie on plain http.
const StaffCookie = "parley_staff"

// SecureStaffCookie is its name over HTTPS. The __Secure- prefix makes the
// browser accept it only with Secure, from an HTTPS page: a network
// attacker on plain http cannot plant it. (__Host- would also need
// Path=/, which would send the moderator's cookie with every request to
// Parley, not the admin API's alone.)
const SecureStaffCookie = "__Secure-" + StaffCookie

// staffCookie is the staff cookie's name for this deployment.
func (s *Sessions) staffCookie() string {
	if s.Secure {
		return SecureStaffCookie
	}
	return StaffCookie
}

// StaffCookiePath limits the moderator cookie to the admin API: no other
// request of the browser carries it.
const StaffCookiePath = "/api/v1/admin"

// StaffSessionTTL is how long a moderator stays signed in.
const StaffSessionTTL = 12 * time.Hour

// NewStaffToken returns a random session token for a staff cookie and the
// hash under which the server stores it.
func NewStaffToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashStaffToken(token)
}

// HashStaffToken returns the stored form of a session token: its SHA-256 in
// hex. The token has 256 random bits, so a fast hash is enough.
func HashStaffToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CSRF returns the anti-forgery token of a staff session: an HMAC of the
// session token under the server's key. It is bound to the session, so it
// changes at every sign-in and dies with the session, and the server needs
// to store nothing for it.
func (s *Sessions) CSRF(sessionToken string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("csrf\x00"))
	m.Write([]byte(sessionToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether got is the CSRF token of the session, in
// constant time.
func (s *Sessions) CheckCSRF(sessionToken, got string) bool {
	want := s.CSRF(sessionToken)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// StaffToken returns the session token of the request's staff cookie, or "".
func (s *Sessions) StaffToken(r *http.Request) string {
	c, err := r.Cookie(s.staffCookie())
	if err != nil || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

// SetStaff sets the staff session cookie: HttpOnly, SameSite=Strict, limited
// to the admin API, Secure over HTTPS, and expiring with the session.
func (s *Sessions) SetStaff(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.staffCookie(),
		Value:    token,
		Path:     StaffCookiePath,
		Expires:  expires,
		MaxAge:   int(time.Until(expires) / time.Second),
		HttpOnly: true,
		Secure:   s.Secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// ClearStaff removes the staff session cookie.
func (s *Sessions) ClearStaff(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.staffCookie(),
		Value:    "",
		Path:     StaffCookiePath,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.Secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// StaffHandoffPath is where a moderator's OpenID Connect sign-in ends. The
// provider's callback is outside the admin API, so it cannot see a staff
// cookie the browser already holds; it hands the new session to this
// path of the admin API in a cookie limited to it, and the page there
// revokes the old session before it sets the new one.
const StaffHandoffPath = StaffCookiePath + "/oidc/finish"

// staffHandoffCookie is the hand-off cookie's name for this deployment.
func (s *Sessions) staffHandoffCookie() string {
	if s.Secure {
		return "__Secure-parley_staff_handoff"
	}
	return "parley_staff_handoff"
}

// staffHandoffTTL is how long a hand-off waits for its page.
const staffHandoffTTL = 2 * time.Minute

// SetStaffHandoff hands a new staff session to StaffHandoffPath: HttpOnly,
// SameSite=Lax (the provider's redirect is a cross-site navigation),
// limited to that one path and to two minutes.
func (s *Sessions) SetStaffHandoff(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.staffHandoffCookie(),
		Value:    fmt.Sprintf("%d.%s", expires.Unix(), token),
		Path:     StaffHandoffPath,
		MaxAge:   int(staffHandoffTTL / time.Second),
		HttpOnly: true,
		Secure:   s.Secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// StaffHandoff returns the session a hand-off cookie carries and clears
// the cookie: a hand-off is spent on its first use.
func (s *Sessions) StaffHandoff(w http.ResponseWriter, r *http.Request) (token string, expires time.Time, ok bool) {
	c, err := r.Cookie(s.staffHandoffCookie())
	if err != nil {
		return "", time.Time{}, false
	}
	http.SetCookie(w, &http.Cookie{Name: s.staffHandoffCookie(), Value: "", Path: StaffHandoffPath, MaxAge: -1,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
	var unix int64
	var tok string
	if n, err := fmt.Sscanf(c.Value, "%d.%s", &unix, &tok); err != nil || n != 2 || len(tok) > 128 || tok == "" {
		return "", time.Time{}, false
	}
	return tok, time.Unix(unix, 0), true
}
