package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// siteView is what a Reader returns about the fixture's site: its pages'
// urls, each page's comments ("id status", by number), each comment's
// reporters, and which of the users asked for exist.
type siteView struct {
	Pages     []string
	Comments  map[string][]string
	Reporters map[int64][]string
	Users     []string
}

// String prints the view; fmt sorts map keys, so equal views print alike.
func (v siteView) String() string {
	return fmt.Sprintf("pages %q comments %q reporters %v users %q", v.Pages, v.Comments, v.Reporters, v.Users)
}

// view reads the site through r, failing the test on error.
func (f *fixture) view(t *testing.T, r store.Reader, users []string) siteView {
	t.Helper()
	list, err := r.Pages(f.ctx, store.PageQuery{SiteID: f.site.ID, Limit: 1000})
	if err != nil {
		t.Fatalf("Pages: %v", err)
	}
	v := siteView{Comments: map[string][]string{}, Reporters: map[int64][]string{}}
	for _, pa := range list {
		p := pa.Page
		v.Pages = append(v.Pages, p.URL)
		cs, err := r.PageComments(f.ctx, p.ID)
		if err != nil {
			t.Fatalf("PageComments(%s): %v", p.URL, err)
		}
		for _, c := range cs {
			v.Comments[p.URL] = append(v.Comments[p.URL], fmt.Sprintf("%d %s", c.ID, c.Status))
		}
		reports, err := r.PageReports(f.ctx, p.ID)
		if err != nil {
			t.Fatalf("PageReports(%s): %v", p.URL, err)
		}
		for id, rs := range reports {
			for _, rep := range rs {
				v.Reporters[id] = append(v.Reporters[id], rep.ReporterID)
			}
		}
	}
	slices.Sort(v.Pages)
	us, err := r.Users(f.ctx, users)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	for id := range us {
		v.Users = append(v.Users, id)
	}
	slices.Sort(v.Users)
	return v
}

var snapshotTests = []test{
	{"reads one moment", func(t *testing.T, f *fixture) {
		f.user("alice", "", "")
		f.user("bob", "", "")
		a := f.add(spec{})
		b := f.add(spec{author: "bob", status: parley.StatusPending})
		f.report(a, "bob", "abuse")
		ask := []string{"alice", "bob", "carol"}
		before := f.view(t, f.s, ask)

		var first, second siteView
		err := f.s.Snapshot(f.ctx, func(r store.Reader) error {
			// Committed after the snapshot was taken, before its first read.
			f.user("carol", "", "")
			f.add(spec{author: "carol"})
			f.setStatus(b, parley.StatusRejected, true)
			f.report(a, "dave", "spam")
			later := f.newPage(f.site.ID, "https://news.example.com/2026/later", "Later")
			f.add(spec{page: later, author: "carol"})
			first = f.view(t, r, ask)
			// And between two reads.
			f.add(spec{author: "carol"})
			second = f.view(t, r, ask)
			return nil
		})
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		if first.String() != before.String() {
			t.Errorf("first read in the snapshot:\ngot  %v\nwant %v (the store before it)", first, before)
		}
		if second.String() != before.String() {
			t.Errorf("second read in the snapshot:\ngot  %v\nwant %v (the store before it)", second, before)
		}
		// The writes were not lost: the store sees them once the snapshot is over.
		after := f.view(t, f.s, ask)
		if len(after.Pages) != 2 || len(after.Comments[f.page.URL]) != 4 || !slices.Equal(after.Users, ask) ||
			!slices.Equal(after.Reporters[a.ID], []string{"bob", "dave"}) ||
			after.Comments[f.page.URL][1] != fmt.Sprintf("%d %s", b.ID, parley.StatusRejected) {
			t.Errorf("the store after the snapshot: got %v, want the writes made during it", after)
		}
	}},
	{"reads as the store does", func(t *testing.T, f *fixture) {
		f.user("alice", "", "")
		a := f.add(spec{})
		f.add(spec{parent: a, status: parley.StatusPending})
		f.report(a, "bob", "abuse")
		f.newPage(f.site.ID, "https://news.example.com/2026/empty", "Empty")
		ask := []string{"alice", "bob"}
		want := f.view(t, f.s, ask)
		err := f.s.Snapshot(f.ctx, func(r store.Reader) error {
			if got := f.view(t, r, ask); got.String() != want.String() {
				t.Errorf("in the snapshot: got %v, want %v", got, want)
			}
			// Comments are what Store.PageComments returns, field by field.
			got, err := r.PageComments(f.ctx, f.page.ID)
			if err != nil {
				return err
			}
			cs, err := f.s.PageComments(f.ctx, f.page.ID)
			if err != nil {
				return err
			}
			if len(got) != len(cs) {
				t.Fatalf("PageComments: got %d comments, want %d", len(got), len(cs))
			}
			for i := range got {
				if d := diffComment(got[i], cs[i]); len(d) > 0 {
					t.Errorf("comment %d in the snapshot: %v", cs[i].ID, d)
				}
			}
			// Not found is not found.
			_, err = r.PageComments(f.ctx, f.page.ID+1000)
			wantCode(t, err, parley.ENotFound, "PageComments of no page in a snapshot")
			if rs, err := r.PageReports(f.ctx, f.page.ID+1000); err != nil || len(rs) != 0 {
				t.Errorf("PageReports of no page in a snapshot: got %v, %v; want an empty map", rs, err)
			}
			if us, err := r.Users(f.ctx, nil); err != nil || us == nil || len(us) != 0 {
				t.Errorf("Users of no ids in a snapshot: got %v, %v; want an empty map", us, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
	}},
	{"gives back its connection", func(t *testing.T, f *fixture) {
		// More snapshots than any pool has connections, half of them
		// failing: each one's connection must come back, or a later
		// one would wait for it forever.
		stop := errors.New("stop here")
		for i := range 40 {
			err := f.s.Snapshot(f.ctx, func(r store.Reader) error {
				if _, err := r.PageComments(f.ctx, f.page.ID); err != nil {
					return err
				}
				if i%2 == 0 {
					return stop
				}
				return nil
			})
			if i%2 == 0 && err != stop {
				t.Fatalf("Snapshot %d: got %v, want the error fn returned, as it is", i, err)
			} else if i%2 == 1 && err != nil {
				t.Fatalf("Snapshot %d: %v", i, err)
			}
		}
		c := f.add(spec{})
		if got := f.comment(c.ID); got.ID != c.ID {
			t.Errorf("Comment after the snapshots: got %d, want %d", got.ID, c.ID)
		}
	}},
}
