package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// evs returns the events typ… of comment c on page p of the fixture's site.
func (f *fixture) evs(p *parley.Page, c *parley.Comment, types ...string) []parley.Event {
	out := make([]parley.Event, len(types))
	for i, typ := range types {
		out[i] = parley.Event{Type: typ, SiteID: p.SiteID, PageID: p.ID, CommentID: c.ID}
	}
	return out
}

// withoutIDs returns evs with their ids zeroed, for comparisons.
func withoutIDs(evs []parley.Event) []parley.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].ID = 0
	}
	return out
}

var eventTests = []test{
	{"a log without comments", func(t *testing.T, f *fixture) {
		// The fixture's site raises site.updated as it is created, so that
		// running instances allow its origins; its page raises no event.
		evs := f.eventsAfter(0)
		want := []parley.Event{{Type: parley.EventSiteUpdated, SiteID: f.site.ID}}
		if got := withoutIDs(evs); !slices.Equal(got, want) {
			t.Fatalf("EventsSince(0): got %+v, want %+v", got, want)
		}
		if id := f.lastEvent(); id != evs[0].ID || id <= 0 {
			t.Errorf("LastEventID of a store without comments: got %d, want %d, the site's event", id, evs[0].ID)
		}
	}},
	{"status changes", func(t *testing.T, f *fixture) {
		statuses := []string{parley.StatusApproved, parley.StatusPending, parley.StatusRejected, parley.StatusDeleted}
		for _, from := range statuses {
			last := f.lastEvent()
			c := f.add(spec{status: from})
			want := parley.StatusEvents(f.site.ID, f.page.ID, c.ID, "", from)
			if got := withoutIDs(f.eventsAfter(last)); !slices.Equal(got, want) {
				t.Errorf("create %s: got %+v, want %+v", from, got, want)
			}
			for _, to := range statuses {
				if to == from {
					continue
				}
				last := f.lastEvent()
				f.setStatus(c, to, false)
				want := parley.StatusEvents(f.site.ID, f.page.ID, c.ID, from, to)
				if got := withoutIDs(f.eventsAfter(last)); !slices.Equal(got, want) {
					t.Errorf("%s to %s: got %+v, want %+v", from, to, got, want)
				}
				f.setStatus(c, from, false)
			}
		}
	}},
	{"updates", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		for _, tc := range []struct {
			name string
			do   func() error
			want []parley.Event
		}{
			{"edit", func() error { return f.s.EditComment(f.ctx, c.ID, "new", "<p>new</p>", time.Now()) },
				f.evs(f.page, c, parley.EventCommentUpdated)},
			{"vote", func() error {
				_, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: "bob", Value: 1})
				return err
			}, f.evs(f.page, c, parley.EventCommentUpdated)},
			{"same vote again", func() error {
				_, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: "bob", Value: 1})
				return err
			}, nil},
			{"vote withdrawn", func() error {
				_, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: "bob", Value: 0})
				return err
			}, f.evs(f.page, c, parley.EventCommentUpdated)},
			{"featured", func() error { return f.s.SetFeatured(f.ctx, c.ID, true) },
				f.evs(f.page, c, parley.EventCommentUpdated)},
			{"report", func() error {
				_, err := f.s.AddReport(f.ctx, &parley.Report{CommentID: c.ID, ReporterID: "bob", Reason: "spam"})
				return err
			}, f.evs(f.page, c, parley.EventQueueChanged)},
			{"repeated report", func() error {
				_, err := f.s.AddReport(f.ctx, &parley.Report{CommentID: c.ID, ReporterID: "bob", Reason: "spam"})
				return err
			}, nil},
		} {
			last := f.lastEvent()
			if err := tc.do(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := withoutIDs(f.eventsAfter(last)); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
			}
		}
	}},
	{"a decision that keeps the status", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		f.report(c, "bob", "spam")
		for _, tc := range []struct {
			name string
			seen bool
			want []parley.Event
		}{
			{"by a rule", false, nil},
			{"a moderator approves: reports dismissed", true, f.evs(f.page, c, parley.EventQueueChanged)},
			{"approved again", true, nil},
		} {
			last := f.lastEvent()
			f.setStatus(c, parley.StatusApproved, tc.seen)
			if got := withoutIDs(f.eventsAfter(last)); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
			}
		}
	}},
	{"a failed write records nothing", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		last := f.lastEvent()
		bad := f.build(spec{})
		bad.ParentID = c.ID + 1000
		wantCode(t, f.s.CreateComment(f.ctx, bad), parley.EInvalid, "CreateComment with a missing parent")
		if evs := f.eventsAfter(last); len(evs) != 0 {
			t.Errorf("after a failed write: got %+v, want no event", evs)
		}
	}},
	{"order, limit and resumption", func(t *testing.T, f *fixture) {
		first := f.lastEvent()
		var cs []*parley.Comment
		for range 7 {
			cs = append(cs, f.add(spec{})) // two events each
		}
		all := f.eventsAfter(first)
		if len(all) != 14 {
			t.Fatalf("got %d events, want 14", len(all))
		}
		for i, e := range all {
			if i > 0 && e.ID <= all[i-1].ID {
				t.Errorf("event %d: id %d after %d, want increasing", i, e.ID, all[i-1].ID)
			}
			if e.CommentID != cs[i/2].ID {
				t.Errorf("event %d: comment %d, want %d in creation order", i, e.CommentID, cs[i/2].ID)
			}
		}
		if last := f.lastEvent(); last != all[len(all)-1].ID {
			t.Errorf("LastEventID: got %d, want %d", last, all[len(all)-1].ID)
		}
		// Reading in pages of 3 from any point gives the same sequence.
		var paged []parley.Event
		after := first
		for {
			evs, err := f.s.EventsSince(f.ctx, after, 3)
			if err != nil {
				t.Fatalf("EventsSince: %v", err)
			}
			if len(evs) > 3 {
				t.Fatalf("EventsSince(limit 3): got %d events", len(evs))
			}
			if len(evs) == 0 {
				break
			}
			paged = append(paged, evs...)
			after = evs[len(evs)-1].ID
		}
		if !slices.Equal(paged, all) {
			t.Errorf("paged events: got %+v, want %+v", paged, all)
		}
		if evs := f.eventsAfter(f.lastEvent()); len(evs) != 0 {
			t.Errorf("EventsSince(LastEventID): got %+v, want none", evs)
		}
	}},
}
