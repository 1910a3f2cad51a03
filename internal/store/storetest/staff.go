package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// user creates a user with the role ("reader" when empty) and e-mail.
func (f *fixture) user(id, role, email string) *parley.User {
	f.t.Helper()
	if role == "" {
		role = parley.RoleReader
	}
	u := &parley.User{ID: id, Name: "User " + id, Email: email, Role: role, Created: ms(2026, 11, 1, 0, 0, 0, 0)}
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser(%q): %v", id, err)
	}
	return u
}

var staffTests = []test{
	{"credentials by e-mail", func(t *testing.T, f *fixture) {
		f.user("mod", parley.RoleModerator, "mod@example.com")
		f.user("reader", "", "reader@example.com")
		if err := f.s.SetPassword(f.ctx, "mod", "$argon2id$hash"); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		u, hash, err := f.s.Credentials(f.ctx, "mod@example.com")
		if err != nil || u.ID != "mod" || u.Role != parley.RoleModerator || hash != "$argon2id$hash" {
			t.Fatalf("Credentials: got %+v, %q, %v; want mod with its hash", u, hash, err)
		}
		_, _, err = f.s.Credentials(f.ctx, "reader@example.com")
		wantCode(t, err, parley.ENotFound, "Credentials of a reader")
		_, _, err = f.s.Credentials(f.ctx, "nobody@example.com")
		wantCode(t, err, parley.ENotFound, "Credentials of an unknown address")
		wantCode(t, f.s.SetPassword(f.ctx, "ghost", "x"), parley.ENotFound, "SetPassword of an unknown user")
	}},
	{"one staff account per address", func(t *testing.T, f *fixture) {
		f.user("a", parley.RoleAdmin, "boss@example.com")
		err := f.s.CreateUser(f.ctx, &parley.User{ID: "b", Name: "B", Email: "boss@example.com", Role: parley.RoleModerator})
		wantCode(t, err, parley.EConflict, "CreateUser with a staff member's address")
		// Readers may share an address with anyone (or have none).
		f.user("r1", "", "boss@example.com")
		f.user("r2", "", "")
		f.user("r3", "", "")
		m := f.user("m", parley.RoleModerator, "other@example.com")
		m.Email = "boss@example.com"
		wantCode(t, f.s.UpdateUser(f.ctx, m), parley.EConflict, "UpdateUser to a staff member's address")
	}},
	{"staff users ordered by e-mail", func(t *testing.T, f *fixture) {
		f.user("z", parley.RoleModerator, "a@example.com")
		f.user("r", "", "b@example.com")
		f.user("a", parley.RoleAdmin, "c@example.com")
		us, err := f.s.StaffUsers(f.ctx)
		if err != nil {
			t.Fatalf("StaffUsers: %v", err)
		}
		var got []string
		for _, u := range us {
			got = append(got, u.ID)
		}
		if !slices.Equal(got, []string{"z", "a"}) {
			t.Errorf("StaffUsers: got %v, want [z a]", got)
		}
	}},
}

var staffSessionTests = []test{
	{"create, read, revoke", func(t *testing.T, f *fixture) {
		f.user("mod", parley.RoleModerator, "mod@example.com")
		created := ms(2026, 11, 20, 8, 0, 0, 5)
		s := &store.StaffSession{TokenHash: "h1", UserID: "mod", Created: created, Expires: created.Add(12 * time.Hour)}
		if err := f.s.CreateStaffSession(f.ctx, s); err != nil {
			t.Fatalf("CreateStaffSession: %v", err)
		}
		wantCode(t, f.s.CreateStaffSession(f.ctx, &store.StaffSession{TokenHash: "h1", UserID: "mod", Expires: created}),
			parley.EConflict, "CreateStaffSession with a used token")
		wantCode(t, f.s.CreateStaffSession(f.ctx, &store.StaffSession{TokenHash: "h9", UserID: "ghost", Expires: created}),
			parley.ENotFound, "CreateStaffSession of an unknown user")
		f.s.CreateStaffSession(f.ctx, &store.StaffSession{TokenHash: "h2", UserID: "mod", Expires: created.Add(time.Hour)})
		f.s.CreateStaffSession(f.ctx, &store.StaffSession{TokenHash: "h3", UserID: "mod", Expires: created.Add(time.Hour)})

		got, err := f.s.StaffSession(f.ctx, "h1")
		if err != nil || got.UserID != "mod" || got.Revoked {
			t.Fatalf("StaffSession: got %+v, %v", got, err)
		}
		wantTime(t, "created", got.Created, created)
		wantTime(t, "expires", got.Expires, created.Add(12*time.Hour))
		_, err = f.s.StaffSession(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "StaffSession of an unknown token")

		if n, err := f.s.RevokeStaffSessions(f.ctx, "", "h1"); err != nil || n != 1 {
			t.Errorf("revoke one: got %d, %v; want 1", n, err)
		}
		if n, err := f.s.RevokeStaffSessions(f.ctx, "", "h1"); err != nil || n != 0 {
			t.Errorf("revoke it again: got %d, %v; want 0", n, err)
		}
		if got, _ := f.s.StaffSession(f.ctx, "h1"); got == nil || !got.Revoked {
			t.Errorf("revoked session reads back as %+v", got)
		}
		if n, err := f.s.RevokeStaffSessions(f.ctx, "mod", ""); err != nil || n != 2 {
			t.Errorf("revoke every session of the user: got %d, %v; want 2", n, err)
		}
		if got, _ := f.s.StaffSession(f.ctx, "h3"); got == nil || !got.Revoked {
			t.Errorf("session h3 after revoking the user's: %+v", got)
		}
	}},
	{"prune expired and revoked", func(t *testing.T, f *fixture) {
		f.user("mod", parley.RoleModerator, "mod@example.com")
		at := ms(2026, 11, 20, 8, 0, 0, 0)
		for _, s := range []store.StaffSession{
			{TokenHash: "expired", UserID: "mod", Expires: at.Add(-time.Second)},
			{TokenHash: "revoked", UserID: "mod", Expires: at.Add(time.Hour), Revoked: true},
			{TokenHash: "live", UserID: "mod", Expires: at.Add(time.Hour)},
		} {
			if err := f.s.CreateStaffSession(f.ctx, &s); err != nil {
				t.Fatalf("CreateStaffSession: %v", err)
			}
		}
		if n, err := f.s.PruneStaffSessions(f.ctx, at); err != nil || n != 2 {
			t.Errorf("PruneStaffSessions: got %d, %v; want 2", n, err)
		}
		if _, err := f.s.StaffSession(f.ctx, "live"); err != nil {
			t.Errorf("live session pruned: %v", err)
		}
		_, err := f.s.StaffSession(f.ctx, "expired")
		wantCode(t, err, parley.ENotFound, "StaffSession of a pruned session")
	}},
}

var sanctionTests = []test{
	{"per site, replaced, zero by default", func(t *testing.T, f *fixture) {
		f.user("r", "", "")
		f.newSite("other")
		got, err := f.s.Sanction(f.ctx, "r", f.site.ID)
		if err != nil || !got.SuspendedUntil.IsZero() || got.Premoderated || got.UserID != "r" || got.SiteID != f.site.ID {
			t.Fatalf("Sanction with none stored: got %+v, %v; want the zero sanction", got, err)
		}
		until := ms(2026, 12, 1, 0, 0, 0, 0)
		if err := f.s.SetSanction(f.ctx, store.Sanction{UserID: "r", SiteID: f.site.ID, SuspendedUntil: until}); err != nil {
			t.Fatalf("SetSanction: %v", err)
		}
		if err := f.s.SetSanction(f.ctx, store.Sanction{UserID: "r", SiteID: "other", Premoderated: true}); err != nil {
			t.Fatalf("SetSanction other: %v", err)
		}
		got, _ = f.s.Sanction(f.ctx, "r", f.site.ID)
		wantTime(t, "suspended until", got.SuspendedUntil, until)
		if got.Premoderated || got.Updated.IsZero() {
			t.Errorf("news sanction: got %+v, want not premoderated and an update time", got)
		}
		if !got.Suspended(until.Add(-time.Second)) || got.Suspended(until) {
			t.Errorf("Suspended around %v: wrong", until)
		}
		other, _ := f.s.Sanction(f.ctx, "r", "other")
		if !other.Premoderated || !other.SuspendedUntil.IsZero() {
			t.Errorf("other site's sanction: got %+v, want premoderated only", other)
		}
		// Lifting replaces the row.
		f.s.SetSanction(f.ctx, store.Sanction{UserID: "r", SiteID: f.site.ID})
		if got, _ := f.s.Sanction(f.ctx, "r", f.site.ID); !got.SuspendedUntil.IsZero() || got.Premoderated {
			t.Errorf("after lifting: got %+v", got)
		}
		wantCode(t, f.s.SetSanction(f.ctx, store.Sanction{UserID: "ghost", SiteID: f.site.ID}), parley.ENotFound, "SetSanction of an unknown user")
		wantCode(t, f.s.SetSanction(f.ctx, store.Sanction{UserID: "r", SiteID: "nowhere"}), parley.ENotFound, "SetSanction on an unknown site")
	}},
}

var auditTests = []test{
	{"record and list", func(t *testing.T, f *fixture) {
		c1, c2 := f.add(spec{author: "bob"}), f.add(spec{author: "carol"})
		at := ms(2026, 11, 20, 9, 0, 0, 0)
		add := func(a store.Action) *store.Action {
			t.Helper()
			if err := f.s.AddAction(f.ctx, &a); err != nil {
				t.Fatalf("AddAction(%+v): %v", a, err)
			}
			return &a
		}
		a1 := add(store.Action{ActorID: "mod", ActorName: "Mod", Action: "reject", CommentID: c1.ID, UserID: "bob", SiteID: f.site.ID,
			Note: "abusive", Before: []byte(`{"status":"approved"}`), After: []byte(`{"status":"rejected"}`), Created: at})
		a2 := add(store.Action{ActorName: "admin token", Action: "suspend", UserID: "bob", SiteID: f.site.ID,
			After: []byte(`{"suspended_until":"2026-12-01T00:00:00Z"}`)})
		a3 := add(store.Action{ActorID: "mod", ActorName: "Mod", Action: "approve", CommentID: c2.ID, UserID: "carol", SiteID: "other"})
		if a1.ID == 0 || a2.ID <= a1.ID || a3.ID <= a2.ID {
			t.Fatalf("ids not increasing: %d %d %d", a1.ID, a2.ID, a3.ID)
		}
		wantTime(t, "created", a1.Created, at)
		if a2.Created.IsZero() {
			t.Errorf("Created not set when zero")
		}
		for _, tc := range []struct {
			name string
			q    store.ActionQuery
			want []int64
		}{
			{"of a comment", store.ActionQuery{CommentID: c1.ID}, []int64{a1.ID}},
			{"of a user, newest first", store.ActionQuery{UserID: "bob"}, []int64{a2.ID, a1.ID}},
			{"of a user on a site", store.ActionQuery{UserID: "carol", SiteID: f.site.ID}, nil},
			{"of a site", store.ActionQuery{SiteID: f.site.ID}, []int64{a2.ID, a1.ID}},
			{"limited", store.ActionQuery{SiteID: f.site.ID, Limit: 1}, []int64{a2.ID}},
		} {
			got, err := f.s.Actions(f.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: Actions: %v", tc.name, err)
			}
			var gotIDs []int64
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
			}
			if !slices.Equal(gotIDs, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, gotIDs, tc.want)
			}
		}
		got, _ := f.s.Actions(f.ctx, store.ActionQuery{CommentID: c1.ID})
		if g := got[0]; g.ActorID != "mod" || g.ActorName != "Mod" || g.Action != "reject" || g.UserID != "bob" ||
			g.SiteID != f.site.ID || g.Note != "abusive" || string(g.Before) != `{"status":"approved"}` || string(g.After) != `{"status":"rejected"}` {
			t.Errorf("entry reads back as %+v", g)
		}
		got, _ = f.s.Actions(f.ctx, store.ActionQuery{UserID: "bob", SiteID: f.site.ID})
		if len(got) != 2 || got[0].Before != nil || got[0].ActorID != "" {
			t.Errorf("entry without before: got %+v", got[0])
		}
		_, err := f.s.Actions(f.ctx, store.ActionQuery{})
		wantCode(t, err, parley.EInvalid, "Actions without a filter")
	}},
}

var noteTests = []test{
	{"per reader and site, newest first", func(t *testing.T, f *fixture) {
		f.user("r", "", "")
		f.newSite("other")
		var want []int64
		for i, site := range []string{f.site.ID, "other", f.site.ID} {
			n := &store.Note{UserID: "r", SiteID: site, AuthorID: "mod", AuthorName: "Mod", Text: fmt.Sprintf("note %d", i)}
			if err := f.s.AddNote(f.ctx, n); err != nil {
				t.Fatalf("AddNote: %v", err)
			}
			if n.ID == 0 || n.Created.IsZero() {
				t.Errorf("AddNote left ID or Created unset: %+v", n)
			}
			if site == f.site.ID {
				want = append([]int64{n.ID}, want...)
			}
		}
		got, err := f.s.Notes(f.ctx, "r", f.site.ID)
		if err != nil {
			t.Fatalf("Notes: %v", err)
		}
		var gotIDs []int64
		for _, n := range got {
			gotIDs = append(gotIDs, n.ID)
		}
		if !slices.Equal(gotIDs, want) || got[0].Text != "note 2" || got[0].AuthorName != "Mod" {
			t.Errorf("Notes: got %v (%+v), want %v", gotIDs, got[0], want)
		}
		wantCode(t, f.s.AddNote(f.ctx, &store.Note{UserID: "ghost", SiteID: f.site.ID, Text: "x"}), parley.ENotFound, "AddNote on an unknown reader")
	}},
}

var reporterTests = []test{
	{"records and reports against", func(t *testing.T, f *fixture) {
		for _, id := range []string{"good", "bad", "new"} {
			f.user(id, "", "")
		}
		second := f.newPage(f.site.ID, "https://news.example.com/other", "")
		c1 := f.add(spec{author: "troll"})
		c2 := f.add(spec{author: "troll", page: second})
		c3 := f.add(spec{author: "nice"})
		f.report(c1, "good", "abuse")
		f.report(c1, "bad", "abuse")
		f.setStatus(c1, parley.StatusRejected, true) // upheld
		f.report(c3, "bad", "spam")
		f.setStatus(c3, parley.StatusApproved, true) // dismissed
		f.report(c2, "bad", "abuse")
		f.report(c2, "new", "abuse") // open

		recs, err := f.s.ReporterRecords(f.ctx, []string{"good", "bad", "new", "ghost", "good"})
		if err != nil {
			t.Fatalf("ReporterRecords: %v", err)
		}
		want := map[string]store.ReporterRecord{
			"good": {Made: 1, Upheld: 1},
			"bad":  {Made: 3, Upheld: 1, Dismissed: 1},
			"new":  {Made: 1},
		}
		if len(recs) != len(want) {
			t.Errorf("ReporterRecords: got %d records, want %d (unknown ids absent)", len(recs), len(want))
		}
		for id, w := range want {
			g := recs[id]
			if g.Made != w.Made || g.Upheld != w.Upheld || g.Dismissed != w.Dismissed || g.Joined.IsZero() {
				t.Errorf("record of %s: got %+v, want %+v and a join time", id, g, w)
			}
		}
		if w := recs["good"].Weight(); w != 2.0/3 {
			t.Errorf("weight of one upheld report: got %v, want 2/3", w)
		}
		if w := recs["new"].Weight(); w != 0.5 {
			t.Errorf("weight without decided reports: got %v, want 0.5", w)
		}

		since := time.Now().Add(-time.Hour)
		for _, tc := range []struct {
			name string
			q    store.ReportQuery
			want []string // reporters, oldest first
		}{
			{"against an author", store.ReportQuery{AuthorID: "troll", Since: since}, []string{"good", "bad", "bad", "new"}},
			{"against a page", store.ReportQuery{PageID: second.ID, Since: since}, []string{"bad", "new"}},
			{"none since", store.ReportQuery{AuthorID: "troll", Since: time.Now().Add(time.Hour)}, nil},
		} {
			rs, err := f.s.ReportsAgainst(f.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.ReporterID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		_, err = f.s.ReportsAgainst(f.ctx, store.ReportQuery{AuthorID: "troll", PageID: second.ID})
		wantCode(t, err, parley.EInvalid, "ReportsAgainst an author and a page")
	}},
	{"records of many readers in one call", func(t *testing.T, f *fixture) {
		// Readers with and without reports, one whose id needs quoting,
		// and reports by an id that is no user's.
		joined := map[string]time.Time{}
		for i, id := range []string{"r1", "r2", "quiet", `it's "quoted"`} {
			u := &parley.User{ID: id, Name: id, Role: parley.RoleReader, Created: ms(2026, 10, 1+i, 8, 0, 0, 125)}
			if err := f.s.CreateUser(f.ctx, u); err != nil {
				t.Fatalf("CreateUser(%q): %v", id, err)
			}
			joined[id] = u.Created
		}
		var cs []*parley.Comment
		for range 4 {
			cs = append(cs, f.add(spec{author: "author"}))
		}
		for _, c := range cs {
			f.report(c, "r1", "abuse")
			f.report(c, "anon", "spam")
		}
		f.report(cs[0], "r2", "abuse")
		f.report(cs[1], `it's "quoted"`, "abuse")
		f.setStatus(cs[0], parley.StatusRejected, true) // upheld
		f.setStatus(cs[1], parley.StatusRejected, true) // upheld
		f.setStatus(cs[2], parley.StatusApproved, true) // dismissed

		ask := []string{"r1", "ghost", "quiet", "r1", "anon", `it's "quoted"`, "", "r2", "R1", "quiet"}
		for i := range 500 {
			ask = append(ask, fmt.Sprintf("nobody-%d", i))
		}
		got, err := f.s.ReporterRecords(f.ctx, ask)
		if err != nil {
			t.Fatalf("ReporterRecords: %v", err)
		}
		want := map[string]store.ReporterRecord{
			"r1":            {Made: 4, Upheld: 2, Dismissed: 1},
			"r2":            {Made: 1, Upheld: 1},
			"quiet":         {},
			`it's "quoted"`: {Made: 1, Upheld: 1},
		}
		for id := range want {
			w := want[id]
			w.Joined = joined[id]
			want[id] = w
		}
		if len(got) != len(want) {
			t.Errorf("ReporterRecords: got %d records %v, want %d (unknown ids absent)", len(got), got, len(want))
		}
		for id, w := range want {
			g, ok := got[id]
			if !ok {
				t.Errorf("no record of %q", id)
				continue
			}
			if g.Made != w.Made || g.Upheld != w.Upheld || g.Dismissed != w.Dismissed {
				t.Errorf("record of %q: got %+v, want %+v", id, g, w)
			}
			wantTime(t, "Joined of "+id, g.Joined, w.Joined)
		}
		// Asked one at a time, each reader has the same record.
		for id, w := range got {
			one, err := f.s.ReporterRecords(f.ctx, []string{id})
			o := one[id]
			if err != nil || len(one) != 1 || o.Made != w.Made || o.Upheld != w.Upheld || o.Dismissed != w.Dismissed || !o.Joined.Equal(w.Joined) {
				t.Errorf("ReporterRecords(%q): got %v, %v; want %+v as in the call of many", id, one, err, w)
			}
		}
		for _, ids := range [][]string{nil, {}, {"ghost", "anon"}} {
			if got, err := f.s.ReporterRecords(f.ctx, ids); err != nil || got == nil || len(got) != 0 {
				t.Errorf("ReporterRecords(%q): got %v, %v; want an empty map and no error", ids, got, err)
			}
		}
	}},
}

var priorityTests = []test{
	{"weighted reports, then toxicity, then age", func(t *testing.T, f *fixture) {
		for _, id := range []string{"trusted", "dismissed1", "dismissed2", "n1", "n2"} {
			f.user(id, "", "")
		}
		base := ms(2026, 11, 1, 0, 0, 0, 0)
		mk := func(h int, tox float64) *parley.Comment {
			c := f.build(spec{status: parley.StatusPending, created: base.Add(time.Duration(h) * time.Hour)})
			c.Toxicity = tox
			if err := f.s.CreateComment(f.ctx, c); err != nil {
				t.Fatalf("CreateComment: %v", err)
			}
			return c
		}
		// Give "trusted" two upheld reports and the "dismissed" readers two dismissed ones each.
		for range 2 {
			x := f.add(spec{})
			f.report(x, "trusted", "abuse")
			f.report(x, "n2", "abuse") // n2 gets upheld reports too; it reports nothing open
			f.setStatus(x, parley.StatusRejected, true)
			y := f.add(spec{})
			f.report(y, "dismissed1", "spam")
			f.report(y, "dismissed2", "spam")
			f.setStatus(y, parley.StatusApproved, true)
		}
		old := mk(1, 0)
		toxic := mk(2, 0.9)
		two := mk(3, 0) // two readers whose reports were dismissed: 2 × 1/4
		one := mk(4, 0) // one trusted reader: 3/4
		newer := mk(5, 0)
		f.report(two, "dismissed1", "abuse")
		f.report(two, "dismissed2", "abuse")
		f.report(one, "trusted", "abuse")

		items, err := f.s.Queue(f.ctx, store.QueueQuery{Queue: store.QueuePending, SiteID: f.site.ID})
		if err != nil {
			t.Fatalf("Queue: %v", err)
		}
		var got []int64
		weights := map[int64]float64{}
		for _, it := range items {
			got = append(got, it.Comment.ID)
			weights[it.Comment.ID] = it.ReportWeight
		}
		want := ids([]*parley.Comment{one, two, toxic, old, newer})
		if !slices.Equal(got, want) {
			t.Errorf("pending by priority: got %v, want %v", got, want)
		}
		if w := weights[one.ID]; w < 0.749 || w > 0.751 {
			t.Errorf("weight of one trusted report: got %v, want 0.75", w)
		}
		if w := weights[two.ID]; w < 0.499 || w > 0.501 {
			t.Errorf("weight of two dismissed readers' reports: got %v, want 0.5", w)
		}
		counts, err := f.s.QueueCounts(f.ctx, f.site.ID)
		if err != nil {
			t.Fatalf("QueueCounts: %v", err)
		}
		wantCounts := map[string]int{store.QueuePending: 5, store.QueueReported: 2, store.QueueUnseen: 0, store.QueueRejected: 2, store.QueueApproved: 2}
		for q, n := range wantCounts {
			if counts[q] != n {
				t.Errorf("QueueCounts[%s]: got %d, want %d (all: %v)", q, counts[q], n, counts)
			}
		}
		if all, _ := f.s.QueueCounts(f.ctx, ""); all[store.QueuePending] != 5 {
			t.Errorf("QueueCounts of every site: got %v", all)
		}
	}},
}

var readerSessionTests = []test{
	{"revoke, read, prune", func(t *testing.T, f *fixture) {
		f.user("r", "", "")
		at := ms(2026, 11, 20, 8, 0, 0, 5)
		revoked := func(h string) (bool, error) {
			_, ended, err := f.s.SessionUser(f.ctx, "r", h)
			return ended, err
		}
		if got, err := revoked("h1"); err != nil || got {
			t.Fatalf("revoked before: got %v, %v; want false", got, err)
		}
		if err := f.s.RevokeReaderSession(f.ctx, "h1", "r", at); err != nil {
			t.Fatalf("RevokeReaderSession: %v", err)
		}
		if err := f.s.RevokeReaderSession(f.ctx, "h1", "r", at); err != nil {
			t.Fatalf("RevokeReaderSession again: %v", err)
		}
		f.s.RevokeReaderSession(f.ctx, "h2", "r", at.Add(time.Hour))
		for _, h := range []string{"h1", "h2"} {
			if got, err := revoked(h); err != nil || !got {
				t.Fatalf("revoked(%s): got %v, %v; want true", h, got, err)
			}
		}
		if got, _ := revoked("h3"); got {
			t.Fatal("an unknown session is revoked")
		}
		wantCode(t, f.s.RevokeReaderSession(f.ctx, "h9", "ghost", at), parley.ENotFound, "RevokeReaderSession of an unknown user")
		if n, err := f.s.PruneReaderSessions(f.ctx, at.Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("PruneReaderSessions: got %d, %v; want 1", n, err)
		}
		if got, _ := revoked("h1"); got {
			t.Error("a pruned revocation is still there")
		}
		if got, _ := revoked("h2"); !got {
			t.Error("prune took an unexpired revocation")
		}
	}},
	{"session user: the user and the session's end in one read", func(t *testing.T, f *fixture) {
		f.user("r", "", "")
		at := ms(2026, 11, 20, 8, 0, 0, 5)
		u, revoked, err := f.s.SessionUser(f.ctx, "r", "h1")
		if err != nil || revoked || u == nil || u.ID != "r" {
			t.Fatalf("SessionUser of a live session: got %+v, %v, %v", u, revoked, err)
		}
		if want, _ := f.s.User(f.ctx, "r"); !reflect.DeepEqual(u, want) {
			t.Errorf("SessionUser's user %+v, User's %+v", u, want)
		}
		if err := f.s.RevokeReaderSession(f.ctx, "h1", "r", at); err != nil {
			t.Fatal(err)
		}
		if u, revoked, err := f.s.SessionUser(f.ctx, "r", "h1"); err != nil || !revoked || u == nil {
			t.Errorf("SessionUser of an ended session: got %+v, %v, %v; want the user, revoked", u, revoked, err)
		}
		if _, revoked, _ := f.s.SessionUser(f.ctx, "r", "h2"); revoked {
			t.Error("another session of the reader counts as ended")
		}
		_, _, err = f.s.SessionUser(f.ctx, "ghost", "h1")
		wantCode(t, err, parley.ENotFound, "SessionUser of an unknown user")
	}},
}
