package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// cliRun runs the command line on a data directory.
func cliRun(t *testing.T, dir, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append(args, "--data", dir), strings.NewReader(stdin), &out, &errb)
	return code, out.String() + errb.String()
}

// newSiteDir returns a data directory with the site "news".
func newSiteDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, out := cliRun(t, dir, "", "site", "add", "--id", "news", "--name", "News"); code != 0 {
		t.Fatalf("site add: %d %s", code, out)
	}
	return dir
}

// TestImportReport runs `parley import` on a file and on standard input
// and checks the report it prints. What an import stores, format by format,
// is proven in internal/service (TestImportFormats and the tests beside it).
func TestImportReport(t *testing.T) {
	dir := newSiteDir(t)
	file := filepath.Join("..", "importer", "testdata", "disqus.xml")
	code, out := cliRun(t, dir, "", "import", "--site", "news", "--from", "disqus", file)
	if code != 0 {
		t.Fatalf("import: %d\n%s", code, out)
	}
	for _, w := range []string{"Imported from disqus into site news", "comments read     8",
		"imported          6  (approved: 4, deleted: 1, rejected: 1)",
		"deleted, without replies: 1", "its page was deleted on the source: 1", "users created     5"} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	// Again, from standard input: nothing new.
	raw, _ := os.ReadFile(file)
	code, out = cliRun(t, dir, string(raw), "import", "--site", "news", "--from", "disqus", "-")
	if code != 0 || !strings.Contains(out, "imported          0") || !strings.Contains(out, "already imported  6") {
		t.Errorf("second run: %d\n%s\nwant nothing imported", code, out)
	}
}

// TestExportCommand writes an export to a file and to standard output.
func TestExportCommand(t *testing.T) {
	dir := newSiteDir(t)
	if code, out := cliRun(t, dir, "", "import", "--site", "news", "--from", "disqus", filepath.Join("..", "importer", "testdata", "disqus.xml")); code != 0 {
		t.Fatalf("import: %d\n%s", code, out)
	}
	path := filepath.Join(t.TempDir(), "news.jsonl")
	code, out := cliRun(t, dir, "", "export", "--site", "news", "--out", path)
	if code != 0 || !strings.Contains(out, "Exported site news: ") || !strings.Contains(out, " 6 comments") {
		t.Fatalf("export --out: %d %s", code, out)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"export", "--site", "news", "--data", dir}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("export to standard output: %d %s", code, stderr.String())
	}
	// The same lines (the header holds the time of the export).
	if got, want := bytes.Count(stdout.Bytes(), []byte("\n")), bytes.Count(file, []byte("\n")); got != want || want < 8 {
		t.Errorf("standard output has %d lines, the file %d", got, want)
	}
	if code, out := cliRun(t, dir, "", "export", "--site", "nosuch", "--out", filepath.Join(t.TempDir(), "x")); code != 1 || !strings.Contains(out, "not found") {
		t.Errorf("export of an unknown site: %d %s", code, out)
	}
}

func TestImportErrors(t *testing.T) {
	dir := newSiteDir(t)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no site", "", []string{"import", "--from", "disqus", "-"}, 1, "--site is required"},
		{"unknown format", "", []string{"import", "--site", "news", "--from", "blogger", "-"}, 1, "--from must be one of"},
		{"no file", "", []string{"import", "--site", "news", "--from", "disqus"}, 2, "Usage"},
		{"unknown site", "<disqus/>", []string{"import", "--site", "nope", "--from", "disqus", "-"}, 1, "not found"},
		{"wrong format", "<rss/>", []string{"import", "--site", "news", "--from", "disqus", "-"}, 1, "the root element is <rss>, not <disqus>"},
		{"missing file", "", []string{"import", "--site", "news", "--from", "disqus", "/nonexistent/x.xml"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := cliRun(t, dir, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("got %d %q, want %d with %q", code, out, tc.code, tc.want)
			}
		})
	}
}

func TestBackupCommand(t *testing.T) {
	dir := newSiteDir(t)
	out := filepath.Join(t.TempDir(), "copy.db")
	if code, msg := cliRun(t, dir, "", "backup", "--out", out); code != 0 || !strings.Contains(msg, "Backed up") {
		t.Fatalf("backup: %d %s", code, msg)
	}
	if code, msg := cliRun(t, dir, "", "backup", "--out", out); code != 1 || !strings.Contains(msg, "exists") {
		t.Errorf("backup over an existing file: %d %s", code, msg)
	}
	// The copy is a working data directory.
	restored := t.TempDir()
	if err := os.Rename(out, filepath.Join(restored, "parley.db")); err != nil {
		t.Fatal(err)
	}
	if code, msg := cliRun(t, restored, "", "site", "list"); code != 0 || !strings.Contains(msg, "news") {
		t.Errorf("site list on the restored copy: %d %s", code, msg)
	}
	code, msg := cliRun(t, dir, "", "backup", "--out", filepath.Join(t.TempDir(), "pg"), "--database", "postgres://u@127.0.0.1:1/x")
	if code != 1 || !strings.Contains(msg, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %d %s; want exit 1 naming pg_dump", code, msg)
	}
}
