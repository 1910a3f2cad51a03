package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestTuneFromStoredDecisions tunes a site model from the moderators'
// decisions in the database: only comments a moderator decided count.
func TestTuneFromStoredDecisions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	page, err := db.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &parley.User{ID: "u1", Name: "U", Role: parley.RoleReader, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	add := func(text, status string, seen bool) {
		c := &parley.Comment{PageID: page.ID, AuthorID: "u1", AuthorName: "U", Text: text, HTML: "<p>x</p>", Status: parley.StatusPending}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetStatus(ctx, c.ID, status, nil, seen); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 15; i++ {
		add(fmt.Sprintf("The council vote on buses was sensible, point %d.", i), parley.StatusApproved, true)
		add(fmt.Sprintf("Go back to where you came from, parasite number %d.", i), parley.StatusRejected, true)
		add(fmt.Sprintf("Unseen by moderators %d.", i), parley.StatusApproved, false)
	}
	db.Close()

	cfg := config.Default()
	cfg.DataDir = dir
	ds, err := storedDecisions(ctx, &cfg, "news")
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, d := range ds {
		if strings.HasPrefix(d.Text, "Unseen") {
			t.Fatalf("a comment no moderator decided was used: %q", d.Text)
		}
		if d.Rejected {
			rejected++
		}
	}
	if len(ds) != 30 || rejected != 15 {
		t.Fatalf("got %d decisions (%d rejected), want 30 (15)", len(ds), rejected)
	}

	var out, errb bytes.Buffer
	err = runModelCmd(ctx, []string{"tune", "--site", "news", "--data", dir, "--out", filepath.Join(dir, "news.site")}, nil, &out, &errb)
	if err != nil {
		t.Fatalf("model tune: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "tuned on 30 decisions (15 rejected)") || !strings.Contains(out.String(), "suggested hold threshold") {
		t.Fatalf("model tune output:\n%s", out.String())
	}
}
