package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

var commentTests = []test{
	{"create and read back", func(t *testing.T, f *fixture) {
		want := &parley.Comment{
			PageID: f.page.ID, AuthorID: "alice", AuthorName: "Alice", IPHash: "9f86d081",
			Featured: true, Seen: true, Text: "**Hello**", HTML: "<p><strong>Hello</strong></p>",
			Status: parley.StatusPending, Toxicity: 0.8125,
			Reasons: []parley.Reason{
				{Rule: "banned_word", Message: `banned word "idiot"`, Spans: []parley.Span{{Start: 2, End: 7}, {Start: 10, End: 12}}},
				{Rule: "first_post", Message: "first comment of a new reader"},
			},
			Created: ms(2026, 11, 21, 6, 0, 0, 1),
			Edited:  ms(2026, 11, 21, 6, 5, 0, 2),
		}
		c := *want
		if err := f.s.CreateComment(f.ctx, &c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
		if c.ID == 0 || c.Number != 1 || c.RootID != c.ID {
			t.Errorf("assigned: got id %d number %d root %d, want an id, number 1 and itself as root", c.ID, c.Number, c.RootID)
		}
		want.ID, want.Number, want.RootID = c.ID, 1, c.ID
		got := f.comment(c.ID)
		for _, d := range diffComment(got, want) {
			t.Error(d)
		}
		wantTime(t, "Created", got.Created, want.Created)
		wantTime(t, "Edited", got.Edited, want.Edited)
	}},
	{"created is set when zero", func(t *testing.T, f *fixture) {
		before := time.Now()
		c := f.add(spec{})
		after := time.Now()
		wantNear(t, "assigned Created", c.Created, before, after)
		got := f.comment(c.ID)
		wantNear(t, "stored Created", got.Created, before, after)
		if !got.Edited.IsZero() {
			t.Errorf("Edited: got %v, want zero", got.Edited)
		}
	}},
	{"unicode round-trips byte for byte", func(t *testing.T, f *fixture) {
		texts := []string{
			"emoji 👍🏽 and a family 👨‍👩‍👧‍👦",
			"RTL: مرحبا بالعالم ‏and שלום",
			"combining: e\u0301 vs é, Å vs A\u030a",
			"CJK 漢字かなカナ한국어, astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
			"control and spaces: tab\there\r\nCRLF, nbsp\u00a0, zero-width\u200bjoin, BOM\ufeff",
			"quotes ' \" ` and SQL '); DROP TABLE comments; --",
		}
		for _, text := range texts {
			c := f.add(spec{text: text, author: "zoë-🦊"})
			got := f.comment(c.ID)
			if got.Text != text || got.HTML != "<p>"+text+"</p>" || got.AuthorID != "zoë-🦊" {
				t.Errorf("got text %q html %q author %q, want %q", got.Text, got.HTML, got.AuthorID, text)
			}
		}
	}},
	{"replies get their root", func(t *testing.T, f *fixture) {
		top := f.add(spec{})
		reply := f.add(spec{parent: top})
		deep := f.add(spec{parent: reply})
		for _, tc := range []struct {
			name         string
			c            *parley.Comment
			parent, root int64
		}{
			{"top", top, 0, top.ID},
			{"reply", reply, top.ID, top.ID},
			{"reply to a reply", deep, reply.ID, top.ID},
		} {
			got := f.comment(tc.c.ID)
			if tc.c.RootID != tc.root || got.RootID != tc.root || got.ParentID != tc.parent {
				t.Errorf("%s: got parent %d root %d (assigned root %d), want parent %d root %d",
					tc.name, got.ParentID, got.RootID, tc.c.RootID, tc.parent, tc.root)
			}
		}
	}},
	{"parent and quote must be on the page", func(t *testing.T, f *fixture) {
		other := f.newPage(f.site.ID, "https://news.example.com/other", "Other")
		elsewhere := f.add(spec{page: other})
		here := f.add(spec{})
		for _, tc := range []struct {
			name          string
			parent, quote int64
			code          string
		}{
			{"parent on another page", elsewhere.ID, 0, parley.EInvalid},
			{"quote on another page", 0, elsewhere.ID, parley.EInvalid},
			{"missing parent", here.ID + 1000, 0, parley.EInvalid},
			{"missing quote", 0, here.ID + 1000, parley.EInvalid},
			{"parent and quote here", here.ID, here.ID, ""},
		} {
			c := f.build(spec{})
			c.ParentID, c.QuoteID = tc.parent, tc.quote
			err := f.s.CreateComment(f.ctx, c)
			wantCode(t, err, tc.code, tc.name)
		}
		c := f.build(spec{})
		c.PageID = other.ID + 1000
		wantCode(t, f.s.CreateComment(f.ctx, c), parley.ENotFound, "CreateComment on a missing page")
		if n := f.pageCount(f.page); n != 2 {
			t.Errorf("count after the failures: got %d, want 2", n)
		}
	}},
	{"quote is kept", func(t *testing.T, f *fixture) {
		quoted := f.add(spec{})
		c := f.build(spec{})
		c.QuoteID = quoted.ID
		if err := f.s.CreateComment(f.ctx, c); err != nil {
			t.Fatalf("CreateComment: %v", err)
		}
		if got := f.comment(c.ID); got.QuoteID != quoted.ID || got.ParentID != 0 {
			t.Errorf("got quote %d parent %d, want quote %d and no parent", got.QuoteID, got.ParentID, quoted.ID)
		}
	}},
	{"not found", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		missing := c.ID + 1000
		_, err := f.s.Comment(f.ctx, missing)
		wantCode(t, err, parley.ENotFound, "Comment")
		wantCode(t, f.s.EditComment(f.ctx, missing, "x", "x", time.Now()), parley.ENotFound, "EditComment")
		_, err = f.s.SetStatus(f.ctx, missing, parley.StatusRejected, nil, true)
		wantCode(t, err, parley.ENotFound, "SetStatus")
		wantCode(t, f.s.SetFeatured(f.ctx, missing, true), parley.ENotFound, "SetFeatured")
	}},
	{"edit", func(t *testing.T, f *fixture) {
		c := f.add(spec{text: "teh typo"})
		at := ms(2026, 11, 21, 7, 0, 0, 500)
		if err := f.s.EditComment(f.ctx, c.ID, "the typo", "<p>the typo</p>", at); err != nil {
			t.Fatalf("EditComment: %v", err)
		}
		got := f.comment(c.ID)
		if got.Text != "the typo" || got.HTML != "<p>the typo</p>" || got.Number != c.Number || got.Status != c.Status {
			t.Errorf("after EditComment: got %+v", got)
		}
		wantTime(t, "Edited", got.Edited, at)
		wantTime(t, "Created", got.Created, c.Created)
	}},
	{"featured", func(t *testing.T, f *fixture) {
		c := f.add(spec{})
		for _, want := range []bool{true, false} {
			if err := f.s.SetFeatured(f.ctx, c.ID, want); err != nil {
				t.Fatalf("SetFeatured(%v): %v", want, err)
			}
			if got := f.comment(c.ID); got.Featured != want {
				t.Errorf("after SetFeatured(%v): got %v", want, got.Featured)
			}
		}
	}},
	{"status with reasons and seen", func(t *testing.T, f *fixture) {
		c := f.add(spec{status: parley.StatusPending})
		reasons := []parley.Reason{{Rule: "toxicity", Message: "toxicity 0.91", Spans: []parley.Span{{Start: 0, End: 4}}}}
		old, err := f.s.SetStatus(f.ctx, c.ID, parley.StatusRejected, reasons, false)
		if err != nil || old != parley.StatusPending {
			t.Fatalf("SetStatus: got old %q, %v; want pending", old, err)
		}
		got := f.comment(c.ID)
		if got.Status != parley.StatusRejected || got.Seen || !equalReasons(got.Reasons, reasons) {
			t.Errorf("after SetStatus(rejected, unseen): got status %s seen %v reasons %+v", got.Status, got.Seen, got.Reasons)
		}
		if _, err := f.s.SetStatus(f.ctx, c.ID, parley.StatusApproved, nil, true); err != nil {
			t.Fatalf("SetStatus: %v", err)
		}
		got = f.comment(c.ID)
		if got.Status != parley.StatusApproved || !got.Seen || len(got.Reasons) != 0 {
			t.Errorf("after SetStatus(approved, seen): got status %s seen %v reasons %+v", got.Status, got.Seen, got.Reasons)
		}
		// Seen, once set, stays set.
		if _, err := f.s.SetStatus(f.ctx, c.ID, parley.StatusDeleted, nil, false); err != nil {
			t.Fatalf("SetStatus: %v", err)
		}
		if got = f.comment(c.ID); !got.Seen {
			t.Errorf("after SetStatus(deleted, false): got seen false, want it kept")
		}
	}},
	{"invalid status", func(t *testing.T, f *fixture) {
		c := f.build(spec{status: "published"})
		wantCode(t, f.s.CreateComment(f.ctx, c), parley.EInvalid, "CreateComment with an unknown status")
		ok := f.add(spec{})
		_, err := f.s.SetStatus(f.ctx, ok.ID, "published", nil, true)
		wantCode(t, err, parley.EInvalid, "SetStatus to an unknown status")
	}},
	{"page comments after every kind of change", pageCommentsAfterChanges},
	{"page comments in every status by number", func(t *testing.T, f *fixture) {
		var want []*parley.Comment
		for i, st := range []string{parley.StatusApproved, parley.StatusPending, parley.StatusRejected, parley.StatusDeleted, parley.StatusApproved} {
			c := f.add(spec{status: st})
			if i == 3 {
				f.setStatus(c, parley.StatusDeleted, false)
			}
			want = append(want, f.comment(c.ID))
		}
		f.add(spec{page: f.newPage(f.site.ID, "https://news.example.com/other", "")})
		got, err := f.s.PageComments(f.ctx, f.page.ID)
		if err != nil {
			t.Fatalf("PageComments: %v", err)
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("PageComments: got ids %v, want %v", ids(got), ids(want))
		}
		for i := range got {
			for _, d := range diffComment(got[i], want[i]) {
				t.Errorf("comment %d: %s", i, d)
			}
		}
	}},
}

// pageCommentsAfterChanges reads a page's comments after each kind of change
// to them: a backend that caches threads must never serve a stale one.
func pageCommentsAfterChanges(t *testing.T, f *fixture) {
	a := f.add(spec{})
	b := f.add(spec{status: parley.StatusPending})
	var c *parley.Comment
	check := func(step string, want func(cs []*parley.Comment) bool) {
		t.Helper()
		for range 2 { // a second read must agree with the first
			cs, err := f.s.PageComments(f.ctx, f.page.ID)
			if err != nil {
				t.Fatalf("%s: PageComments: %v", step, err)
			}
			if !want(cs) {
				t.Errorf("%s: PageComments does not show the change: %+v", step, cs)
				return
			}
			cs[0].Text, cs[0].Reasons = "scribbled on by the caller", nil // must not leak into later reads
		}
	}
	check("first read", func(cs []*parley.Comment) bool { return len(cs) == 2 && cs[0].Text == a.Text })
	for _, tc := range []struct {
		name string
		do   func() error
		want func(cs []*parley.Comment) bool
	}{
		{"new comment", func() error { c = f.add(spec{parent: a}); return nil },
			func(cs []*parley.Comment) bool { return len(cs) == 3 && cs[2].ID == c.ID }},
		{"edit", func() error { return f.s.EditComment(f.ctx, a.ID, "edited", "<p>edited</p>", time.Now()) },
			func(cs []*parley.Comment) bool { return cs[0].Text == "edited" }},
		{"vote", func() error {
			_, err := f.s.Vote(f.ctx, parley.Vote{CommentID: a.ID, UserID: "bob", Value: -1})
			return err
		}, func(cs []*parley.Comment) bool { return cs[0].Score == -1 }},
		{"status", func() error {
			_, err := f.s.SetStatus(f.ctx, b.ID, parley.StatusRejected, []parley.Reason{{Rule: "spam"}}, true)
			return err
		}, func(cs []*parley.Comment) bool {
			return cs[1].Status == parley.StatusRejected && cs[1].Seen && len(cs[1].Reasons) == 1
		}},
		{"featured", func() error { return f.s.SetFeatured(f.ctx, c.ID, true) },
			func(cs []*parley.Comment) bool { return cs[2].Featured }},
		{"nothing after the caller scribbled", func() error { return nil },
			func(cs []*parley.Comment) bool { return cs[0].Text == "edited" }},
	} {
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		check(tc.name, tc.want)
	}
}

var numberingTests = []test{
	{"serial numbers start at 1 per page", func(t *testing.T, f *fixture) {
		other := f.newPage(f.site.ID, "https://news.example.com/other", "")
		for i, tc := range []struct {
			page *parley.Page
			want int
		}{{f.page, 1}, {f.page, 2}, {other, 1}, {f.page, 3}, {other, 2}} {
			if c := f.add(spec{page: tc.page}); c.Number != tc.want {
				t.Errorf("comment %d: got number %d, want %d", i, c.Number, tc.want)
			}
		}
	}},
	{"50 concurrent writers", func(t *testing.T, f *fixture) {
		testConcurrentNumbering(t, f)
	}},
	{"numbers are never reused after deletes", func(t *testing.T, f *fixture) {
		var cs []*parley.Comment
		for range 5 {
			cs = append(cs, f.add(spec{}))
		}
		for _, c := range cs[2:] {
			f.setStatus(c, parley.StatusDeleted, true)
		}
		f.setStatus(cs[1], parley.StatusRejected, true)
		if c := f.add(spec{}); c.Number != 6 {
			t.Errorf("after deleting the newest: got number %d, want 6", c.Number)
		}
	}},
}

// testConcurrentNumbering has 50 goroutines write comments on two pages at
// once, deleting some as they go, and checks that each page's numbers are
// unique and increase in each goroutine's creation order.
func testConcurrentNumbering(t *testing.T, f *fixture) {
	const writers, each = 50, 6
	second := f.newPage(f.site.ID, "https://news.example.com/second", "Second")
	type made struct {
		page   int64
		number int
	}
	results := make([][]made, writers)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				page := f.page
				if i%3 == 2 {
					page = second
				}
				c := &parley.Comment{PageID: page.ID, AuthorID: fmt.Sprintf("w%d", w), AuthorName: "W",
					Text: fmt.Sprintf("writer %d comment %d", w, i), HTML: "<p>x</p>", Status: parley.StatusApproved}
				if err := f.s.CreateComment(f.ctx, c); err != nil {
					errs <- fmt.Errorf("writer %d: CreateComment: %w", w, err)
					return
				}
				results[w] = append(results[w], made{page.ID, c.Number})
				if i == 1 { // a delete between two writes must not free a number
					if _, err := f.s.SetStatus(f.ctx, c.ID, parley.StatusDeleted, nil, false); err != nil {
						errs <- fmt.Errorf("writer %d: SetStatus: %w", w, err)
						return
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	seen := map[made]int{}
	for w, ms := range results {
		last := map[int64]int{}
		for _, m := range ms {
			if m.number <= 0 {
				t.Errorf("writer %d: got number %d, want a positive number", w, m.number)
			}
			if prev, ok := seen[m]; ok {
				t.Errorf("number %d on page %d given to writers %d and %d", m.number, m.page, prev, w)
			}
			seen[m] = w
			if m.number <= last[m.page] {
				t.Errorf("writer %d: number %d on page %d after %d, want increasing", w, m.number, m.page, last[m.page])
			}
			last[m.page] = m.number
		}
	}
	for _, p := range []*parley.Page{f.page, second} {
		all, err := f.s.PageComments(f.ctx, p.ID)
		if err != nil {
			t.Fatalf("PageComments: %v", err)
		}
		wantN := writers * each * 2 / 3
		if p == second {
			wantN = writers * each / 3
		}
		if len(all) != wantN {
			t.Errorf("page %d: got %d comments, want %d", p.ID, len(all), wantN)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Number <= all[i-1].Number {
				t.Errorf("page %d: PageComments not ordered by number: %d after %d", p.ID, all[i].Number, all[i-1].Number)
			}
		}
		approved := 0
		for _, c := range all {
			if c.Status == parley.StatusApproved {
				approved++
			}
		}
		if n := f.pageCount(p); n != approved {
			t.Errorf("page %d: got count %d, want %d approved", p.ID, n, approved)
		}
	}
	// Writing on after the storm continues above every number handed out.
	maxNum := 0
	for m := range seen {
		if m.page == f.page.ID {
			maxNum = max(maxNum, m.number)
		}
	}
	if c := f.add(spec{}); c.Number <= maxNum {
		t.Errorf("after the writers: got number %d, want above %d", c.Number, maxNum)
	}
}

var countTests = []test{
	{"every status transition", func(t *testing.T, f *fixture) {
		statuses := []string{parley.StatusApproved, parley.StatusPending, parley.StatusRejected, parley.StatusDeleted}
		for _, from := range statuses {
			for _, to := range statuses {
				t.Run(from+" to "+to, func(t *testing.T) {
					f.t = t
					before := f.pageCount(f.page)
					c := f.add(spec{status: from})
					afterCreate := f.pageCount(f.page)
					wantCreate := before
					if from == parley.StatusApproved {
						wantCreate++
					}
					if afterCreate != wantCreate {
						t.Errorf("create %s: got count %d, want %d", from, afterCreate, wantCreate)
					}
					old, err := f.s.SetStatus(f.ctx, c.ID, to, nil, true)
					if err != nil {
						t.Fatalf("SetStatus: %v", err)
					}
					if old != from {
						t.Errorf("SetStatus: got old %q, want %q", old, from)
					}
					want := before
					if to == parley.StatusApproved {
						want++
					}
					if got := f.pageCount(f.page); got != want {
						t.Errorf("%s to %s: got count %d, want %d", from, to, got, want)
					}
				})
			}
		}
	}},
	{"counts for several urls", func(t *testing.T, f *fixture) {
		second := f.newPage(f.site.ID, "https://news.example.com/second", "")
		empty := f.newPage(f.site.ID, "https://news.example.com/empty", "")
		f.newSite("other")
		foreign := f.newPage("other", "https://news.example.com/foreign", "")
		for range 3 {
			f.add(spec{})
		}
		f.add(spec{status: parley.StatusPending})
		f.add(spec{page: second})
		f.add(spec{page: foreign})
		rejected := f.add(spec{page: second})
		f.setStatus(rejected, parley.StatusRejected, true)

		got, err := f.s.Counts(f.ctx, f.site.ID, []string{f.page.URL, second.URL, empty.URL, foreign.URL, "https://news.example.com/none"})
		if err != nil {
			t.Fatalf("Counts: %v", err)
		}
		want := map[string]int{f.page.URL: 3, second.URL: 1, empty.URL: 0}
		if len(got) != len(want) {
			t.Errorf("Counts: got %v, want %v", got, want)
		}
		for u, n := range want {
			if g, ok := got[u]; !ok || g != n {
				t.Errorf("Counts[%s]: got %d (present %v), want %d", u, g, ok, n)
			}
		}
		none, err := f.s.Counts(f.ctx, f.site.ID, nil)
		if err != nil || len(none) != 0 {
			t.Errorf("Counts of no urls: got %v, %v; want an empty map", none, err)
		}
	}},
	{"counts for many urls", func(t *testing.T, f *fixture) {
		var urls []string
		for i := range 1200 {
			urls = append(urls, fmt.Sprintf("https://news.example.com/p%d", i))
		}
		f.add(spec{page: f.newPage(f.site.ID, urls[1100], "")})
		got, err := f.s.Counts(f.ctx, f.site.ID, urls)
		if err != nil {
			t.Fatalf("Counts: %v", err)
		}
		if len(got) != 1 || got[urls[1100]] != 1 {
			t.Errorf("Counts of 1,200 urls: got %v, want only %s: 1", got, urls[1100])
		}
	}},
}
