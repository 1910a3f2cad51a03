package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// siteModelTests prove the per-site model contract: versions that grow by
// one per save, a save that must name the version it replaces, the
// site.model event in the save's transaction, and the version map every
// instance polls.
var siteModelTests = []test{
	{"save, read back and version", func(t *testing.T, f *fixture) {
		if _, err := f.s.SiteModel(f.ctx, "news"); parley.ErrorCode(err) != parley.ENotFound {
			t.Fatalf("SiteModel before any save: got %v, want ENotFound", err)
		}
		if vs, err := f.s.SiteModelVersions(f.ctx); err != nil || len(vs) != 0 {
			t.Fatalf("SiteModelVersions before any save: got %v, %v; want an empty map", vs, err)
		}
		weights := bytes.Repeat([]byte{1, 2, 3, 0}, 1<<14) // a model's size, NUL bytes included
		at := ms(2026, 12, 1, 10, 0, 0, 5)
		m := &store.SiteModel{SiteID: "news", Model: weights, Decisions: 120, Base: "base-1", Created: at}
		before := f.lastEvent()
		if err := f.s.SaveSiteModel(f.ctx, m); err != nil {
			t.Fatalf("first SaveSiteModel: %v", err)
		}
		if m.Version != 1 {
			t.Errorf("first save: got version %d, want 1", m.Version)
		}
		// Every instance learns of the new model from the log.
		wantEvs := []parley.Event{{Type: parley.EventSiteModel, SiteID: "news"}}
		if evs := withoutIDs(f.eventsAfter(before)); !slices.Equal(evs, wantEvs) {
			t.Errorf("events: got %+v, want %+v", evs, wantEvs)
		}

		got, err := f.s.SiteModel(f.ctx, "news")
		if err != nil {
			t.Fatalf("SiteModel: %v", err)
		}
		if got.SiteID != "news" || got.Version != 1 || !bytes.Equal(got.Model, weights) || got.Decisions != 120 || got.Base != "base-1" {
			t.Errorf("SiteModel: got %s v%d %d bytes, %d decisions, base %q; want news v1 %d bytes, 120, base-1",
				got.SiteID, got.Version, len(got.Model), got.Decisions, got.Base, len(weights))
		}
		wantTime(t, "Created", got.Created, at)

		// A retrain replaces version 1; its Created defaults to now.
		from := time.Now()
		m2 := &store.SiteModel{SiteID: "news", Version: 1, Model: []byte("retrained"), Decisions: 150}
		if err := f.s.SaveSiteModel(f.ctx, m2); err != nil {
			t.Fatalf("second SaveSiteModel: %v", err)
		}
		if m2.Version != 2 {
			t.Errorf("second save: got version %d, want 2", m2.Version)
		}
		wantNear(t, "Created by default", m2.Created, from, time.Now())
		got, err = f.s.SiteModel(f.ctx, "news")
		if err != nil {
			t.Fatalf("SiteModel: %v", err)
		}
		if got.Version != 2 || string(got.Model) != "retrained" || got.Decisions != 150 || got.Base != "" {
			t.Errorf("after the retrain: got v%d %q %d decisions base %q; want v2 \"retrained\" 150 \"\"", got.Version, got.Model, got.Decisions, got.Base)
		}

		f.newSite("sport")
		if err := f.s.SaveSiteModel(f.ctx, &store.SiteModel{SiteID: "sport", Model: []byte("s")}); err != nil {
			t.Fatalf("SaveSiteModel(sport): %v", err)
		}
		vs, err := f.s.SiteModelVersions(f.ctx)
		if err != nil {
			t.Fatalf("SiteModelVersions: %v", err)
		}
		if len(vs) != 2 || vs["news"] != 2 || vs["sport"] != 1 {
			t.Errorf("SiteModelVersions: got %v, want map[news:2 sport:1]", vs)
		}
	}},
	{"a save must replace the current version", func(t *testing.T, f *fixture) {
		if err := f.s.SaveSiteModel(f.ctx, &store.SiteModel{SiteID: "news", Model: []byte("v1")}); err != nil {
			t.Fatal(err)
		}
		before := f.lastEvent()
		for _, tc := range []struct {
			name    string
			m       store.SiteModel
			code    string
			version int64 // the version m keeps
		}{
			{"a second first save", store.SiteModel{SiteID: "news", Model: []byte("x")}, parley.EConflict, 0},
			{"a stale version", store.SiteModel{SiteID: "news", Version: 7, Model: []byte("x")}, parley.EConflict, 7},
			{"an unknown site", store.SiteModel{SiteID: "nowhere", Model: []byte("x")}, parley.ENotFound, 0},
			{"an unknown site with a version", store.SiteModel{SiteID: "nowhere", Version: 1, Model: []byte("x")}, parley.ENotFound, 1},
			{"no weights", store.SiteModel{SiteID: "news", Version: 1}, parley.EInvalid, 1},
		} {
			m := tc.m
			wantCode(t, f.s.SaveSiteModel(f.ctx, &m), tc.code, tc.name)
			if m.Version != tc.version {
				t.Errorf("%s: a failed save changed the version to %d", tc.name, m.Version)
			}
		}
		if got, err := f.s.SiteModel(f.ctx, "news"); err != nil || got.Version != 1 || string(got.Model) != "v1" {
			t.Errorf("after the refused saves: got %+v, %v; want version 1 unchanged", got, err)
		}
		if evs := f.eventsAfter(before); len(evs) != 0 {
			t.Errorf("refused saves recorded events: %+v", evs)
		}
	}},
	{"concurrent retrains: one wins", func(t *testing.T, f *fixture) {
		if err := f.s.SaveSiteModel(f.ctx, &store.SiteModel{SiteID: "news", Model: []byte("v1")}); err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.s.SaveSiteModel(f.ctx, &store.SiteModel{SiteID: "news", Version: 1, Model: fmt.Appendf(nil, "w%d", i)})
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch parley.ErrorCode(err) {
			case "":
				if won >= 0 {
					t.Errorf("saves %d and %d both replaced version 1", won, i)
				}
				won = i
			case parley.EConflict:
			default:
				t.Errorf("save %d: %v, want success or EConflict", i, err)
			}
		}
		got, err := f.s.SiteModel(f.ctx, "news")
		if err != nil {
			t.Fatal(err)
		}
		if won < 0 || got.Version != 2 || string(got.Model) != fmt.Sprintf("w%d", won) {
			t.Errorf("after %d concurrent saves of version 1: got v%d %q, winner %d; want v2 with the winner's weights", n, got.Version, got.Model, won)
		}
	}},
}

// decisionTests prove Decisions: each comment's newest decision entry
// counts, other entries do not, and quoted text comes along.
var decisionTests = []test{
	{"latest decision per comment", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		other := f.newSite("sport")
		otherPage := f.newPage(other.ID, "https://sport.example.com/a", "A")
		quoted := f.add(spec{author: "bob", text: "the quoted words"})
		quoting := f.build(spec{author: "bob", text: "> the quoted words\n\nmy reply"})
		quoting.QuoteID = quoted.ID
		if err := f.s.CreateComment(f.ctx, quoting); err != nil {
			t.Fatal(err)
		}
		flipped := f.add(spec{author: "bob", text: "rejected, then approved"})
		noted := f.add(spec{author: "bob", text: "only featured"})
		elsewhere := f.add(spec{page: otherPage, author: "bob", text: "on another site"})
		act := func(site string, c *parley.Comment, action string, minute int) {
			t.Helper()
			a := &store.Action{ActorName: "Mod", Action: action, CommentID: c.ID, UserID: "bob", SiteID: site,
				Created: ms(2026, 12, 1, 9, minute, 0, 0)}
			if err := f.s.AddAction(f.ctx, a); err != nil {
				t.Fatalf("AddAction: %v", err)
			}
		}
		act("news", quoted, "approve", 1)
		act("news", flipped, "reject", 2)
		act("news", quoting, "reject", 3)
		act("news", noted, "feature", 4)
		act("news", flipped, "approve", 5)
		act("news", flipped, "feature", 6) // not a decision: the approval stands
		act("sport", elsewhere, "reject", 7)
		if err := f.s.AddAction(f.ctx, &store.Action{ActorName: "Mod", Action: "reject", UserID: "bob", SiteID: "news"}); err != nil {
			t.Fatal(err) // an entry on no comment
		}

		q := store.DecisionQuery{SiteID: "news", Actions: []string{"approve", "reject"}}
		got, err := f.s.Decisions(f.ctx, q)
		if err != nil {
			t.Fatalf("Decisions: %v", err)
		}
		type row struct {
			id                  int64
			action, text, quote string
			minute              int
		}
		want := []row{
			{quoted.ID, "approve", "the quoted words", "", 1},
			{quoting.ID, "reject", quoting.Text, "the quoted words", 3},
			{flipped.ID, "approve", "rejected, then approved", "", 5},
		}
		if len(got) != len(want) {
			t.Fatalf("Decisions: got %d rows %+v, want %d", len(got), got, len(want))
		}
		for i, w := range want {
			g := got[i]
			if g.CommentID != w.id || g.Action != w.action || g.Text != w.text || g.Quote != w.quote {
				t.Errorf("row %d: got %d %s %q quote %q, want %d %s %q quote %q", i, g.CommentID, g.Action, g.Text, g.Quote, w.id, w.action, w.text, w.quote)
			}
			wantTime(t, fmt.Sprintf("row %d Decided", i), g.Decided, ms(2026, 12, 1, 9, w.minute, 0, 0))
		}

		// The limit keeps the most recently decided comments.
		q.Limit = 2
		got, err = f.s.Decisions(f.ctx, q)
		if err != nil {
			t.Fatalf("Decisions with a limit: %v", err)
		}
		if len(got) != 2 || got[0].CommentID != quoting.ID || got[1].CommentID != flipped.ID {
			t.Errorf("Decisions limit 2: got %+v, want the comments decided at minutes 3 and 5", got)
		}

		wantCode(t, func() error { _, err := f.s.Decisions(f.ctx, store.DecisionQuery{SiteID: "news"}); return err }(), parley.EInvalid, "Decisions without actions")
		if got, err := f.s.Decisions(f.ctx, store.DecisionQuery{SiteID: "nowhere", Actions: q.Actions}); err != nil || len(got) != 0 {
			t.Errorf("Decisions of an unknown site: got %+v, %v; want none", got, err)
		}
	}},
}
