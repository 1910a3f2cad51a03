package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/toxicity"
)

// TestAutoTune tunes a site whose moderators reject a kind of comment the
// base model lets through, and checks the served scorer for that site (and
// only that site) now scores that kind higher.
func TestAutoTune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"news", "other"} {
		if err := db.CreateSite(ctx, &parley.Site{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := db.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	db.CreateUser(ctx, &parley.User{ID: "u1", Name: "U", Role: parley.RoleReader, Created: time.Now()})
	add := func(text, status string) {
		c := &parley.Comment{PageID: page.ID, AuthorID: "u1", AuthorName: "U", Text: text, HTML: "<p>x</p>", Status: parley.StatusPending}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetStatus(ctx, c.ID, status, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	// This site's moderators reject crypto promotion, which is not toxic.
	for i := 0; i < 40; i++ {
		add(fmt.Sprintf("Great article! Double your bitcoin at coinzz dot example, offer %d ends soon.", i), parley.StatusRejected)
		add(fmt.Sprintf("The council should publish the tram budget before the vote, item %d.", i), parley.StatusApproved)
	}

	base, err := toxicity.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := newSiteModels(filepath.Join(dir, "models"), base, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.tune(ctx, db)
	if _, err := os.Stat(filepath.Join(dir, "models", "news.site")); err != nil {
		t.Fatalf("no site model written: %v", err)
	}
	if m.Scorer("other") != nil {
		t.Error("a site without decisions must use the base model")
	}
	sc := m.Scorer("news")
	if sc == nil {
		t.Fatal("the tuned site has no model")
	}
	probe := "Double your bitcoin at coinzz dot example, limited offer."
	b, s := base.Score(probe, "").Toxicity, sc.Score(probe, "").Toxicity
	t.Logf("promotion: base %.3f, site %.3f", b, s)
	if s <= b {
		t.Errorf("site model scores the rejected kind %.3f, base %.3f: want higher", s, b)
	}

	// A fresh holder finds the file on disk (serve restarts, or a tune by hand).
	again := newSiteModels(filepath.Join(dir, "models"), base, slog.New(slog.NewTextHandler(io.Discard, nil)))
	again.reload()
	if again.Scorer("news") == nil {
		t.Error("reload did not pick up news.site")
	}
}
