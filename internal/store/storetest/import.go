package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// importTests pin Store.Import: comments from another system keep their
// times, scores and statuses, find their parents by source id, are numbered
// and counted like any comment, and an import run twice adds nothing.
var importTests = []test{
	{"stores a thread with parents found by source id", func(t *testing.T, f *fixture) {
		other := f.newPage(f.site.ID, "https://news.example.com/2026/other", "Other")
		b := &store.ImportBatch{SiteID: "news", Users: []*parley.User{
			{ID: "imp-ann", Name: "Ann", Email: "ann@example.net", Role: parley.RoleReader},
			{ID: "imp-bo", Name: "Bo", Role: parley.RoleReader},
		}, Comments: []*store.ImportedComment{
			f.imported("d1", "", "", f.page, "imp-ann", parley.StatusApproved, 1),
			f.imported("d2", "d1", "d1", f.page, "imp-bo", parley.StatusApproved, 2),
			f.imported("d3", "d2", "", f.page, "imp-ann", parley.StatusPending, 3),
			f.imported("d4", "nowhere", "nowhere", f.page, "imp-bo", parley.StatusApproved, 4), // missing parent
			f.imported("d5", "d1", "", other, "imp-bo", parley.StatusApproved, 5),              // parent on another page
		}}
		b.Comments[1].Comment.Score, b.Comments[1].Comment.Featured = 7, true
		b.Comments[1].Comment.Edited = ms(2019, 1, 2, 3, 5, 0, 0)
		before := f.lastEvent()
		res, err := f.s.Import(f.ctx, b)
		if err != nil {
			t.Fatalf("Import: %v", err)
		}
		if res != (store.ImportResult{UsersCreated: 2, Created: 5}) {
			t.Errorf("result: got %+v, want 2 users and 5 comments created", res)
		}
		c := func(i int) *parley.Comment { return b.Comments[i].Comment }
		for i, want := range []struct {
			number        int
			parent, quote int64
			root          int64
		}{
			{1, 0, 0, c(0).ID}, {2, c(0).ID, c(0).ID, c(0).ID}, {3, c(1).ID, 0, c(0).ID}, {4, 0, 0, c(3).ID}, {1, 0, 0, c(4).ID},
		} {
			got := f.comment(c(i).ID)
			if got.Number != want.number || got.ParentID != want.parent || got.QuoteID != want.quote || got.RootID != want.root {
				t.Errorf("comment %d: got number %d parent %d quote %d root %d, want %+v", i, got.Number, got.ParentID, got.QuoteID, got.RootID, want)
			}
			if d := diffComment(got, c(i)); len(d) > 0 {
				t.Errorf("comment %d as stored differs from the one returned: %v", i, d)
			}
		}
		got := f.comment(c(1).ID)
		if got.Score != 7 || !got.Featured || !got.Seen || !got.Created.Equal(ms(2019, 1, 2, 3, 4, 2, 0)) || !got.Edited.Equal(ms(2019, 1, 2, 3, 5, 0, 0)) {
			t.Errorf("kept fields: got score %d featured %v seen %v created %v edited %v", got.Score, got.Featured, got.Seen, got.Created, got.Edited)
		}
		if n := f.pageCount(f.page); n != 3 {
			t.Errorf("page count: got %d, want 3 approved", n)
		}
		u, err := f.s.User(f.ctx, "imp-ann")
		if err != nil || u.Email != "ann@example.net" || u.Role != parley.RoleReader {
			t.Errorf("user: got %+v, %v", u, err)
		}
		h, err := f.s.History(f.ctx, "imp-ann", 10)
		if err != nil || h.Approved != 1 || h.Pending != 1 {
			t.Errorf("history of an imported author: got %+v, %v; want 1 approved, 1 pending", h, err)
		}
		var types []string
		for _, e := range f.eventsAfter(before) {
			types = append(types, fmt.Sprintf("%s %d", e.Type, e.PageID))
		}
		slices.Sort(types)
		want := []string{fmt.Sprintf("%s %d", parley.EventPageUpdated, f.page.ID), fmt.Sprintf("%s %d", parley.EventPageUpdated, other.ID),
			parley.EventQueueChanged + " 0"}
		slices.Sort(want)
		if !slices.Equal(types, want) {
			t.Errorf("events: got %v, want %v", types, want)
		}
		// A comment written after the import takes the next number.
		if n := f.add(spec{}).Number; n != 5 {
			t.Errorf("next number after an import: got %d, want 5", n)
		}
	}},
	{"running an import again adds nothing", func(t *testing.T, f *fixture) {
		batch := func() *store.ImportBatch {
			return &store.ImportBatch{SiteID: "news", Users: []*parley.User{{ID: "imp-ann", Name: "Ann", Role: parley.RoleReader}},
				Comments: []*store.ImportedComment{
					f.imported("w1", "", "", f.page, "imp-ann", parley.StatusApproved, 1),
					f.imported("w2", "w1", "", f.page, "imp-ann", parley.StatusApproved, 2),
				}}
		}
		first := batch()
		if _, err := f.s.Import(f.ctx, first); err != nil {
			t.Fatal(err)
		}
		second := batch()
		second.Comments = append(second.Comments, f.imported("w3", "w2", "", f.page, "imp-ann", parley.StatusApproved, 3))
		res, err := f.s.Import(f.ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		if res != (store.ImportResult{Created: 1, Existing: 2}) {
			t.Errorf("second run: got %+v, want 1 created and 2 existing", res)
		}
		for i := range 2 {
			g, w := second.Comments[i], first.Comments[i]
			if !g.Existing || g.Comment.ID != w.Comment.ID || g.Comment.Number != w.Comment.Number || g.Comment.ParentID != w.Comment.ParentID {
				t.Errorf("comment %d on the second run: got %+v existing %v, want the stored %+v", i, g.Comment, g.Existing, w.Comment)
			}
		}
		if c := second.Comments[2].Comment; c.ParentID != first.Comments[1].Comment.ID || c.Number != 3 {
			t.Errorf("a new reply to an earlier import: got parent %d number %d, want parent %d number 3", c.ParentID, c.Number, first.Comments[1].Comment.ID)
		}
		all, err := f.s.PageComments(f.ctx, f.page.ID)
		if err != nil || len(all) != 3 || f.pageCount(f.page) != 3 {
			t.Errorf("after two runs: %d comments (%v), count %d; want 3 and 3", len(all), err, f.pageCount(f.page))
		}
		// The same source id from another source, or on another site, is another comment.
		other := batch()
		for _, c := range other.Comments {
			c.Source = "wordpress"
		}
		if res, err := f.s.Import(f.ctx, other); err != nil || res.Created != 2 {
			t.Errorf("another source: got %+v, %v; want 2 created", res, err)
		}
	}},
	{"a page of another site fails the whole batch", func(t *testing.T, f *fixture) {
		f.newSite("sport")
		foreign := f.newPage("sport", "https://sport.example.com/match", "Match")
		b := &store.ImportBatch{SiteID: "news", Users: []*parley.User{{ID: "imp-x", Name: "X", Role: parley.RoleReader}},
			Comments: []*store.ImportedComment{
				f.imported("a1", "", "", f.page, "imp-x", parley.StatusApproved, 1),
				f.imported("a2", "", "", foreign, "imp-x", parley.StatusApproved, 2),
			}}
		_, err := f.s.Import(f.ctx, b)
		wantCode(t, err, parley.ENotFound, "Import onto another site's page")
		all, _ := f.s.PageComments(f.ctx, f.page.ID)
		if len(all) != 0 || f.pageCount(f.page) != 0 {
			t.Errorf("after a failed batch: %d comments, count %d; want none", len(all), f.pageCount(f.page))
		}
		if _, err := f.s.User(f.ctx, "imp-x"); parley.ErrorCode(err) != parley.ENotFound {
			t.Errorf("the failed batch's user: got %v, want not found", err)
		}
		bad := &store.ImportBatch{SiteID: "news", Comments: []*store.ImportedComment{f.imported("s", "", "", f.page, "x", "spam", 1)}}
		_, err = f.s.Import(f.ctx, bad)
		wantCode(t, err, parley.EInvalid, "Import with an unknown status")
	}},
}

// imported returns an imported comment from the source "disqus".
func (f *fixture) imported(id, parent, quote string, page *parley.Page, author, status string, minute int) *store.ImportedComment {
	text := "imported " + id
	return &store.ImportedComment{
		Source: "disqus", SourceID: id, ParentSourceID: parent, QuoteSourceID: quote,
		Comment: &parley.Comment{PageID: page.ID, AuthorID: author, AuthorName: author, Text: text, HTML: "<p>" + text + "</p>",
			Status: status, Seen: true, Created: ms(2019, 1, 2, 3, 4, minute, 0)},
	}
}
