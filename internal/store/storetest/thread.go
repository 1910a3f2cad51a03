package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// view is how one comment appears in a thread, for comparisons.
type view struct {
	id      int64
	status  string
	author  string
	text    bool // the text is shown
	replies int
}

func (f *fixture) thread(q store.ThreadQuery) *store.Thread {
	f.t.Helper()
	q.PageID = f.page.ID
	th, err := store.LoadThread(f.ctx, f.s, q)
	if err != nil {
		f.t.Fatalf("LoadThread(%+v): %v", q, err)
	}
	return th
}

func views(cs []*parley.Comment) []view {
	out := make([]view, len(cs))
	for i, c := range cs {
		out[i] = view{id: c.ID, status: c.Status, author: c.AuthorID, text: c.Text != "" || c.HTML != "", replies: c.Replies}
	}
	return out
}

var threadTests = []test{
	{"visibility", func(t *testing.T, f *fixture) {
		// a (approved)
		//   b (pending, bob)
		//   c (rejected)
		// d (rejected) with visible reply e: placeholder
		//   e (approved)
		// g (deleted) with no visible reply: hidden
		//   h (pending, bob): visible to bob only
		// i (deleted) → j (rejected) → k (approved): placeholder chain
		a := f.add(spec{})
		b := f.add(spec{parent: a, author: "bob", status: parley.StatusPending})
		c := f.add(spec{parent: a, author: "carol", status: parley.StatusRejected})
		d := f.add(spec{author: "dave"})
		e := f.add(spec{parent: d})
		f.setStatus(d, parley.StatusRejected, true)
		g := f.add(spec{author: "gina"})
		h := f.add(spec{parent: g, author: "bob", status: parley.StatusPending})
		f.setStatus(g, parley.StatusDeleted, false)
		i := f.add(spec{author: "ivan"})
		j := f.add(spec{parent: i, author: "jane"})
		k := f.add(spec{parent: j})
		f.setStatus(i, parley.StatusDeleted, false)
		f.setStatus(j, parley.StatusRejected, true)
		_ = c

		placeholder := func(c *parley.Comment, replies int) view {
			return view{id: c.ID, status: parley.StatusDeleted, replies: replies}
		}
		shown := func(c *parley.Comment, replies int) view {
			return view{id: c.ID, status: c.Status, author: c.AuthorID, text: true, replies: replies}
		}
		for _, tc := range []struct {
			viewer string
			want   []view
		}{
			{"", []view{
				shown(a, 0),
				placeholder(d, 1), shown(e, 0),
				placeholder(i, 1), placeholder(j, 1), shown(k, 0),
			}},
			{"bob", []view{
				shown(a, 1), shown(b, 0),
				placeholder(d, 1), shown(e, 0),
				placeholder(g, 1), shown(h, 0),
				placeholder(i, 1), placeholder(j, 1), shown(k, 0),
			}},
			{"carol", []view{ // her own rejected comment stays hidden
				shown(a, 0),
				placeholder(d, 1), shown(e, 0),
				placeholder(i, 1), placeholder(j, 1), shown(k, 0),
			}},
		} {
			got := views(f.thread(store.ThreadQuery{Viewer: tc.viewer}).Comments)
			if !slices.Equal(got, tc.want) {
				t.Errorf("viewer %q:\n got %+v\nwant %+v", tc.viewer, got, tc.want)
			}
		}
		// A placeholder reveals nothing of the hidden comment.
		for _, c := range f.thread(store.ThreadQuery{}).Comments {
			if c.Status == parley.StatusDeleted && (c.AuthorName != "" || c.AuthorID != "" || c.Text != "" || c.HTML != "" || len(c.Reasons) != 0) {
				t.Errorf("placeholder %d shows %+v", c.ID, c)
			}
		}
	}},
	{"sorting", func(t *testing.T, f *fixture) {
		a := f.add(spec{})
		b := f.add(spec{})
		ra := f.add(spec{parent: a})
		c := f.add(spec{})
		rb := f.add(spec{parent: b})
		ra2 := f.add(spec{parent: a})
		vote := func(c *parley.Comment, n int) {
			for v := range n {
				if _, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: fmt.Sprintf("v%d", v), Value: 1}); err != nil {
					t.Fatalf("Vote: %v", err)
				}
			}
		}
		vote(c, 2)
		vote(b, 2)
		vote(ra2, 3) // replies keep their order whatever their score
		for _, tc := range []struct {
			sort string
			want []*parley.Comment
		}{
			{"", []*parley.Comment{a, ra, ra2, b, rb, c}},
			{store.SortOldest, []*parley.Comment{a, ra, ra2, b, rb, c}},
			{store.SortNewest, []*parley.Comment{c, b, rb, a, ra, ra2}},
			{store.SortTop, []*parley.Comment{b, rb, c, a, ra, ra2}},
		} {
			got := f.thread(store.ThreadQuery{Sort: tc.sort}).Comments
			if !slices.Equal(ids(got), ids(tc.want)) {
				t.Errorf("sort %q: got %v, want %v", tc.sort, ids(got), ids(tc.want))
			}
		}
	}},
	{"sorting by time after an import", func(t *testing.T, f *fixture) {
		// Today's comments are #1 and #2; an import then brings a
		// conversation from 2019 as #3 to #5, and a reply to today's #1
		// written after it arrives as #6.
		today := f.add(spec{created: ms(2026, 12, 7, 9, 0, 0, 0)})
		later := f.add(spec{created: ms(2026, 12, 7, 10, 0, 0, 0)})
		b := &store.ImportBatch{SiteID: f.site.ID, Users: []*parley.User{{ID: "imp-ann", Name: "Ann", Role: parley.RoleReader}},
			Comments: []*store.ImportedComment{
				f.imported("s1", "", "", f.page, "imp-ann", parley.StatusApproved, 1),
				f.imported("s2", "", "", f.page, "imp-ann", parley.StatusApproved, 3),
				f.imported("s3", "s1", "", f.page, "imp-ann", parley.StatusApproved, 2),
			}}
		if _, err := f.s.Import(f.ctx, b); err != nil {
			t.Fatalf("Import: %v", err)
		}
		old1, old2, oldReply := b.Comments[0].Comment, b.Comments[1].Comment, b.Comments[2].Comment
		reply := f.add(spec{parent: today, created: ms(2026, 12, 7, 11, 0, 0, 0)})
		// Numbers stay as assigned: in the order comments came in.
		for want, c := range []*parley.Comment{today, later, old1, old2, oldReply, reply} {
			if got := f.comment(c.ID).Number; got != want+1 {
				t.Errorf("comment %d is numbered #%d, want #%d", c.ID, got, want+1)
			}
		}
		for _, tc := range []struct {
			sort string
			want []*parley.Comment
		}{
			{store.SortOldest, []*parley.Comment{old1, oldReply, old2, today, reply, later}},
			{store.SortNewest, []*parley.Comment{later, today, reply, old2, old1, oldReply}},
			{store.SortTop, []*parley.Comment{old1, oldReply, old2, today, reply, later}}, // no votes: oldest first
		} {
			got := f.thread(store.ThreadQuery{Sort: tc.sort}).Comments
			if !slices.Equal(ids(got), ids(tc.want)) {
				t.Errorf("sort %q: got %v, want %v", tc.sort, ids(got), ids(tc.want))
			}
			// Paging one top-level comment at a time gives the same order.
			var paged []*parley.Comment
			cursor := ""
			for range 10 {
				th := f.thread(store.ThreadQuery{Sort: tc.sort, Limit: 1, Cursor: cursor})
				paged = append(paged, th.Comments...)
				if cursor = th.Cursor; cursor == "" {
					break
				}
			}
			if !slices.Equal(ids(paged), ids(tc.want)) {
				t.Errorf("sort %q paged one at a time: got %v, want %v", tc.sort, ids(paged), ids(tc.want))
			}
		}
		// A cursor of the older form (number only) continues after that
		// comment where it stands in time.
		th := f.thread(store.ThreadQuery{Sort: store.SortNewest, Cursor: fmt.Sprintf("n%d", f.comment(today.ID).Number)})
		if want := []*parley.Comment{old2, old1, oldReply}; !slices.Equal(ids(th.Comments), ids(want)) {
			t.Errorf("older cursor n1: got %v, want %v", ids(th.Comments), ids(want))
		}
	}},
	{"replies counts", func(t *testing.T, f *fixture) {
		a := f.add(spec{})
		for _, st := range []string{parley.StatusApproved, parley.StatusApproved, parley.StatusPending, parley.StatusRejected} {
			f.add(spec{parent: a, status: st, author: "bob"})
		}
		r := f.add(spec{parent: a})
		f.add(spec{parent: r})
		got := f.thread(store.ThreadQuery{}).Comments
		if got[0].ID != a.ID || got[0].Replies != 3 {
			t.Errorf("anonymous: got %d replies on %d, want 3", got[0].Replies, got[0].ID)
		}
		got = f.thread(store.ThreadQuery{Viewer: "bob"}).Comments
		if got[0].Replies != 4 {
			t.Errorf("bob: got %d replies, want 4 with his pending one", got[0].Replies)
		}
	}},
	{"pagination stability", func(t *testing.T, f *fixture) {
		testPagination(t, f)
	}},
	{"bad cursor", func(t *testing.T, f *fixture) {
		for range 3 {
			f.add(spec{})
		}
		th := f.thread(store.ThreadQuery{Limit: 1, Sort: store.SortNewest})
		if th.Cursor == "" {
			t.Fatal("no cursor after the first of three")
		}
		for _, tc := range []struct{ name, sort, cursor string }{
			{"cursor of another sort", store.SortTop, th.Cursor},
			{"garbage", store.SortOldest, "o-x"},
		} {
			_, err := store.LoadThread(f.ctx, f.s, store.ThreadQuery{PageID: f.page.ID, Sort: tc.sort, Cursor: tc.cursor})
			wantCode(t, err, parley.EInvalid, tc.name)
		}
	}},
}

// testPagination pages through a thread in every sort order with several
// page sizes while another goroutine keeps adding comments and replies, and
// checks that every comment present at the start appears exactly once and
// that no comment is ever repeated.
func testPagination(t *testing.T, f *fixture) {
	var tops []*parley.Comment
	for i := range 30 {
		c := f.add(spec{})
		tops = append(tops, c)
		if i%3 == 0 {
			f.add(spec{parent: c})
		}
		if i%4 == 0 {
			for v := range i % 5 {
				if _, err := f.s.Vote(f.ctx, parley.Vote{CommentID: c.ID, UserID: fmt.Sprintf("v%d", v), Value: 1}); err != nil {
					t.Fatalf("Vote: %v", err)
				}
			}
		}
	}
	start := f.thread(store.ThreadQuery{Limit: store.MaxLimit})
	if len(start.Comments) != 40 || start.Cursor != "" {
		t.Fatalf("whole thread: got %d comments and cursor %q, want 40 and none", len(start.Comments), start.Cursor)
	}

	// The writer adds up to 120 comments, top-level ones and replies to
	// earlier ones, while the reader pages. It is bounded so that paging
	// one comment at a time in the oldest-first order, where new comments
	// land behind the cursor, comes to an end.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added atomic.Int64
	wg.Add(1)
	defer func() {
		close(stop)
		wg.Wait()
	}()
	go func() {
		defer wg.Done()
		for i := range 120 {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			c := f.build(spec{author: "writer", text: fmt.Sprintf("meanwhile %d", i)})
			if i%2 == 1 {
				c.ParentID = tops[i%len(tops)].ID
			}
			if err := f.s.CreateComment(f.ctx, c); err != nil {
				t.Errorf("CreateComment during paging: %v", err)
				return
			}
			added.Add(1)
		}
	}()

	for _, sort := range []string{store.SortOldest, store.SortNewest, store.SortTop} {
		for _, limit := range []int{1, 3, 7, 50} {
			got := map[int64]int{}
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 500 {
					t.Fatalf("sort %s limit %d: more than 500 pages", sort, limit)
				}
				th := f.thread(store.ThreadQuery{Sort: sort, Limit: limit, Cursor: cursor})
				tops := 0
				for _, c := range th.Comments {
					got[c.ID]++
					if c.ParentID == 0 {
						tops++
					}
				}
				if tops > limit {
					t.Errorf("sort %s limit %d: a page has %d top-level comments", sort, limit, tops)
				}
				if th.Cursor == "" {
					break
				}
				cursor = th.Cursor
			}
			for id, n := range got {
				if n > 1 {
					t.Errorf("sort %s limit %d: comment %d seen %d times", sort, limit, id, n)
				}
			}
			for _, c := range start.Comments {
				if got[c.ID] != 1 {
					t.Errorf("sort %s limit %d: comment %d (#%d) seen %d times, want once", sort, limit, c.ID, c.Number, got[c.ID])
				}
			}
		}
	}
	if added.Load() == 0 {
		t.Log("the writer added no comment while paging; the run proved less than it could")
	}
}
