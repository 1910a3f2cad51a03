package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/service"
)

// limitCase is one value sent into a limited field: what it is, the value,
// and whether it is within the limit.
type limitCase struct {
	name string
	val  string
	ok   bool
}

// runeCases are values around a limit counted in characters (code points):
// one under, at and one over it in one-byte, two-, three- and four-byte
// characters, and at the limit in four-byte characters with a one-byte
// one after (so the byte length is four times the limit).
func runeCases(limit int) []limitCase {
	var out []limitCase
	for _, r := range []string{"a", "é", "€", "𝒜"} {
		for _, d := range []int{-1, 0, 1} {
			out = append(out, limitCase{fmt.Sprintf("%d×%q", limit+d, r), strings.Repeat(r, limit+d), d <= 0})
		}
	}
	out = append(out,
		limitCase{"limit-1 four-byte + one byte", strings.Repeat("𝒜", limit-1) + "z", true},
		limitCase{"limit four-byte + one byte", strings.Repeat("𝒜", limit) + "z", false},
		limitCase{"limit-1 one-byte + four-byte", strings.Repeat("a", limit-1) + "𝒜", true},
		limitCase{"limit one-byte + four-byte", strings.Repeat("a", limit) + "𝒜", false},
	)
	return out
}

// byteCases are values around a limit counted in bytes, made of fill
// (a one-byte string): one under, at and one over it, a multi-byte
// character ending exactly at the limit, and one straddling it (starting
// before the limit, ending after), which must be refused whole rather than
// cut inside its sequence.
func byteCases(limit int, fill string) []limitCase {
	return []limitCase{
		{"limit-1 bytes", strings.Repeat(fill, limit-1), true},
		{"limit bytes", strings.Repeat(fill, limit), true},
		{"limit+1 bytes", strings.Repeat(fill, limit+1), false},
		{"two-byte rune ending at the limit", strings.Repeat(fill, limit-2) + "é", true},
		{"two-byte rune straddling the limit", strings.Repeat(fill, limit-1) + "é", false},
		{"four-byte rune ending at the limit", strings.Repeat(fill, limit-4) + "𝒜", true},
		{"four-byte rune straddling the limit", strings.Repeat(fill, limit-2) + "𝒜", false},
		{"three-byte runes up to the limit", strings.Repeat(fill, limit%3) + strings.Repeat("€", limit/3), true},
		{"three-byte runes one byte over", strings.Repeat(fill, limit%3+1) + strings.Repeat("€", limit/3), false},
	}
}

// checkLimit asserts the answer to one limitCase: within the limit, a 2xx;
// over it, a 4xx JSON error whose message names the field.
func checkLimit(t *testing.T, field string, tc limitCase, res resp) bool {
	t.Helper()
	if tc.ok {
		if res.status < 200 || res.status > 299 {
			t.Errorf("%s %s (%d bytes, %d runes): %d, want it accepted: %.300s", field, tc.name, len(tc.val), utf8.RuneCountInString(tc.val), res.status, res.body)
			return false
		}
		return true
	}
	if res.status < 400 || res.status > 499 {
		t.Errorf("%s %s (%d bytes, %d runes): %d, want a 4xx: %.300s", field, tc.name, len(tc.val), utf8.RuneCountInString(tc.val), res.status, res.body)
		return false
	}
	m := res.json(t)
	e, _ := m["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if code, _ := e["code"].(string); code == "" || msg == "" {
		t.Errorf("%s %s: %d without a JSON error code and message: %.300s", field, tc.name, res.status, res.body)
	} else if !strings.Contains(strings.ToLower(msg), strings.ToLower(field)) {
		t.Errorf("%s %s: the error %q does not name the field", field, tc.name, msg)
	}
	return false
}

// TestFieldLimits sends every limited field of every write path values one
// under, at and one over its limit, counted in bytes or characters as the
// limit is, with multi-byte characters at and across the limit. Up to the
// limit a value is accepted and kept exactly as sent (no silent cut, no
// split UTF-8 sequence); over it the request is refused with a 4xx JSON
// error naming the field, and nothing is stored.
func TestFieldLimits(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	admin := e.reader("")
	// The site's own max_length is a moderation rule (a comment over it is
	// rejected, kept for the moderators); the hard cap is what is tested.
	if res := admin.do("PATCH", "/api/v1/admin/sites/news/policy", map[string]any{"max_length": 0}, "Authorization", "Bearer "+adminToken); res.status != http.StatusOK {
		t.Fatalf("PATCH policy: %d %s", res.status, res.body)
	}
	n := 0
	fresh := func() string { n++; return fmt.Sprintf("%s/limits/%d", siteOrigin, n) }
	stored := func(id int64) *parley.Comment {
		t.Helper()
		c, err := e.db.Comment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	idOf := func(res resp) int64 {
		c, _ := res.json(t)["comment"].(map[string]any)
		id, _ := c["id"].(float64)
		return int64(id)
	}

	t.Run("comment text", func(t *testing.T) {
		for _, tc := range byteCases(service.MaxTextBytes, "a") {
			u := fresh()
			res := e.reader("Ann").do("POST", "/api/v1/comments", map[string]any{"site": "news", "url": u, "title": "Limits", "name": "Ann", "text": tc.val})
			if checkLimit(t, "text", tc, res) {
				if got := stored(idOf(res)).Text; got != tc.val {
					t.Errorf("text %s: stored %d bytes (valid UTF-8 %v), sent %d", tc.name, len(got), utf8.ValidString(got), len(tc.val))
				}
			} else if _, err := e.db.Page(ctx, "news", u); parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("text %s: refused, yet its page was made (%v)", tc.name, err)
			}
		}
	})

	t.Run("edited text", func(t *testing.T) {
		ann := e.reader("Ann")
		res := ann.post("to be edited", map[string]any{"url": fresh()})
		if res.status != http.StatusCreated {
			t.Fatalf("post: %d %s", res.status, res.body)
		}
		id := idOf(res)
		for _, tc := range byteCases(service.MaxTextBytes, "b") {
			before := stored(id).Text
			res := ann.do("PATCH", fmt.Sprintf("/api/v1/comments/%d", id), map[string]any{"text": tc.val})
			got := stored(id).Text
			if checkLimit(t, "text", tc, res) {
				if got != tc.val {
					t.Errorf("edit %s: stored %d bytes (valid UTF-8 %v), sent %d", tc.name, len(got), utf8.ValidString(got), len(tc.val))
				}
			} else if got != before {
				t.Errorf("edit %s: refused, yet the text changed to %d bytes", tc.name, len(got))
			}
		}
	})

	t.Run("author name", func(t *testing.T) {
		for _, tc := range runeCases(service.MaxNameRunes) {
			res := e.reader(tc.val).post("A comment under a long name.", map[string]any{"url": fresh()})
			if checkLimit(t, "name", tc, res) {
				if got := stored(idOf(res)).AuthorName; got != tc.val {
					t.Errorf("name %s: stored %q (%d runes), sent %d runes", tc.name, got, utf8.RuneCountInString(got), utf8.RuneCountInString(tc.val))
				}
			}
		}
	})

	t.Run("page title", func(t *testing.T) {
		for _, tc := range runeCases(service.MaxTitle) {
			u := fresh()
			res := e.reader("Ann").post("A comment under a long title.", map[string]any{"url": u, "title": tc.val})
			p, err := e.db.Page(ctx, "news", u)
			if checkLimit(t, "title", tc, res) {
				if err != nil || p.Title != tc.val {
					t.Errorf("title %s: stored %v %q, sent %d runes", tc.name, err, p.Title, utf8.RuneCountInString(tc.val))
				}
			} else if parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("title %s: refused, yet its page was made (%v)", tc.name, err)
			}
		}
	})

	t.Run("page URL", func(t *testing.T) {
		// A URL is kept as its canonical form, which percent-encodes every
		// byte of a non-ASCII character: the limit is on that form.
		prefix := siteOrigin + "/"
		for _, tc := range byteCases(parley.MaxURLLength-len(prefix), "u") {
			u := prefix + tc.val
			canon, cerr := parley.CanonicalURL(u, nil)
			tc.ok = cerr == nil && len(canon) <= parley.MaxURLLength
			if len(u) <= parley.MaxURLLength && strings.Trim(tc.val, "u") == "" && !tc.ok {
				t.Fatalf("an ASCII URL of %d bytes does not canonicalise: %v", len(u), cerr)
			}
			res := e.reader("Ann").post("A comment on a long URL.", map[string]any{"url": u})
			tc.name = fmt.Sprintf("%s (%d bytes raw, %d canonical)", tc.name, len(u), len(canon))
			p, err := e.db.Page(ctx, "news", canon)
			if checkLimit(t, "URL", tc, res) {
				if err != nil || p.URL != canon {
					t.Errorf("URL %s: stored %v %d bytes, want %d", tc.name, err, len(p.URL), len(canon))
				}
			}
		}
	})

	// The comment that reports and moderators' notes are about.
	target := e.reader("Target").post("Report me.", map[string]any{"url": fresh()})
	if target.status != http.StatusCreated {
		t.Fatalf("post: %d %s", target.status, target.body)
	}
	tid := idOf(target)
	authorID := stored(tid).AuthorID

	t.Run("report note", func(t *testing.T) {
		for _, tc := range runeCases(service.MaxNoteRunes) {
			before, _ := e.db.Reports(ctx, tid)
			res := e.reader("Reporter").do("POST", fmt.Sprintf("/api/v1/comments/%d/report", tid), map[string]any{"reason": "other", "note": tc.val})
			after, err := e.db.Reports(ctx, tid)
			if err != nil {
				t.Fatal(err)
			}
			if checkLimit(t, "note", tc, res) {
				if len(after) != len(before)+1 || after[len(after)-1].Note != tc.val {
					t.Errorf("report note %s: %d reports, want %d, the last with the note as sent", tc.name, len(after), len(before)+1)
				}
			} else if len(after) != len(before) {
				t.Errorf("report note %s: refused, yet a report was stored", tc.name)
			}
		}
	})

	t.Run("decision note", func(t *testing.T) {
		for _, tc := range runeCases(service.MaxNoteRunes) {
			res := admin.do("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", tid), map[string]any{"action": "approve", "note": tc.val}, "Authorization", "Bearer "+adminToken)
			if checkLimit(t, "note", tc, res) {
				audit := admin.do("GET", fmt.Sprintf("/api/v1/admin/comments/%d/audit", tid), nil, "Authorization", "Bearer "+adminToken)
				if !strings.Contains(string(audit.body), `"note":"`+tc.val+`"`) {
					t.Errorf("decision note %s: the audit log does not hold it as sent", tc.name)
				}
			}
		}
	})

	t.Run("moderator note on a reader", func(t *testing.T) {
		for _, tc := range runeCases(service.MaxNoteText) {
			before, _ := e.db.Notes(ctx, authorID, "news")
			res := admin.do("POST", "/api/v1/admin/users/"+authorID+"/notes", map[string]any{"site": "news", "text": tc.val}, "Authorization", "Bearer "+adminToken)
			after, err := e.db.Notes(ctx, authorID, "news")
			if err != nil {
				t.Fatal(err)
			}
			if checkLimit(t, "text", tc, res) {
				if len(after) != len(before)+1 || after[0].Text != tc.val {
					t.Errorf("note %s: %d notes, want %d, the newest as sent", tc.name, len(after), len(before)+1)
				}
			} else if len(after) != len(before) {
				t.Errorf("note %s: refused, yet stored", tc.name)
			}
		}
	})
}
