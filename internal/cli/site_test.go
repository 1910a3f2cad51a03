package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSiteAddSnippet checks what `site add` prints: the snippet for the
// base URL the server is given, a warning when that is only the default,
// and the origin still to allow.
func TestSiteAddSnippet(t *testing.T) {
	for _, tc := range []struct {
		name         string
		args         []string
		env          string
		want, unwant []string
	}{
		{"default address", []string{"--id", "a"}, "",
			[]string{`<script src="http://127.0.0.1:8080/embed.js" data-site="a" async></script>`, "is the default address", "--base-url or PARLEY_BASE_URL", "parley site set --id a --origin"}, nil},
		{"--base-url", []string{"--id", "b", "--base-url", "https://comments.example.com/", "--origin", "https://news.example.com"}, "",
			[]string{`<script src="https://comments.example.com/embed.js" data-site="b" async></script>`},
			[]string{"default address", "allows no origin"}},
		{"PARLEY_BASE_URL", []string{"--id", "c", "--origin", "https://news.example.com"}, "https://talk.example.org",
			[]string{`<script src="https://talk.example.org/embed.js" data-site="c" async></script>`}, []string{"default address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PARLEY_BASE_URL", tc.env)
			var out, errb bytes.Buffer
			if code := Run(context.Background(), append(append([]string{"site", "add"}, tc.args...), "--data", t.TempDir()), strings.NewReader(""), &out, &errb); code != 0 {
				t.Fatalf("site add: %d %s %s", code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.unwant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}
