package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// report files a report, failing the test on error, and returns created.
func (f *fixture) report(c *parley.Comment, reporter, reason string) bool {
	f.t.Helper()
	created, err := f.s.AddReport(f.ctx, &parley.Report{CommentID: c.ID, ReporterID: reporter, Reason: reason, Note: "note by " + reporter})
	if err != nil {
		f.t.Fatalf("AddReport(%d, %s): %v", c.ID, reporter, err)
	}
	return created
}

// reports returns a comment's reports.
func (f *fixture) reports(c *parley.Comment) []*parley.Report {
	f.t.Helper()
	rs, err := f.s.Reports(f.ctx, c.ID)
	if err != nil {
		f.t.Fatalf("Reports(%d): %v", c.ID, err)
	}
	return rs
}

var reportTests = []test{
	{"add and read back", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		r := &parley.Report{CommentID: c.ID, ReporterID: "bob", Reason: "harassment", Note: "aimed at me — «again»",
			Created: ms(2026, 11, 20, 10, 0, 0, 42)}
		created, err := f.s.AddReport(f.ctx, r)
		if err != nil || !created {
			t.Fatalf("AddReport: got %v, %v; want created", created, err)
		}
		if r.ID == 0 {
			t.Errorf("AddReport assigned no id")
		}
		rs := f.reports(c)
		if len(rs) != 1 {
			t.Fatalf("Reports: got %d, want 1", len(rs))
		}
		got := rs[0]
		if got.ID != r.ID || got.CommentID != c.ID || got.ReporterID != "bob" || got.Reason != "harassment" ||
			got.Note != r.Note || got.Outcome != "" {
			t.Errorf("Reports: got %+v, want %+v", got, r)
		}
		wantTime(t, "Created", got.Created, r.Created)
	}},
	{"a reader's repeated report counts once", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		for i, tc := range []struct {
			reporter string
			want     bool
		}{{"bob", true}, {"bob", false}, {"carol", true}, {"bob", false}, {"carol", false}} {
			if got := f.report(c, tc.reporter, "spam"); got != tc.want {
				t.Errorf("report %d by %s: got created %v, want %v", i, tc.reporter, got, tc.want)
			}
		}
		var reporters []string
		for _, r := range f.reports(c) {
			reporters = append(reporters, r.ReporterID)
		}
		if want := []string{"bob", "carol"}; !slices.Equal(reporters, want) {
			t.Errorf("Reports: got reporters %q, want %q oldest first", reporters, want)
		}
		// The same reader may report another comment.
		if !f.report(f.add(spec{}), "bob", "spam") {
			t.Errorf("bob's report of another comment was not created")
		}
	}},
	{"report of a missing comment", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		_, err := f.s.AddReport(f.ctx, &parley.Report{CommentID: c.ID + 1000, ReporterID: "bob", Reason: "spam"})
		wantCode(t, err, parley.ENotFound, "AddReport")
	}},
	{"resolution on a moderator's decision", func(t *testing.T, f *fixture) {
		for _, tc := range []struct {
			name    string
			status  string
			seen    bool
			outcome string
		}{
			{"rejected", parley.StatusRejected, true, parley.ReportUpheld},
			{"deleted", parley.StatusDeleted, true, parley.ReportUpheld},
			{"approved", parley.StatusApproved, true, parley.ReportDismissed},
			{"rejected by a rule, unseen", parley.StatusRejected, false, ""},
		} {
			c := f.add(spec{})
			f.report(c, "bob", "abuse")
			f.report(c, "carol", "hate")
			f.setStatus(c, tc.status, tc.seen)
			for _, r := range f.reports(c) {
				if r.Outcome != tc.outcome {
					t.Errorf("%s: report by %s: got outcome %q, want %q", tc.name, r.ReporterID, r.Outcome, tc.outcome)
				}
			}
		}
	}},
	{"resolved reports stay resolved", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		f.report(c, "bob", "abuse")
		f.setStatus(c, parley.StatusApproved, true) // dismissed
		f.report(c, "carol", "abuse")               // a new, open report
		f.setStatus(c, parley.StatusRejected, true) // upholds carol's only
		got := map[string]string{}
		for _, r := range f.reports(c) {
			got[r.ReporterID] = r.Outcome
		}
		if got["bob"] != parley.ReportDismissed || got["carol"] != parley.ReportUpheld {
			t.Errorf("outcomes: got %v, want bob dismissed and carol upheld", got)
		}
	}},
	{"a page's reports in one call", func(t *testing.T, f *fixture) {
		other := f.newPage(f.site.ID, "https://news.example.com/2026/other", "Other")
		a := f.add(spec{})
		b := f.add(spec{status: parley.StatusPending})
		quiet := f.add(spec{}) // never reported
		elsewhere := f.add(spec{page: other})
		for _, r := range []*parley.Report{
			{CommentID: b.ID, ReporterID: "dave", Reason: "spam", Created: ms(2026, 11, 20, 10, 0, 3, 0)},
			{CommentID: a.ID, ReporterID: "carol", Reason: "hate", Note: "again", Created: ms(2026, 11, 20, 10, 0, 2, 0)},
			{CommentID: a.ID, ReporterID: "bob", Reason: "abuse", Created: ms(2026, 11, 20, 10, 0, 1, 7)},
			{CommentID: elsewhere.ID, ReporterID: "bob", Reason: "spam", Created: ms(2026, 11, 20, 10, 0, 0, 0)},
		} {
			if _, err := f.s.AddReport(f.ctx, r); err != nil {
				t.Fatalf("AddReport(%d, %s): %v", r.CommentID, r.ReporterID, err)
			}
		}
		f.setStatus(b, parley.StatusRejected, true) // upholds dave's report

		got, err := f.s.PageReports(f.ctx, f.page.ID)
		if err != nil {
			t.Fatalf("PageReports: %v", err)
		}
		if len(got) != 2 {
			t.Errorf("PageReports: got reports of %d comments, want 2 (%d and %d)", len(got), a.ID, b.ID)
		}
		if rs, ok := got[quiet.ID]; ok {
			t.Errorf("PageReports: got %d reports of an unreported comment, want it absent", len(rs))
		}
		if rs, ok := got[elsewhere.ID]; ok {
			t.Errorf("PageReports: got %d reports of a comment on another page, want it absent", len(rs))
		}
		// Each comment's reports are what Reports returns: same fields, same order.
		for _, c := range []*parley.Comment{a, b} {
			want := f.reports(c)
			if len(got[c.ID]) != len(want) {
				t.Errorf("comment %d: got %d reports, want %d", c.ID, len(got[c.ID]), len(want))
				continue
			}
			for i, r := range got[c.ID] {
				w := want[i]
				if r.ID != w.ID || r.CommentID != c.ID || r.ReporterID != w.ReporterID || r.Reason != w.Reason ||
					r.Note != w.Note || r.Outcome != w.Outcome {
					t.Errorf("comment %d, report %d: got %+v, want %+v", c.ID, i, r, w)
				}
				wantTime(t, fmt.Sprintf("comment %d, report %d: Created", c.ID, i), r.Created, w.Created)
			}
		}
		var reporters []string
		for _, r := range got[a.ID] {
			reporters = append(reporters, r.ReporterID)
		}
		if want := []string{"bob", "carol"}; !slices.Equal(reporters, want) {
			t.Errorf("PageReports: got reporters %q of comment %d, want %q oldest first", reporters, a.ID, want)
		}
		if rs := got[b.ID]; len(rs) == 1 && rs[0].Outcome != parley.ReportUpheld {
			t.Errorf("PageReports: got outcome %q of dave's report, want %q", rs[0].Outcome, parley.ReportUpheld)
		}

		for _, tc := range []struct {
			name string
			page int64
		}{{"a page without reports", f.newPage(f.site.ID, "https://news.example.com/2026/calm", "Calm").ID}, {"no such page", other.ID + 1000}} {
			got, err := f.s.PageReports(f.ctx, tc.page)
			if err != nil || len(got) != 0 {
				t.Errorf("PageReports of %s: got %v, %v; want an empty map and no error", tc.name, got, err)
			}
		}
	}},
}

var voteTests = []test{
	{"one vote per reader", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		for _, tc := range []struct {
			name  string
			user  string
			value int
			score int
		}{
			{"bob up", "bob", 1, 1},
			{"bob up again", "bob", 1, 1},
			{"carol up", "carol", 1, 2},
			{"dave down", "dave", -1, 1},
			{"bob changes his mind", "bob", -1, -1},
			{"carol withdraws", "carol", 0, -2},
			{"carol withdraws again", "carol", 0, -2},
			{"eve withdraws a vote she never cast", "eve", 0, -2},
			{"dave up", "dave", 1, 0},
		} {
			score, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: tc.user, Value: tc.value})
			if err != nil {
				t.Fatalf("%s: Vote: %v", tc.name, err)
			}
			if score != tc.score {
				t.Errorf("%s: got score %d, want %d", tc.name, score, tc.score)
			}
			if got := f.comment(c.ID).Score; got != tc.score {
				t.Errorf("%s: stored score %d, want %d", tc.name, got, tc.score)
			}
		}
	}},
	{"votes of a reader on a page", func(t *testing.T, f *fixture) {
		a, b, c := f.add(spec{}), f.add(spec{}), f.add(spec{})
		elsewhere := f.add(spec{page: f.newPage(f.site.ID, "https://news.example.com/other", "")})
		for _, v := range []parley.Vote{
			{CommentID: a.ID, UserID: "bob", Value: 1},
			{CommentID: b.ID, UserID: "bob", Value: -1},
			{CommentID: c.ID, UserID: "bob", Value: 1},
			{CommentID: c.ID, UserID: "bob", Value: 0},
			{CommentID: a.ID, UserID: "carol", Value: -1},
			{CommentID: elsewhere.ID, UserID: "bob", Value: 1},
		} {
			if _, err := f.s.Vote(f.ctx, v); err != nil {
				t.Fatalf("Vote(%+v): %v", v, err)
			}
		}
		got, err := f.s.Votes(f.ctx, f.page.ID, "bob")
		if err != nil {
			t.Fatalf("Votes: %v", err)
		}
		want := map[int64]int{a.ID: 1, b.ID: -1}
		if len(got) != len(want) || got[a.ID] != 1 || got[b.ID] != -1 {
			t.Errorf("Votes(bob): got %v, want %v", got, want)
		}
		none, err := f.s.Votes(f.ctx, f.page.ID, "nobody")
		if err != nil || len(none) != 0 {
			t.Errorf("Votes(nobody): got %v, %v; want none", none, err)
		}
	}},
	{"vote on a missing comment", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		_, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID + 1000, UserID: "bob", Value: 1})
		wantCode(t, err, parley.ENotFound, "Vote")
	}},
}

var activityTests = []test{
	{"duplicate after an edit", duplicateAfterEdit},
	{"counts and duplicates", func(t *testing.T, f *fixture) {
		now := ms(2026, 11, 21, 12, 0, 0, 0)
		ago := func(d time.Duration) time.Time { return now.Add(-d) }
		other := f.newPage(f.site.ID, "https://news.example.com/other", "")
		for _, sp := range []spec{
			{author: "bob", ip: "ip1", created: ago(2 * time.Hour), text: "old news"},
			{author: "bob", ip: "ip1", created: ago(50 * time.Minute), text: "same again"},
			{author: "bob", ip: "ip1", created: ago(30 * time.Second), text: "hello", status: parley.StatusRejected},
			{author: "bob", ip: "ip2", created: ago(10 * time.Second), text: "hello there", page: other},
			{author: "carol", ip: "ip1", created: ago(20 * time.Second), text: "same again"},
			{author: "carol", ip: "ip1", created: ago(time.Minute), text: "at the edge"},
		} {
			f.add(sp)
		}
		for _, tc := range []struct {
			name string
			q    store.ActivityQuery
			want store.Activity
		}{
			{"last minute", store.ActivityQuery{AuthorID: "bob", IPHash: "ip1", Since: ago(time.Minute)},
				store.Activity{ByAuthor: 2, ByIP: 3}},
			{"last day", store.ActivityQuery{AuthorID: "bob", IPHash: "ip1", Since: ago(24 * time.Hour)},
				store.Activity{ByAuthor: 4, ByIP: 5}},
			{"no ip", store.ActivityQuery{AuthorID: "bob", Since: ago(24 * time.Hour)},
				store.Activity{ByAuthor: 4}},
			{"capped counts", store.ActivityQuery{AuthorID: "bob", IPHash: "ip1", Since: ago(24 * time.Hour), Cap: 3},
				store.Activity{ByAuthor: 3, ByIP: 3}},
			{"no counts, duplicate only", store.ActivityQuery{AuthorID: "bob", IPHash: "ip1", Since: ago(24 * time.Hour), Cap: -1, Text: "same again", TextSince: ago(time.Hour)},
				store.Activity{Duplicate: true}},
			{"duplicate in the window", store.ActivityQuery{AuthorID: "bob", Since: now, Text: "same again", TextSince: ago(time.Hour)},
				store.Activity{Duplicate: true}},
			{"duplicate before the window", store.ActivityQuery{AuthorID: "bob", Since: now, Text: "old news", TextSince: ago(time.Hour)},
				store.Activity{}},
			{"someone else's text", store.ActivityQuery{AuthorID: "bob", Since: now, Text: "at the edge", TextSince: ago(time.Hour)},
				store.Activity{}},
			{"exact text only", store.ActivityQuery{AuthorID: "bob", Since: now, Text: "Hello", TextSince: ago(time.Hour)},
				store.Activity{}},
			{"a new reader", store.ActivityQuery{AuthorID: "dave", IPHash: "ip9", Since: ago(time.Hour), Text: "x", TextSince: ago(time.Hour)},
				store.Activity{}},
		} {
			got, err := f.s.Activity(f.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: Activity: %v", tc.name, err)
			}
			if got != tc.want {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
			}
		}
	}},
}

// duplicateAfterEdit checks that the duplicate search sees a comment's
// current text, not the one it was created with.
func duplicateAfterEdit(t *testing.T, f *fixture) {
	now := time.Now()
	c := f.add(spec{author: "bob", text: "first words"})
	if err := f.s.EditComment(f.ctx, c.ID, "second thoughts", "<p>second thoughts</p>", now); err != nil {
		t.Fatalf("EditComment: %v", err)
	}
	for _, tc := range []struct {
		text string
		want bool
	}{{"first words", false}, {"second thoughts", true}} {
		got, err := f.s.Activity(f.ctx, store.ActivityQuery{AuthorID: "bob", Since: now, Text: tc.text, TextSince: now.Add(-time.Hour)})
		if err != nil {
			t.Fatalf("Activity: %v", err)
		}
		if got.Duplicate != tc.want {
			t.Errorf("duplicate of %q after the edit: got %v, want %v", tc.text, got.Duplicate, tc.want)
		}
	}
}

var historyTests = []test{
	{"summary of a reader", func(t *testing.T, f *fixture) {
		base := ms(2026, 11, 1, 0, 0, 0, 0)
		at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
		mk := func(h int, status string) *parley.Comment {
			return f.add(spec{author: "bob", created: at(h), status: status})
		}
		mk(1, parley.StatusApproved)
		r1 := mk(2, parley.StatusApproved)
		mk(3, parley.StatusPending)
		mk(4, parley.StatusApproved)
		d := mk(5, parley.StatusApproved)
		mk(6, parley.StatusRejected)
		r2 := mk(7, parley.StatusApproved)
		f.add(spec{author: "carol", created: at(8), status: parley.StatusRejected})
		f.setStatus(d, parley.StatusDeleted, false)
		f.report(r1, "x", "spam")
		f.report(r1, "y", "spam")
		f.setStatus(r1, parley.StatusRejected, true) // two upheld reports
		f.report(r2, "x", "spam")
		f.setStatus(r2, parley.StatusApproved, true) // dismissed

		got, err := f.s.History(f.ctx, "bob", 3)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		want := store.History{Approved: 3, Rejected: 2, Pending: 1, ReportsUpheld: 2,
			Recent: []string{parley.StatusApproved, parley.StatusRejected, parley.StatusApproved}}
		if got.Approved != want.Approved || got.Rejected != want.Rejected || got.Pending != want.Pending ||
			got.ReportsUpheld != want.ReportsUpheld || !slices.Equal(got.Recent, want.Recent) {
			t.Errorf("History(bob, 3): got %+v, want %+v", got, want)
		}
		all, err := f.s.History(f.ctx, "bob", 100)
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		if wantAll := []string{"approved", "rejected", "approved", "rejected", "approved"}; !slices.Equal(all.Recent, wantAll) {
			t.Errorf("History(bob, 100).Recent: got %q, want %q", all.Recent, wantAll)
		}
		none, err := f.s.History(f.ctx, "nobody", 5)
		if err != nil || none.Approved+none.Rejected+none.Pending+none.ReportsUpheld != 0 || len(none.Recent) != 0 {
			t.Errorf("History(nobody): got %+v, %v; want nothing", none, err)
		}
	}},
	{"counts follow every write", historyFollowsWrites},
}

// historyFollowsWrites checks History's counts after each kind of write
// that changes them (a new comment in each status, status changes with and
// without resolving reports, changes back, a change to the same status,
// imports and an import run again), against the statuses the test keeps.
func historyFollowsWrites(t *testing.T, f *fixture) {
	status := map[int64]string{} // bob's comments
	upheld := 0
	check := func(step string) {
		t.Helper()
		var want store.History
		for _, st := range status {
			switch st {
			case parley.StatusApproved:
				want.Approved++
			case parley.StatusRejected:
				want.Rejected++
			case parley.StatusPending:
				want.Pending++
			}
		}
		want.ReportsUpheld = upheld
		got, err := f.s.History(f.ctx, "bob", 0)
		if err != nil {
			t.Fatalf("%s: History: %v", step, err)
		}
		if got.Approved != want.Approved || got.Rejected != want.Rejected || got.Pending != want.Pending ||
			got.ReportsUpheld != want.ReportsUpheld || len(got.Recent) != 0 {
			t.Errorf("%s: History(bob, 0): got %+v, want %+v", step, got, want)
		}
	}
	add := func(st string) *parley.Comment {
		c := f.add(spec{author: "bob", status: st})
		status[c.ID] = st
		return c
	}
	set := func(c *parley.Comment, st string, seen bool) {
		f.setStatus(c, st, seen)
		status[c.ID] = st
	}
	check("no comments")
	a := add(parley.StatusApproved)
	p := add(parley.StatusPending)
	r := add(parley.StatusRejected)
	add(parley.StatusDeleted)
	f.add(spec{author: "carol", status: parley.StatusRejected}) // not bob's
	check("new comments")
	set(p, parley.StatusApproved, false)
	check("pending approved")
	set(a, parley.StatusApproved, true)
	check("approved again")
	f.report(a, "x", "spam")
	f.report(a, "y", "spam")
	set(a, parley.StatusRejected, false)
	check("rejected, reports left open")
	set(a, parley.StatusRejected, true)
	upheld += 2
	check("rejected again, reports upheld")
	set(a, parley.StatusApproved, true)
	check("approved after all: the reports stay upheld")
	f.report(r, "x", "spam")
	set(r, parley.StatusDeleted, true)
	upheld++
	check("rejected deleted, its report upheld")
	f.report(p, "z", "spam")
	set(p, parley.StatusApproved, true)
	check("report dismissed")
	set(r, parley.StatusPending, false)
	check("deleted held again")
	batch := func() *store.ImportBatch {
		return &store.ImportBatch{SiteID: "news", Users: []*parley.User{{ID: "bob", Name: "Bob", Role: parley.RoleReader}},
			Comments: []*store.ImportedComment{
				f.imported("h1", "", "", f.page, "bob", parley.StatusApproved, 1),
				f.imported("h2", "h1", "", f.page, "bob", parley.StatusPending, 2),
				f.imported("h3", "", "", f.page, "bob", parley.StatusRejected, 3),
				f.imported("h4", "", "", f.page, "carol", parley.StatusApproved, 4),
			}}
	}
	b := batch()
	if _, err := f.s.Import(f.ctx, b); err != nil {
		t.Fatalf("Import: %v", err)
	}
	for _, ic := range b.Comments[:3] {
		status[ic.Comment.ID] = ic.Comment.Status
	}
	check("imported")
	if res, err := f.s.Import(f.ctx, batch()); err != nil || res.Created != 0 {
		t.Fatalf("Import again: %+v, %v; want nothing created", res, err)
	}
	check("imported again")
	set(b.Comments[1].Comment, parley.StatusRejected, true)
	check("imported comment rejected")
}

var queueTests = []test{
	{"each queue", func(t *testing.T, f *fixture) {
		q := newQueueScene(f)
		for _, tc := range []struct {
			name string
			q    store.QueueQuery
			want []*parley.Comment
		}{
			{"pending, reported first, then oldest first", store.QueueQuery{Queue: store.QueuePending}, []*parley.Comment{q.pending2, q.pending1, q.otherSite}},
			{"pending of a site", store.QueueQuery{Queue: store.QueuePending, SiteID: f.site.ID}, []*parley.Comment{q.pending2, q.pending1}},
			{"pending of a page", store.QueueQuery{Queue: store.QueuePending, PageID: q.second.ID}, []*parley.Comment{q.pending2}},
			{"pending of an author", store.QueueQuery{Queue: store.QueuePending, AuthorID: "bob"}, []*parley.Comment{q.pending1}},
			{"pending, limit and offset", store.QueueQuery{Queue: store.QueuePending, Limit: 1, Offset: 1}, []*parley.Comment{q.pending1}},
			{"reported, by report weight", store.QueueQuery{Queue: store.QueueReported, SiteID: f.site.ID}, []*parley.Comment{q.reported, q.pending2}},
			{"rejected, newest first", store.QueueQuery{Queue: store.QueueRejected, SiteID: f.site.ID}, []*parley.Comment{q.rejected2, q.rejected1}},
			{"approved, newest first", store.QueueQuery{Queue: store.QueueApproved, SiteID: f.site.ID}, []*parley.Comment{q.dismissed, q.seen, q.reported, q.approved}},
			{"unmoderated, oldest first", store.QueueQuery{Queue: store.QueueUnseen, SiteID: f.site.ID}, []*parley.Comment{q.approved}},
		} {
			items, err := f.s.Queue(f.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: Queue: %v", tc.name, err)
			}
			var got []int64
			for _, it := range items {
				got = append(got, it.Comment.ID)
				if it.Page == nil || it.Page.ID != it.Comment.PageID {
					t.Errorf("%s: comment %d comes with page %+v", tc.name, it.Comment.ID, it.Page)
				}
			}
			if !slices.Equal(got, ids(tc.want)) {
				t.Errorf("%s: got %v, want %v", tc.name, got, ids(tc.want))
			}
		}
	}},
	{"items carry open reports and reasons", func(t *testing.T, f *fixture) {
		q := newQueueScene(f)
		items, err := f.s.Queue(f.ctx, store.QueueQuery{Queue: store.QueueReported, SiteID: f.site.ID})
		if err != nil {
			t.Fatalf("Queue: %v", err)
		}
		byID := map[int64]*store.QueueItem{}
		for _, it := range items {
			byID[it.Comment.ID] = it
		}
		it := byID[q.reported.ID]
		if it == nil {
			t.Fatalf("reported comment %d not in the queue", q.reported.ID)
		}
		var reporters []string
		for _, r := range it.Reports {
			reporters = append(reporters, r.ReporterID)
			if r.Outcome != "" {
				t.Errorf("a resolved report is listed: %+v", r)
			}
		}
		if !slices.Equal(reporters, []string{"x", "y", "z"}) || it.Reporters != 3 {
			t.Errorf("reports: got reporters %q and count %d, want x, y, z and 3", reporters, it.Reporters)
		}
		if p := byID[q.pending2.ID]; p == nil || p.Reporters != 1 || !equalReasons(p.Comment.Reasons, q.reasons) {
			t.Errorf("held and reported comment: got %+v, want 1 reporter and reasons %+v", p, q.reasons)
		} else if p.Page.URL != q.second.URL {
			t.Errorf("held and reported comment: got page %q, want %q", p.Page.URL, q.second.URL)
		}
	}},
	{"unknown queue", func(t *testing.T, f *fixture) {
		_, err := f.s.Queue(f.ctx, store.QueueQuery{Queue: "everything"})
		wantCode(t, err, parley.EInvalid, "Queue")
	}},
	{"default limit", func(t *testing.T, f *fixture) {
		for range 55 {
			f.add(spec{status: parley.StatusPending})
		}
		items, err := f.s.Queue(f.ctx, store.QueueQuery{Queue: store.QueuePending})
		if err != nil {
			t.Fatalf("Queue: %v", err)
		}
		if len(items) != 50 {
			t.Errorf("Queue with no limit: got %d items, want 50", len(items))
		}
	}},
}

// queueScene is a site with comments in every queue, each created an hour
// after the previous one.
type queueScene struct {
	second                                   *parley.Page
	approved, seen, reported                 *parley.Comment
	pending1, pending2, rejected1, rejected2 *parley.Comment
	deletedReported, dismissed, otherSite    *parley.Comment
	reasons                                  []parley.Reason
}

func newQueueScene(f *fixture) *queueScene {
	base := ms(2026, 11, 1, 0, 0, 0, 0)
	h := 0
	at := func() time.Time { h++; return base.Add(time.Duration(h) * time.Hour) }
	q := &queueScene{second: f.newPage(f.site.ID, "https://news.example.com/second", "Second")}
	q.reasons = []parley.Reason{{Rule: "max_links", Message: "4 links", Spans: []parley.Span{{Start: 3, End: 20}}}}
	q.approved = f.add(spec{author: "carol", created: at()})
	q.pending1 = f.add(spec{author: "bob", created: at(), status: parley.StatusPending})
	q.rejected1 = f.add(spec{author: "carol", created: at(), status: parley.StatusRejected})
	q.reported = f.add(spec{author: "carol", created: at()})
	q.pending2 = f.build(spec{author: "dave", created: at(), status: parley.StatusPending, page: q.second})
	q.pending2.Reasons = q.reasons
	if err := f.s.CreateComment(f.ctx, q.pending2); err != nil {
		f.t.Fatalf("CreateComment: %v", err)
	}
	q.rejected2 = f.add(spec{author: "carol", created: at(), status: parley.StatusRejected})
	q.seen = f.add(spec{author: "carol", created: at()})
	f.setStatus(q.seen, parley.StatusApproved, true)
	q.deletedReported = f.add(spec{author: "carol", created: at()})
	q.dismissed = f.add(spec{author: "carol", created: at()})
	f.newSite("other")
	q.otherSite = f.add(spec{author: "carol", created: at(), status: parley.StatusPending,
		page: f.newPage("other", "https://other.example.com/", "")})

	// An earlier report, dismissed, is no longer listed nor counted.
	f.report(q.reported, "w", "spam")
	f.setStatus(q.reported, parley.StatusApproved, true)
	for _, r := range []string{"x", "y", "z", "y"} {
		f.report(q.reported, r, "abuse")
	}
	f.report(q.pending2, "x", "spam")
	f.report(q.deletedReported, "x", "spam")
	f.setStatus(q.deletedReported, parley.StatusDeleted, false) // deleted by its author: out of every queue
	f.report(q.dismissed, "x", "spam")
	f.setStatus(q.dismissed, parley.StatusApproved, true)
	return q
}
