package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var banMarkTests = []test{
	{"marks in force of the site and of bans on every site, ended and pruned", func(t *testing.T, f *fixture) {
		f.user("banned", "", "")
		f.user("global", "", "")
		f.newSite("other")
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		seen := now.Add(-3 * time.Hour)
		marks := []store.BanMark{
			{SiteID: "news", BannedID: "banned", Kind: store.MarkAddress, Value: "a1", Seen: seen, Expires: now.Add(30 * 24 * time.Hour)},
			{SiteID: "news", BannedID: "banned", Kind: store.MarkName, Value: "bob", Expires: now.Add(time.Hour)},
			{SiteID: "news", BannedID: "banned", Kind: store.MarkText, Value: "sig", Expires: now.Add(-time.Minute)}, // already over
			{SiteID: "other", BannedID: "banned", Kind: store.MarkEmail, Value: "e1", Expires: now.Add(time.Hour)},
			{SiteID: "", BannedID: "global", Kind: store.MarkAddress, Value: "a2", Created: now.Add(-time.Minute), Expires: now.Add(time.Hour)},
		}
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.AddBanMarks(marks) })
		if err != nil {
			t.Fatalf("AddBanMarks: %v", err)
		}
		for i, m := range marks {
			if m.ID == 0 || m.Created.IsZero() {
				t.Errorf("mark %d: id %d, created %v; want both set", i, m.ID, m.Created)
			}
		}
		got, err := f.s.BanMarks(f.ctx, "news", now, 0)
		if err != nil {
			t.Fatal(err)
		}
		var values []string
		for _, m := range got {
			values = append(values, m.Value)
		}
		if want := "[a1 bob a2]"; fmt.Sprint(values) != want {
			t.Fatalf("BanMarks(news): got %v, want %s (the site's and the global ones in force, oldest first)", values, want)
		}
		a := got[0]
		if a.SiteID != "news" || a.BannedID != "banned" || a.Kind != store.MarkAddress || a.ID != marks[0].ID {
			t.Errorf("first mark: got %+v", a)
		}
		wantTime(t, "seen", a.Seen, seen)
		wantTime(t, "expires", a.Expires, now.Add(30*24*time.Hour))
		if !got[1].Seen.IsZero() {
			t.Errorf("a mark stored without a seen time reads back %v, want zero", got[1].Seen)
		}
		wantTime(t, "created as given", got[2].Created, now.Add(-time.Minute))
		if got, _ := f.s.BanMarks(f.ctx, "news", now, 1); len(got) != 1 || got[0].Value != "a1" {
			t.Errorf("BanMarks with limit 1: got %+v", got)
		}
		if got, _ := f.s.BanMarks(f.ctx, "news", now.Add(2*time.Hour), 0); len(got) != 1 || got[0].Value != "a1" {
			t.Errorf("BanMarks two hours on: got %+v, want the address only", got)
		}

		// Lifting ends the site ban's marks, not the other site's.
		var n int
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.EndBanMarks("news", "banned", now)
			return err
		})
		if err != nil || n != 2 {
			t.Fatalf("EndBanMarks: %d, %v; want the 2 marks in force", n, err)
		}
		if got, _ := f.s.BanMarks(f.ctx, "news", now, 0); len(got) != 1 || got[0].Value != "a2" {
			t.Errorf("BanMarks after the lift: got %+v, want the global mark only", got)
		}
		if got, _ := f.s.BanMarks(f.ctx, "other", now, 0); len(got) != 2 {
			t.Errorf("BanMarks(other) after the news lift: got %+v, want its e-mail and the global mark", got)
		}

		// Pruning deletes what expired before the time.
		pruned, err := f.s.PruneBanMarks(f.ctx, now.Add(30*time.Minute))
		if err != nil || pruned != 3 {
			t.Errorf("PruneBanMarks: %d, %v; want 3 (the expired text, the two lifted)", pruned, err)
		}
		if got, _ := f.s.BanMarks(f.ctx, "other", now, 0); len(got) != 2 {
			t.Errorf("BanMarks(other) after pruning: got %+v, want the two still in force", got)
		}
	}},
	{"a mark of an unknown reader is refused, with the unit", func(t *testing.T, f *fixture) {
		f.user("banned", "", "")
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			if err := tx.AddBanMarks([]store.BanMark{{SiteID: "news", BannedID: "banned", Kind: store.MarkName, Value: "x", Expires: now.Add(time.Hour)}}); err != nil {
				return err
			}
			return tx.AddBanMarks([]store.BanMark{{SiteID: "news", BannedID: "nobody", Kind: store.MarkName, Value: "y", Expires: now.Add(time.Hour)}})
		})
		wantCode(t, err, parley.ENotFound, "AddBanMarks of an unknown reader")
		if got, _ := f.s.BanMarks(f.ctx, "news", now, 0); len(got) != 0 {
			t.Errorf("BanMarks after a failed unit: got %+v, want none", got)
		}
	}},
	{"an author's recent comments, newest first, per site", func(t *testing.T, f *fixture) {
		other := f.newSite("other")
		op := f.newPage(other.ID, "https://other.example.com/a", "A")
		base := ms(2026, 12, 1, 9, 0, 0, 0)
		old := f.add(spec{author: "bob", created: base.Add(-48 * time.Hour), ip: "h0"})
		c1 := f.add(spec{author: "bob", created: base, ip: "h1", status: parley.StatusRejected})
		c2 := f.add(spec{author: "bob", created: base.Add(time.Hour), ip: "h2"})
		f.add(spec{author: "bob", page: op, created: base.Add(2 * time.Hour), ip: "h3"})
		f.add(spec{author: "alice", created: base.Add(time.Hour)})
		got, err := f.s.AuthorComments(f.ctx, store.AuthorQuery{AuthorID: "bob", SiteID: "news", Since: base})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint([]int64{c2.ID, c1.ID}) {
			t.Fatalf("AuthorComments(news since base): got %v, want %v", ids(got), []int64{c2.ID, c1.ID})
		}
		if got[0].IPHash != "h2" || got[1].Status != parley.StatusRejected || got[0].Text != c2.Text {
			t.Errorf("comments read back: %+v %+v", got[0], got[1])
		}
		all, _ := f.s.AuthorComments(f.ctx, store.AuthorQuery{AuthorID: "bob"})
		if len(all) != 4 || all[3].ID != old.ID {
			t.Errorf("AuthorComments on every site, any time: got %v", ids(all))
		}
		if one, _ := f.s.AuthorComments(f.ctx, store.AuthorQuery{AuthorID: "bob", Limit: 1}); len(one) != 1 {
			t.Errorf("AuthorComments with limit 1: got %v", ids(one))
		}
	}},
}

// adminViewTests pin the reads of the admin's search and workload views.
var adminViewTests = []test{
	{"search a site's comments by text, author and page", func(t *testing.T, f *fixture) {
		other := f.newSite("other")
		op := f.newPage(other.ID, "https://other.example.com/a", "A")
		p2 := f.newPage("news", "https://news.example.com/2026/two", "Two")
		base := ms(2026, 12, 1, 9, 0, 0, 0)
		c1 := f.add(spec{author: "bob", text: "The TIMETABLE is late", created: base})
		c2 := f.add(spec{author: "carol", text: "the timetable again", created: base.Add(time.Minute), status: parley.StatusPending, page: p2})
		del := f.add(spec{author: "bob", text: "timetable deleted", created: base.Add(2 * time.Minute)})
		f.setStatus(del, parley.StatusDeleted, true)
		f.add(spec{author: "bob", text: "timetable elsewhere", page: op, created: base})
		search := func(q store.CommentSearch) []int64 {
			t.Helper()
			q.SiteID = "news"
			cs, err := f.s.SearchComments(f.ctx, q)
			if err != nil {
				t.Fatalf("SearchComments(%+v): %v", q, err)
			}
			return ids(cs)
		}
		for _, tc := range []struct {
			name string
			q    store.CommentSearch
			want []int64
		}{
			{"text in any case, newest first, not deleted, this site only", store.CommentSearch{Text: "timeTable"}, []int64{c2.ID, c1.ID}},
			{"author id", store.CommentSearch{Author: "bob"}, []int64{c1.ID}},
			{"part of the author's name", store.CommentSearch{Author: "aro"}, []int64{c2.ID}},
			{"page", store.CommentSearch{PageID: p2.ID}, []int64{c2.ID}},
			{"all of them", store.CommentSearch{Text: "late", Author: "bob", PageID: f.page.ID}, []int64{c1.ID}},
			{"nothing", store.CommentSearch{Text: "nothing like it"}, nil},
			{"limit and offset", store.CommentSearch{Limit: 1, Offset: 1}, []int64{c1.ID}},
		} {
			if got := search(tc.q); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
	}},
	{"workload per day: comments, holds, reports, decisions, overturns and the queue", func(t *testing.T, f *fixture) {
		f.user("r", "", "")
		day1 := ms(2026, 12, 1, 9, 0, 0, 0)
		day2 := ms(2026, 12, 2, 23, 59, 0, 0)
		held := f.build(spec{created: day1, status: parley.StatusPending})
		held.Reasons = []parley.Reason{{Rule: "toxicity", Message: "toxicity 0.9"}}
		if err := f.s.CreateComment(f.ctx, held); err != nil {
			t.Fatal(err)
		}
		ok := f.add(spec{created: day1.Add(time.Hour)})
		f.add(spec{created: day2, status: parley.StatusPending})
		f.add(spec{created: day1.Add(-48 * time.Hour)}) // before since
		if _, err := f.s.AddReport(f.ctx, &parley.Report{CommentID: ok.ID, ReporterID: "r", Reason: "spam", Created: day2}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []store.Action{
			{Action: "approve", CommentID: held.ID, Before: []byte(`{"status":"pending"}`), Created: day2},                // overturns the hold
			{Action: "reject", CommentID: ok.ID, Before: []byte(`{"status":"approved"}`), Created: day2.Add(time.Second)}, // overturns the publication
			{Action: "reject", CommentID: held.ID, Before: []byte(`{"status":"pending"}`), Created: day2.Add(2 * time.Second)},
			{Action: "note", Created: day2},
		} {
			a.SiteID = "news"
			if err := f.s.AddAction(f.ctx, &a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.s.Workload(f.ctx, "news", day1.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.DayStats{
			{Day: ms(2026, 12, 1, 0, 0, 0, 0), Comments: 2, Held: 1},
			{Day: ms(2026, 12, 2, 0, 0, 0, 0), Comments: 1, Reports: 1, Decisions: 3, Overturns: 2},
		}
		if fmt.Sprint(got.Days) != fmt.Sprint(want) {
			t.Errorf("days:\n got %v\nwant %v", got.Days, want)
		}
		if got.Pending != 2 {
			t.Errorf("pending %d, want 2", got.Pending)
		}
		wantTime(t, "oldest pending", got.OldestPending, day1)
		if other, err := f.s.Workload(f.ctx, "nope", day1); err != nil || len(other.Days) != 0 || other.Pending != 0 || !other.OldestPending.IsZero() {
			t.Errorf("workload of a site without comments: %+v, %v", other, err)
		}
	}},
}
