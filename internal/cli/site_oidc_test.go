package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSiteOIDC: the --oidc-* flags of site set, on a real data directory.
// The client secret is never printed.
func TestSiteOIDC(t *testing.T) {
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
	const secret = "client-secret-at-the-provider"
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"provider", []string{"site", "set", "news", "--oidc-issuer", "https://id.example.com", "--oidc-client-id", "parley",
			"--oidc-secret-file", secretFile, "--oidc-scopes", "profile,email", "--oidc-name", "Example ID"}, 0,
			"OpenID Connect: Example ID (https://id.example.com), client parley with a secret."},
		{"moderators", []string{"site", "set", "news", "--oidc-moderators"}, 0, "moderators sign in with it."},
		{"staff subject of nobody", []string{"site", "set", "news", "--oidc-staff", "sub=nobody"}, 1, "not a moderator or admin account"},
		{"staff without =", []string{"site", "set", "news", "--oidc-staff", "sub"}, 1, "SUBJECT=USER_ID"},
		{"bad issuer", []string{"site", "set", "news", "--oidc-issuer", "id.example.com"}, 1, "http(s) URL"},
		{"issuer without client", []string{"site", "set", "news", "--oidc-client-id", ""}, 1, "both an issuer and a client id"},
		{"off", []string{"site", "set", "news", "--oidc-issuer", "", "--oidc-client-id", ""}, 0, "OpenID Connect: off."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, secret) {
				t.Errorf("got %d %q, want %d with %q (and never the secret)", code, out, tc.code, tc.want)
			}
		})
	}
}
