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
		{"issued in seconds (an older release)", s, secondsToken(s, "abc123", now), now, "abc123", false},
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

// secondsToken is a session value as releases before issue time in
// milliseconds signed it.
func secondsToken(s *Sessions, id string, at time.Time) string {
	payload := id + "." + strconv.FormatInt(at.Unix(), 36)
	return payload + "." + s.mac(payload)
}

// TestSessionIssueTime: the issue time comes back to the millisecond (for
// sign out everywhere), and in seconds from a value of an older release.
func TestSessionIssueTime(t *testing.T) {
	s, _ := NewSessions([]byte(strings.Repeat("k", 32)), false)
	at := time.UnixMilli(1_700_000_000_123).UTC()
	s.Now = func() time.Time { return at.Add(400 * time.Microsecond) }
	id, issued, err := s.VerifyIssued(s.Token("u1"))
	if err != nil || id != "u1" || !issued.Equal(at) {
		t.Errorf("VerifyIssued = %q %v %v; want u1 at %v", id, issued, err, at)
	}
	id, issued, err = s.VerifyIssued(secondsToken(s, "u2", at))
	if err != nil || id != "u2" || !issued.Equal(at.Truncate(time.Second)) {
		t.Errorf("VerifyIssued of a value in seconds = %q %v %v", id, issued, err)
	}
	if _, _, err := s.VerifyIssued(strings.Replace(s.Token("u1"), ".m", ".q", 1)); err == nil {
		t.Error("a tampered value verified")
	}
}
