package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(stdin string, args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, append(args, "--data", dir), strings.NewReader(stdin), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("", "site", "add", "--id", "news"); code != 0 {
		t.Fatalf("site add: %d %s", code, out)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from a file 123\n"), 0o600)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"moderator from stdin", "a long password\n", []string{"user", "add", "--role", "moderator", "--site", "news", "--name", "Mo", "--email", "Mo@Example.com"}, 0, "Added moderator Mo <mo@example.com> for site news"},
		{"admin from a file", "", []string{"user", "add", "--role", "admin", "--name", "Ad", "--email", "ad@example.com", "--password-file", pwFile}, 0, "for every site"},
		{"short password", "short\n", []string{"user", "add", "--role", "admin", "--name", "X", "--email", "x@example.com"}, 1, "at least 10 characters"},
		{"taken address", "a long password\n", []string{"user", "add", "--role", "moderator", "--name", "M2", "--email", "mo@example.com"}, 1, "exists"},
		{"unknown site", "a long password\n", []string{"user", "add", "--role", "moderator", "--site", "nope", "--name", "M3", "--email", "m3@example.com"}, 1, "not found"},
		{"no e-mail", "a long password\n", []string{"user", "add", "--role", "moderator", "--name", "M4"}, 1, "--email is required"},
		{"list", "", []string{"user", "list"}, 0, "mo@example.com"},
		{"passwd", "a new long password\n", []string{"user", "passwd", "--email", "mo@example.com"}, 0, "signed them out everywhere"},
		{"passwd of nobody", "a new long password\n", []string{"user", "passwd", "--email", "no@example.com"}, 1, "no staff member"},
		{"unknown subcommand", "", []string{"user", "remove"}, 2, "Usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("got %d %q, want %d with %q", code, out, tc.code, tc.want)
			}
		})
	}
	_, out := run("", "user", "list")
	if !strings.Contains(out, "ad@example.com") || !strings.Contains(out, "admin") || strings.Count(out, "\n") != 3 {
		t.Errorf("user list:\n%s", out)
	}
}
