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

// TestSiteSSOAndUserRole: the --sso-* flags of site set and user set
// --role, on a real data directory. The secret is never printed.
func TestSiteSSOAndUserRole(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, append(args, "--data", dir), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("site", "add", "--id", "news"); code != 0 {
		t.Fatalf("site add: %d %s", code, out)
	}
	const secret = "0123456789abcdef0123456789abcdef-publisher"
	secretFile, shortFile := filepath.Join(t.TempDir(), "secret"), filepath.Join(t.TempDir(), "short")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	os.WriteFile(shortFile, []byte("short\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"secret and only, id first", []string{"site", "set", "news", "--sso-secret-file", secretFile, "--sso-only"}, 0, "HS256 secret set; only signed-in readers may post"},
		{"short secret", []string{"site", "set", "--id", "news", "--sso-secret-file", shortFile}, 1, "at least 32"},
		{"jwks replaces the secret", []string{"site", "set", "news", "--sso-jwks", "https://id.example.com/jwks.json", "--sso-only=false"}, 0, "keys from https://id.example.com/jwks.json."},
		{"bad jwks", []string{"site", "set", "news", "--sso-jwks", "ftp://x"}, 1, "http(s) URL"},
		{"off", []string{"site", "set", "news", "--sso-jwks", ""}, 0, "Single sign-on: off."},
		{"role of nobody", []string{"user", "set", "--id", "nobody", "--role", "staff"}, 1, "not found"},
		{"bad role", []string{"user", "set", "--id", "nobody", "--role", "king"}, 1, "role must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, secret) {
				t.Errorf("got %d %q, want %d with %q (and never the secret)", code, out, tc.code, tc.want)
			}
		})
	}

	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &parley.User{ID: "r1", Name: "Rae", Role: parley.RoleReader}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, out := run("user", "set", "--id", "r1", "--role", "staff"); code != 0 || !strings.Contains(out, "Rae (r1) is now staff.") {
		t.Fatalf("user set: %d %s", code, out)
	}
	st, err = sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.User(ctx, "r1"); err != nil || u.Role != parley.RoleStaff {
		t.Errorf("after user set: %+v, %v", u, err)
	}
	if c, err := st.SiteSSO(ctx, "news"); err != nil || c.Enabled() || c.Only {
		t.Errorf("site sso at the end: %+v, %v", c, err)
	}
}
