package auth

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery", testArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with its parameters", h)
	}
	if h2, _ := HashPassword("correct horse battery", testArgon2); h2 == h {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		name     string
		hash     string
		password string
		ok       bool
		err      bool
	}{
		{"right", h, "correct horse battery", true, false},
		{"wrong", h, "correct horse batterY", false, false},
		{"empty", h, "", false, false},
		{"bcrypt hash", "$2a$10$abcdefghijklmnopqrstuv", "x", false, true},
		{"truncated", h[:len(h)-10], "correct horse battery", false, true},
		{"bad parameters", strings.Replace(h, "t=1", "t=0", 1), "correct horse battery", false, true},
		{"no hash", "", "correct horse battery", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := CheckPassword(tc.hash, tc.password)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Errorf("got %v, %v; want %v, error %v", ok, err, tc.ok, tc.err)
			}
		})
	}
	for _, pw := range []string{"short", strings.Repeat("x", MaxPasswordLen+1)} {
		if _, err := HashPassword(pw, testArgon2); err != ErrPasswordLength {
			t.Errorf("HashPassword of %d bytes: got %v, want ErrPasswordLength", len(pw), err)
		}
	}
}

func TestStaffTokenAndCSRF(t *testing.T) {
	s, err := NewSessions([]byte(strings.Repeat("k", 32)), true)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash := NewStaffToken()
	tok2, _ := NewStaffToken()
	if tok == tok2 || hash != HashStaffToken(tok) || hash == tok {
		t.Fatalf("tokens: %q %q hash %q", tok, tok2, hash)
	}
	csrf := s.CSRF(tok)
	if !s.CheckCSRF(tok, csrf) || s.CheckCSRF(tok2, csrf) || s.CheckCSRF(tok, "") || s.CheckCSRF(tok, csrf+"x") {
		t.Errorf("CSRF token not bound to its session")
	}
	other, _ := NewSessions([]byte(strings.Repeat("o", 32)), true)
	if other.CheckCSRF(tok, csrf) {
		t.Errorf("CSRF token valid under another key")
	}
	w := httptest.NewRecorder()
	s.SetStaff(w, tok, time.Now().Add(time.Hour))
	c := w.Header().Get("Set-Cookie")
	for _, want := range []string{StaffCookie + "=" + tok, "Path=" + StaffCookiePath, "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
}
