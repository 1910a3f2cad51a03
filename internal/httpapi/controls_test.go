package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/testenv"
)

// foldTitle is what the create path keeps of a page title: CR, LF and TAB
// folded to a space (a CRLF to one), trimmed; ok false when the title holds
// another control character (C0, DEL, C1, NUL), which is refused.
func foldTitle(s string) (string, bool) {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s)
	return strings.TrimSpace(s), !strings.ContainsFunc(s, unicode.IsControl)
}

// foldNote is what is kept of a report note or a moderator's note: line
// breaks as LF, trimmed; ok false when it holds another control character
// (TAB included).
func foldNote(s string) (string, bool) {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	return strings.TrimSpace(s), !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && unicode.IsControl(r) })
}

// TestControlCharacters (issue 13, promises 2 and 3): on the create path a
// page title is one line — CR, LF and TAB fold to a space — and any other
// C0 or C1 control character, DEL or NUL gets a 400 JSON error naming the
// field; a report note, a moderator's note on a reader and a decision note
// keep their line breaks as LF (CRLF and CR normalised) and refuse every
// other control character, TAB included, the same way. Table cases, then
// every naughty string of the shared corpus (when present) as a title, a
// report note and a moderator's note. The same answers on both stores.
func TestControlCharacters(t *testing.T) {
	dsn, schema := pgSchema(t)
	titles := []string{
		"Plain title", "Line\r\nbreak", "Line\nbreak", "Line\rbreak", "Tab\tseparated", "\t Padded \r\n",
		"NUL\x00inside", "bell\a", "escape \x1b[31mred\x1b[0m", "vertical\vtab", "form\ffeed", "delete\x7f",
		"next line\u0085", "C1 CSI\u009b31m", "backspace\b\b", "unit\x1fseparator",
	}
	notes := []string{
		"Plain note", "two\r\nlines", "two\nlines", "two\rlines", "a\r\n\r\nparagraph", " \n padded \n ",
		"tab\tinside", "NUL\x00inside", "escape \x1b[8m", "delete\x7f", "next line\u0085", "C1\u0090",
		"form\ffeed", "vertical\vtab",
	}
	// The naughty strings, from the shared corpus: a subtest, so that
	// without the corpus (a user's checkout) only it skips and the table
	// cases still run, while with CI=true its absence fails the test.
	var naughty []string
	t.Run("naughty strings", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(testenv.SharedData(t, "attack/naughty-strings"), "blns.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &naughty); err != nil {
			t.Fatal(err)
		}
	})
	for _, be := range []struct {
		name string
		e    *env
	}{{"sqlite", newEnv(t, envOpts{})}, {"postgres", newEnvOn(t, pgOpen(t, dsn, schema), envOpts{})}} {
		e := be.e
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			admin := e.reader("")
			reporter := e.reader("Rita")
			n := 0
			// refused checks a 400 JSON error naming the field.
			refused := func(what, field string, res resp) {
				t.Helper()
				if res.status != 400 || errCode(t, res) != "invalid" {
					t.Errorf("%s: %d %s, want 400 invalid", what, res.status, res.body)
					return
				}
				if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.HasPrefix(msg, field+" ") {
					t.Errorf("%s: the error %q does not name the field %q", what, msg, field)
				}
			}
			// title posts a comment on a new page with the title and
			// checks what was kept; it returns the comment's id and its
			// author's (0 when refused).
			title := func(what, title string) (int64, string) {
				t.Helper()
				n++
				page := fmt.Sprintf("%s/controls/%d", siteOrigin, n)
				r := e.reader("Ann")
				res := r.post(fmt.Sprintf("Comment %d.", n), map[string]any{"url": page, "title": title})
				want, ok := foldTitle(title)
				if !ok {
					refused(fmt.Sprintf("title %s %q", what, title), "title", res)
					return 0, ""
				}
				if res.status != 201 {
					t.Errorf("title %s %q: %d %s, want 201", what, title, res.status, res.body)
					return 0, ""
				}
				p, err := e.db.Page(ctx, "news", page)
				if err != nil {
					t.Fatal(err)
				}
				if p.Title != want {
					t.Errorf("title %s %q stored as %q, want %q", what, title, p.Title, want)
				}
				c := res.json(t)["comment"].(map[string]any)
				return int64(c["id"].(float64)), c["author"].(map[string]any)["id"].(string)
			}
			// note files the note as a report of comment id, as a
			// moderator's note on author and as a decision note on id,
			// and checks what was kept of each.
			note := func(what, note string, id int64, author string, decision bool) {
				t.Helper()
				want, ok := foldNote(note)
				res := reporter.do("POST", fmt.Sprintf("/api/v1/comments/%d/report", id), map[string]any{"reason": "other", "note": note})
				if !ok {
					refused(fmt.Sprintf("report note %s %q", what, note), "note", res)
				} else if res.status != 202 {
					t.Errorf("report note %s %q: %d %s, want 202", what, note, res.status, res.body)
				} else if rs, err := e.db.Reports(ctx, id); err != nil || len(rs) != 1 || rs[0].Note != want {
					t.Errorf("report note %s %q: stored %v (%v), want %q", what, note, rs, err, want)
				}
				res = admin.do("POST", "/api/v1/admin/users/"+author+"/notes", map[string]any{"site": "news", "text": note}, bearer...)
				if !ok {
					refused(fmt.Sprintf("moderator note %s %q", what, note), "text", res)
				} else if res.status != 201 {
					t.Errorf("moderator note %s %q: %d %s, want 201", what, note, res.status, res.body)
				} else if got := res.json(t)["note"].(map[string]any)["text"]; got != want {
					t.Errorf("moderator note %s %q: kept %q, want %q", what, note, got, want)
				}
				if !decision {
					return
				}
				res = admin.do("POST", fmt.Sprintf("/api/v1/admin/comments/%d/decision", id), map[string]any{"action": "approve", "note": note}, bearer...)
				if !ok {
					refused(fmt.Sprintf("decision note %s %q", what, note), "note", res)
				} else if res.status != 200 {
					t.Errorf("decision note %s %q: %d %s, want 200", what, note, res.status, res.body)
				}
			}
			for _, s := range titles {
				title("case", s)
			}
			id, author := title("for the notes", "Notes")
			for _, s := range notes {
				// A new comment for each report (a reader reports a comment once).
				cid, _ := title("for a note", "Notes")
				note("case", s, cid, author, true)
			}
			if id == 0 {
				t.Fatal("no comment for the notes")
			}
			refusedTitles := 0
			for _, s := range naughty {
				s = cutRunes(s, service.MaxNoteRunes)
				if strings.TrimSpace(s) == "" {
					continue // a blank note is refused as such
				}
				if _, ok := foldTitle(s); !ok {
					refusedTitles++
				}
				if utf8.RuneCountInString(s) <= service.MaxTitle {
					title("naughty", s)
				}
				cid, _ := title("for a note", "Naughty notes")
				note("naughty", s, cid, author, false)
			}
			if len(naughty) > 0 && refusedTitles == 0 {
				t.Error("no naughty string holds a control character: the corpus is not the one expected")
			}
		})
	}
}

// cutRunes returns s cut to at most n characters.
func cutRunes(s string, n int) string {
	for utf8.RuneCountInString(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
