package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// ErasedMarkers are the personal data EraseScenario gives its reader:
// after the erasure none may appear in any column of any table.
var ErasedMarkers = []string{"erin-7f3a", "Erin Marker-Zed", "erin@marker.example", "cdn.marker.example", "ip-erin-7f3a", "erin's removed words", "erin's report note", "note about erin"}

// EraseScenario stores a reader with comments on two sites (one of which
// removes an erased reader's comments), votes, a report, a sanction, a
// note, a staff session and an audit entry about them, erases them, checks
// what Erase promises, and returns. Backends' tests then look at every
// column of every table for ErasedMarkers.
func EraseScenario(t *testing.T, s store.Store) {
	t.Helper()
	f := newFixture(t, s)
	f.erase(t)
}

func (f *fixture) erase(t *testing.T) {
	ctx := f.ctx
	other := f.newSite("other")
	otherPage := f.newPage(other.ID, "https://other.example.com/a", "A")
	if err := f.s.SetSiteErasure(ctx, other.ID, store.ErasureRemove); err != nil {
		t.Fatalf("SetSiteErasure: %v", err)
	}
	erin := &parley.User{ID: "erin-7f3a", Name: "Erin Marker-Zed", Email: "erin@marker.example", Role: parley.RoleReader, Created: ms(2026, 12, 1, 9, 0, 0, 0),
		Picture: "https://cdn.marker.example/erin-7f3a.png", SessionsAfter: ms(2026, 12, 1, 9, 30, 0, 0)}
	if err := f.s.CreateUser(ctx, erin); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bob", "mod"} {
		if err := f.s.CreateUser(ctx, &parley.User{ID: id, Name: id, Role: parley.RoleReader}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(p *parley.Page, author, text, status string, parent int64) *parley.Comment {
		c := &parley.Comment{PageID: p.ID, AuthorID: author, AuthorName: "Erin Marker-Zed", IPHash: "ip-erin-7f3a", Text: text,
			HTML: "<p>" + text + "</p>", Status: status, ParentID: parent}
		if author != erin.ID {
			c.AuthorName, c.IPHash = "Bob", "ip-bob"
		}
		if err := f.s.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	kept := mk(f.page, erin.ID, "erin's kept words", parley.StatusApproved, 0)
	held := mk(f.page, erin.ID, "erin's held words", parley.StatusPending, 0)
	reply := mk(f.page, "bob", "a reply to erin", parley.StatusApproved, kept.ID)
	removed := mk(otherPage, erin.ID, "erin's removed words", parley.StatusApproved, 0)
	bobs := mk(otherPage, "bob", "bob's words", parley.StatusApproved, 0)
	if _, err := f.s.Vote(ctx, parley.Vote{CommentID: bobs.ID, UserID: erin.ID, Value: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Vote(ctx, parley.Vote{CommentID: kept.ID, UserID: "bob", Value: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddReport(ctx, &parley.Report{CommentID: reply.ID, ReporterID: erin.ID, Reason: "spam", Note: "erin's report note"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetSanction(ctx, store.Sanction{UserID: erin.ID, SiteID: "news", Premoderated: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddNote(ctx, &store.Note{UserID: erin.ID, SiteID: "news", AuthorID: "mod", AuthorName: "Mod", Text: "note about erin"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddAction(ctx, &store.Action{ActorID: "mod", ActorName: "Mod", Action: "note", UserID: erin.ID, SiteID: "news", Note: "note about erin"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.CreateOIDCLogin(ctx, &store.OIDCLogin{KeyHash: "t-erin", SiteID: "news", Purpose: store.OIDCTicket, UserID: erin.ID, Expires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	// What the export reads.
	rows, err := f.s.ReaderRows(ctx, erin.ID)
	if err != nil {
		t.Fatalf("ReaderRows: %v", err)
	}
	var texts []string
	for _, c := range rows.Comments {
		texts = append(texts, c.Text)
	}
	if !slices.Equal(texts, []string{"erin's kept words", "erin's held words", "erin's removed words"}) ||
		len(rows.Votes) != 1 || rows.Votes[0].CommentID != bobs.ID || rows.Votes[0].Value != 1 ||
		len(rows.Reports) != 1 || rows.Reports[0].Note != "erin's report note" ||
		len(rows.Sanctions) != 1 || !rows.Sanctions[0].Premoderated {
		t.Fatalf("ReaderRows: comments %q, votes %+v, reports %+v, sanctions %+v", texts, rows.Votes, rows.Reports, rows.Sanctions)
	}
	_, err = f.s.ReaderRows(ctx, "nobody")
	wantCode(t, err, parley.ENotFound, "ReaderRows of nobody")

	countOther := f.pageCount(otherPage)
	at := f.lastEvent()
	var got store.Erased
	_, err = f.s.Update(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.EraseUser(store.Erasure{UserID: erin.ID, Name: "a former reader", RemoveSites: map[string]bool{"other": true}})
		return err
	})
	if err != nil {
		t.Fatalf("EraseUser: %v", err)
	}
	if got.Removed != 1 || got.Anonymised != 2 || got.Votes != 1 || got.Reports != 1 || !slices.Equal(got.Sites, []string{"news", "other"}) {
		t.Errorf("EraseUser: got %+v", got)
	}
	_, err = f.s.User(ctx, erin.ID)
	wantCode(t, err, parley.ENotFound, "User after the erasure")
	for _, tc := range []struct {
		c            *parley.Comment
		status, text string
	}{
		{kept, parley.StatusApproved, "erin's kept words"},
		{held, parley.StatusPending, "erin's held words"},
		{removed, parley.StatusDeleted, ""},
	} {
		c := f.comment(tc.c.ID)
		if c.AuthorID != "" || c.AuthorName != "a former reader" || c.IPHash != "" || c.Status != tc.status || c.Text != tc.text {
			t.Errorf("comment %d after the erasure: author %q %q, ip %q, status %s, text %q; want %s %q by a former reader",
				c.ID, c.AuthorID, c.AuthorName, c.IPHash, c.Status, c.Text, tc.status, tc.text)
		}
	}
	if c := f.comment(reply.ID); c.ParentID != kept.ID || c.Text != "a reply to erin" {
		t.Errorf("the reply lost its place: %+v", c)
	}
	if c := f.comment(bobs.ID); c.Score != 0 {
		t.Errorf("bob's comment scores %d after erin's vote was erased, want 0", c.Score)
	}
	if c := f.comment(kept.ID); c.Score != 1 {
		t.Errorf("erin's kept comment scores %d, want bob's 1", c.Score)
	}
	if n := f.pageCount(otherPage); n != countOther-1 {
		t.Errorf("other page count %d after removing erin's comment, want %d", n, countOther-1)
	}
	if rs, err := f.s.Reports(ctx, reply.ID); err != nil || len(rs) != 0 {
		t.Errorf("erin's report after the erasure: %+v, %v", rs, err)
	}
	if acts, err := f.s.Actions(ctx, store.ActionQuery{SiteID: "news"}); err != nil || len(acts) != 1 || acts[0].UserID != "" {
		t.Errorf("the audit entry about erin: %+v, %v; want it kept, naming nobody", acts, err)
	}
	if _, err := f.s.TakeOIDCLogin(ctx, "t-erin", time.Now()); parley.ErrorCode(err) != parley.ENotFound {
		t.Errorf("erin's sign-in ticket survived: %v", err)
	}
	updated := map[int64]bool{}
	for _, e := range f.eventsAfter(at) {
		if e.Type == parley.EventCommentUpdated {
			updated[e.CommentID] = true
		}
	}
	for _, c := range []*parley.Comment{kept, held, removed, bobs} {
		if !updated[c.ID] {
			t.Errorf("no comment.updated for comment %d: caches and streams would not see the erasure", c.ID)
		}
	}
	_, err = f.s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.EraseUser(store.Erasure{UserID: erin.ID, Name: "x"})
		return err
	})
	wantCode(t, err, parley.ENotFound, "EraseUser a second time")
}

var eraseTests = []test{
	{"erasure leaves no personal data and keeps the threads", func(t *testing.T, f *fixture) { f.erase(t) }},
	{"site erasure setting", func(t *testing.T, f *fixture) {
		if m, err := f.s.SiteErasure(f.ctx, "news"); err != nil || m != store.ErasureAnonymise {
			t.Errorf("SiteErasure default: %q, %v", m, err)
		}
		if err := f.s.SetSiteErasure(f.ctx, "news", store.ErasureRemove); err != nil {
			t.Fatal(err)
		}
		if m, err := f.s.SiteErasure(f.ctx, "news"); err != nil || m != store.ErasureRemove {
			t.Errorf("SiteErasure: %q, %v", m, err)
		}
		wantCode(t, f.s.SetSiteErasure(f.ctx, "news", "shred"), parley.EInvalid, "SetSiteErasure of a bad mode")
		wantCode(t, f.s.SetSiteErasure(f.ctx, "nope", store.ErasureRemove), parley.ENotFound, "SetSiteErasure of an unknown site")
		_, err := f.s.SiteErasure(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "SiteErasure of an unknown site")
	}},
	{"site erasure setting in a unit of work", func(t *testing.T, f *fixture) {
		// A unit that fails leaves the mode as it was: the admin's change
		// and its audit entry commit together or not at all.
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			if err := tx.SetSiteErasure("news", store.ErasureRemove); err != nil {
				return err
			}
			return errors.New("the audit entry failed")
		})
		if err == nil {
			t.Fatal("the failing unit committed")
		}
		if m, err := f.s.SiteErasure(f.ctx, "news"); err != nil || m != store.ErasureAnonymise {
			t.Errorf("after a rolled-back unit: %q, %v", m, err)
		}
		if _, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.SetSiteErasure("news", store.ErasureRemove) }); err != nil {
			t.Fatal(err)
		}
		if m, err := f.s.SiteErasure(f.ctx, "news"); err != nil || m != store.ErasureRemove {
			t.Errorf("after the unit: %q, %v", m, err)
		}
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error { return tx.SetSiteErasure("news", "shred") })
		wantCode(t, err, parley.EInvalid, "Tx.SetSiteErasure of a bad mode")
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error { return tx.SetSiteErasure("nope", store.ErasureRemove) })
		wantCode(t, err, parley.ENotFound, "Tx.SetSiteErasure of an unknown site")
	}},
}
