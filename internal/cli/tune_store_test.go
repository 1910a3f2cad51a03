package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/toxicity"
)

// TestTuneFromStoredDecisions tunes a site model from the moderators'
// decisions in the database (only comments a moderator decided count) and
// saves it there, as a new version each time; with --out it writes a file
// and leaves the database alone.
func TestTuneFromStoredDecisions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(db, render.New())
	admin := service.Actor{Admin: true}
	if err := svc.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	pol := moderation.DefaultPolicy()
	pol.Mode, pol.FloodPerMinute, pol.FloodPerMinuteIP, pol.FloodDuplicateWindow = moderation.ModePreAll, 0, 0, 0
	if _, err := svc.SetPolicy(ctx, admin, "news", pol); err != nil {
		t.Fatal(err)
	}
	reader := service.Actor{IP: "192.0.2.1"}
	post := func(text string) *parley.Comment {
		t.Helper()
		res, err := svc.Post(ctx, reader, service.PostInput{SiteID: "news", URL: "https://news.example.com/a", Text: text, Name: "U"})
		if err != nil {
			t.Fatalf("post %q: %v", text, err)
		}
		if res.NewUser != nil {
			reader.User = res.NewUser
		}
		return res.Comment
	}
	decide := func(c *parley.Comment, action string) {
		t.Helper()
		if _, err := svc.Decide(ctx, admin, c.ID, service.DecideInput{Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 15; i++ {
		decide(post(fmt.Sprintf("The council vote on buses was sensible, point %d.", i)), service.ActionApprove)
		decide(post(fmt.Sprintf("Go back to where you came from, parasite number %d.", i)), service.ActionReject)
		post(fmt.Sprintf("Still waiting for a moderator %d.", i))
	}
	db.Close()

	tune := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := runModelCmd(ctx, append([]string{"tune", "--site", "news", "--data", dir}, args...), nil, &out, &errb); err != nil {
			t.Fatalf("model tune %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	version := func() int64 {
		t.Helper()
		db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		vs, err := db.SiteModelVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return vs["news"]
	}
	for i, want := range []string{"saved as version 1", "saved as version 2"} {
		out := tune()
		for _, w := range []string{"tuned on 30 decisions (15 rejected)", want, "suggested hold threshold"} {
			if !strings.Contains(out, w) {
				t.Errorf("tune %d: output lacks %q:\n%s", i+1, w, out)
			}
		}
	}
	file := filepath.Join(dir, "news.site")
	if out := tune("--out", file); !strings.Contains(out, "tuned on 30 decisions (15 rejected)") || !strings.Contains(out, "wrote "+file) {
		t.Errorf("tune --out: output:\n%s", out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := toxicity.LoadSite(f, base); err != nil {
		t.Errorf("the file --out wrote: %v", err)
	}
	if v := version(); v != 2 {
		t.Errorf("after two tunes and one --out: the database holds version %d, want 2", v)
	}

	var out, errb bytes.Buffer
	err = runModelCmd(ctx, []string{"tune", "--site", "nowhere", "--data", dir}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `site "nowhere" not found`) {
		t.Errorf("tune of an unknown site: %v, want site not found", err)
	}
}
