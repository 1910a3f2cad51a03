package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCookiePrefixes pins the session cookies' names and attributes: over
// HTTPS the reader's is __Host- (Secure, Path=/, no Domain: only this host
// can set it) and the moderator's __Secure- (Secure, limited to the admin
// API), and a cookie under the plain name is not read there; on plain http
// (local development) both keep their plain names and still work.
func TestCookiePrefixes(t *testing.T) {
	tests := []struct {
		name             string
		secure           bool
		reader, staff    string
		readerAttrs      []string
		staffAttrs       []string
		plainReaderWorks bool
	}{
		{"https", true, "__Host-parley_reader", "__Secure-parley_staff",
			[]string{"Path=/", "Secure", "HttpOnly", "SameSite=None"},
			[]string{"Path=/api/v1/admin", "Secure", "HttpOnly", "SameSite=Strict"}, false},
		{"plain http", false, "parley_reader", "parley_staff",
			[]string{"Path=/", "HttpOnly", "SameSite=Lax"},
			[]string{"Path=/api/v1/admin", "HttpOnly", "SameSite=Strict"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := NewSessions([]byte(strings.Repeat("k", 32)), tt.secure)
			w := httptest.NewRecorder()
			s.SetReader(w, "u1")
			s.SetStaff(w, "tok", time.Now().Add(time.Hour))
			cookies := w.Result().Cookies()
			raw := w.Header().Values("Set-Cookie")
			if len(cookies) != 2 || cookies[0].Name != tt.reader || cookies[1].Name != tt.staff {
				t.Fatalf("cookies set: %q; want %s and %s", raw, tt.reader, tt.staff)
			}
			for i, want := range [][]string{tt.readerAttrs, tt.staffAttrs} {
				for _, a := range want {
					if !strings.Contains(raw[i], a) {
						t.Errorf("cookie %q lacks %s", raw[i], a)
					}
				}
				if strings.Contains(raw[i], "Domain=") {
					t.Errorf("cookie %q has a Domain", raw[i])
				}
				if !tt.secure && strings.Contains(raw[i], "Secure") {
					t.Errorf("cookie %q is Secure on plain http: the browser would drop it", raw[i])
				}
			}
			r := &http.Request{Header: http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value + "; " + cookies[1].Name + "=" + cookies[1].Value}}}
			if got := s.Reader(r); got != "u1" {
				t.Errorf("Reader = %q, want u1", got)
			}
			if got := s.StaffToken(r); got != "tok" {
				t.Errorf("StaffToken = %q, want tok", got)
			}
			plain := &http.Request{Header: http.Header{"Cookie": {"parley_reader=" + cookies[0].Value + "; parley_staff=tok"}}}
			if got := s.Reader(plain) == "u1"; got != tt.plainReaderWorks {
				t.Errorf("a cookie named parley_reader read: %v, want %v", got, tt.plainReaderWorks)
			}
			if got := s.StaffToken(plain) == "tok"; got != tt.plainReaderWorks {
				t.Errorf("a cookie named parley_staff read: %v, want %v", got, tt.plainReaderWorks)
			}
			// Clearing names the same cookies.
			w = httptest.NewRecorder()
			s.ClearReader(w)
			s.ClearStaff(w)
			if cs := w.Result().Cookies(); len(cs) != 2 || cs[0].Name != tt.reader || cs[1].Name != tt.staff || cs[0].MaxAge >= 0 {
				t.Errorf("clearing: %q", w.Header().Values("Set-Cookie"))
			}
		})
	}
}
