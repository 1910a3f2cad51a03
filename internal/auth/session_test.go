package auth

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSessionsRoundTrip(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	s, err := NewSessions(key, false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s.Now = func() time.Time { return now }
	tok := s.Token("abc123")

	other, _ := NewSessions([]byte(strings.Repeat("x", 32)), false)
	tests := []struct {
		name    string
		s       *Sessions
		token   string
		at      time.Time
		want    string
		wantErr bool
	}{
		{"valid", s, tok, now, "abc123", false},
		{"other key", other, tok, now, "", true},
		{"tampered id", s, "abd123" + tok[6:], now, "", true},
		{"truncated", s, tok[:len(tok)-2], now, "", true},
		{"empty", s, "", now, "", true},
		{"no dots", s, "garbage", now, "", true},
		{"expired", s, tok, now.Add(366 * 24 * time.Hour), "", true},
		{"huge", s, strings.Repeat("a", 1000), now, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			tt.s.Now = func() time.Time { return at }
			got, err := tt.s.Verify(tt.token)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Verify = %q, %v; want %q, err=%v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSetReaderCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		s, _ := NewSessions([]byte(strings.Repeat("k", 32)), secure)
		w := httptest.NewRecorder()
		s.SetReader(w, "u1")
		h := w.Header().Get("Set-Cookie")
		if !strings.Contains(h, "HttpOnly") {
			t.Errorf("secure=%v: cookie %q is not HttpOnly", secure, h)
		}
		wantSame := "SameSite=Lax"
		if secure {
			wantSame = "SameSite=None"
			if !strings.Contains(h, "Secure") {
				t.Errorf("cookie %q lacks Secure", h)
			}
		}
		if !strings.Contains(h, wantSame) {
			t.Errorf("secure=%v: cookie %q lacks %s", secure, h, wantSame)
		}
		r := &http.Request{Header: http.Header{"Cookie": {h}}}
		if got := s.Reader(r); got != "u1" {
			t.Errorf("Reader = %q, want u1", got)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(filepath.Join(dir, "k"))
	if err != nil || string(k1) != string(k2) || len(k1) != 32 {
		t.Fatalf("key not stable: %x %x %v", k1, k2, err)
	}
	t1, created, err := LoadOrCreateToken(filepath.Join(dir, "t"))
	if err != nil || !created || len(t1) < 30 {
		t.Fatalf("token %q created=%v err=%v", t1, created, err)
	}
	t2, created, _ := LoadOrCreateToken(filepath.Join(dir, "t"))
	if t2 != t1 || created {
		t.Fatalf("token not stable")
	}
	if !TokenEqual(t1, t2) || TokenEqual(t1, "x") || TokenEqual("", "") {
		t.Fatal("TokenEqual wrong")
	}
}

// TestReaderTokenFresh: every sign-in gets a new session value, even twice
// for one reader in one millisecond, and the value carries its issue time to
// the millisecond (what ending sessions on the server compares); a value of
// the older form (seconds, no random part) is still read.
func TestReaderTokenFresh(t *testing.T) {
	s, _ := NewSessions([]byte(strings.Repeat("k", 32)), false)
	now := time.UnixMilli(1_700_000_000_123)
	s.Now = func() time.Time { return now }
	seen := map[string]bool{}
	for range 1000 {
		tok := s.Token("abc123")
		if seen[tok] {
			t.Fatalf("Token gave %q twice", tok)
		}
		seen[tok] = true
		id, issued, err := s.VerifyIssued(tok)
		if err != nil || id != "abc123" || !issued.Equal(now) {
			t.Fatalf("VerifyIssued = %q, %v, %v; want abc123 issued %v", id, issued, err, now)
		}
	}
	legacy := "abc123." + strconv.FormatInt(now.Unix(), 36)
	legacy += "." + s.mac(legacy)
	id, issued, err := s.VerifyIssued(legacy)
	if err != nil || id != "abc123" || !issued.Equal(time.Unix(now.Unix(), 0)) {
		t.Fatalf("older form: got %q, %v, %v", id, issued, err)
	}
	empty := "abc123." + strconv.FormatInt(now.UnixMilli(), 36) + "."
	if _, err := s.Verify(empty + "." + s.mac(empty)); err == nil {
		t.Fatal("a value with an empty random part was accepted")
	}
}
