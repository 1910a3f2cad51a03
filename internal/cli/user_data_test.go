package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestUserExportErase: parley user export and erase on a real data directory.
func TestUserExportErase(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, append(args, "--data", dir), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("site", "add", "--id", "news", "--origin", "https://news.example.com"); code != 0 {
		t.Fatalf("site add: %d %s", code, out)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &parley.User{ID: "r1", Name: "Rae Export", Email: "rae@example.com", Role: parley.RoleReader}); err != nil {
		t.Fatal(err)
	}
	p, err := st.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateComment(ctx, &parley.Comment{PageID: p.ID, AuthorID: "r1", AuthorName: "Rae Export", Text: "rae's words", HTML: "<p>rae's words</p>", Status: parley.StatusApproved}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(t.TempDir(), "rae.json")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"export to stdout", []string{"user", "export", "--user", "r1"}, 0, `"text": "rae's words"`},
		{"export to a file", []string{"user", "export", "--user", "r1", "--out", out}, 0, "1 comments"},
		{"export of nobody", []string{"user", "export", "--user", "nobody"}, 1, "not found"},
		{"export without a user", []string{"user", "export"}, 1, "--user"},
		{"erase without --yes", []string{"user", "erase", "--user", "r1"}, 1, "--yes"},
		{"bad erasure mode", []string{"site", "set", "news", "--erasure", "shred"}, 1, "anonymise"},
		{"erasure mode", []string{"site", "set", "news", "--erasure", "remove"}, 0, "now: remove"},
		{"erase", []string{"user", "erase", "--user", "r1", "--yes"}, 0, "1 comments removed, 0 kept anonymised"},
		{"erase again", []string{"user", "erase", "--id", "r1", "--yes"}, 1, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := run(tc.args...)
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Errorf("got %d %q, want %d with %q", code, got, tc.code, tc.want)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "rae@example.com") {
		t.Errorf("export file: %s, %v", b, err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode: %v, %v", fi.Mode(), err)
	}
}
