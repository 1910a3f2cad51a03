package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

func TestPageCommand(t *testing.T) {
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
	const url = "https://news.example.com/2026/story"
	good := filepath.Join(t.TempDir(), "override.json")
	os.WriteFile(good, []byte(`{"mode":"pre_all","max_links":0}`), 0o600)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"max_links":5000}`), 0o600)
	unknown := filepath.Join(t.TempDir(), "unknown.json")
	os.WriteFile(unknown, []byte(`{"hold_all":true}`), 0o600)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"open a page nobody commented on", "", []string{"page", "open", "--site", "news", "--url", url}, 1, "once someone has commented"},
		{"close before the first comment", "", []string{"page", "close", "--site", "news", "--url", url + "?utm_source=x", "--note", "embargo"}, 0, url + " on site news is closed to new comments."},
		{"policy of a closed page", "", []string{"page", "policy", "--site", "news", "--url", url}, 0, "is closed."},
		{"set an override", "", []string{"page", "policy", "--site", "news", "--url", url, "--set", good}, 0, `"mode": "pre_all"`},
		{"set an override from stdin", `{"toxicity_hold":0.5}`, []string{"page", "policy", "--site", "news", "--url", url, "--set", "-"}, 0, `"toxicity_hold": 0.5`},
		{"an override out of range", "", []string{"page", "policy", "--site", "news", "--url", url, "--set", bad}, 1, "max_links must be between"},
		{"an unknown setting", "", []string{"page", "policy", "--site", "news", "--url", url, "--set", unknown}, 1, `unknown field "hold_all"`},
		{"both --set and --clear", "", []string{"page", "policy", "--site", "news", "--url", url, "--set", good, "--clear"}, 1, "not both"},
		{"list", "", []string{"page", "list", "--site", "news"}, 0, url},
		{"reopen", "", []string{"page", "open", "--site", "news", "--url", url}, 0, "is open to new comments."},
		{"clear the override", "", []string{"page", "policy", "--site", "news", "--url", url, "--clear"}, 0, "Override of the site's policy:\n{}"},
		{"unknown site", "", []string{"page", "close", "--site", "nope", "--url", url}, 1, "not found"},
		{"no url", "", []string{"page", "close", "--site", "news"}, 1, "--url is required"},
		{"no site", "", []string{"page", "list"}, 1, "--site is required"},
		{"unknown subcommand", "", []string{"page", "delete"}, 2, "Usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("got %d %q, want %d with %q", code, out, tc.code, tc.want)
			}
		})
	}

	// The changes are audited as the command line's, with the note.
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acts, err := st.Actions(ctx, store.ActionQuery{SiteID: "news"})
	if err != nil || len(acts) != 5 {
		t.Fatalf("audit: %d entries, %v; want 5 (close, two overrides, open, clear)", len(acts), err)
	}
	first := acts[len(acts)-1]
	if first.Action != service.AuditPage || first.ActorName != cliActor.User.Name || first.Note != "embargo" || !strings.Contains(string(first.After), `"closed":true`) {
		t.Errorf("audit of closing: %+v after %s", first, first.After)
	}
	v, err := service.New(st, render.New()).Page(ctx, service.Actor{Admin: true}, service.PageRef{SiteID: "news", URL: url})
	if err != nil || v.Page.Closed || v.Page.Policy != nil {
		t.Errorf("page at the end: %+v, %v; want open without an override", v, err)
	}
}
