package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// pageList lists pages, failing the test on error, and returns their urls.
func (f *fixture) pageList(q store.PageQuery) ([]string, []store.PageActivity) {
	f.t.Helper()
	got, err := f.s.Pages(f.ctx, q)
	if err != nil {
		f.t.Fatalf("Pages(%+v): %v", q, err)
	}
	urls := make([]string, len(got))
	for i, p := range got {
		urls[i] = p.Page.URL
	}
	return urls, got
}

var pageListTests = []test{
	{"newest activity first", func(t *testing.T, f *fixture) {
		base := f.page.Created // already at the store's precision
		quiet := f.newPage(f.site.ID, "https://news.example.com/quiet", "No comments yet")
		busy := f.newPage(f.site.ID, "https://news.example.com/busy", "Busy")
		f.newSite("other")
		f.newPage("other", "https://other.example.com/elsewhere", "Elsewhere")
		f.add(spec{created: base.Add(time.Hour)})
		f.add(spec{page: busy, created: base.Add(2 * time.Hour), status: parley.StatusPending})
		closed := store.PageSettings{Closed: true, Policy: []byte(`{"mode":"pre_all"}`)}
		if _, err := f.s.SetPageSettings(f.ctx, busy.ID, closed); err != nil {
			t.Fatalf("SetPageSettings: %v", err)
		}

		urls, got := f.pageList(store.PageQuery{SiteID: f.site.ID})
		// A pending comment is activity too; a page without comments is as
		// active as its creation.
		if want := []string{busy.URL, f.page.URL, quiet.URL}; !slices.Equal(urls, want) {
			t.Fatalf("Pages: got %q, want %q", urls, want)
		}
		if a := got[0].Activity; !a.Equal(base.Add(2*time.Hour)) || a.Location() != time.UTC {
			t.Errorf("activity of the busy page: got %v, want its comment's time %v in UTC", a, base.Add(2*time.Hour))
		}
		if a := got[2].Activity; !a.Equal(quiet.Created) {
			t.Errorf("activity of a page without comments: got %v, want its creation %v", a, quiet.Created)
		}
		b := got[0].Page
		if b.ID != busy.ID || b.SiteID != f.site.ID || b.Title != "Busy" || !b.Closed || !bytes.Equal(b.Policy, closed.Policy) || b.Count != 0 || !b.Created.Equal(busy.Created) {
			t.Errorf("listed page: got %+v, want %+v closed with the policy", b, busy)
		}
		if p := got[1].Page; p.Count != 1 || p.Closed || p.Policy != nil {
			t.Errorf("listed page with one approved comment: got %+v", p)
		}
		if urls, _ := f.pageList(store.PageQuery{SiteID: "nope"}); len(urls) != 0 {
			t.Errorf("Pages of an unknown site: got %q, want none", urls)
		}
	}},
	{"paging never repeats or skips", func(t *testing.T, f *fixture) {
		// Five pages whose activity ties in pairs: the id breaks ties.
		at := f.page.Created.Add(time.Hour)
		var want []string
		for i, url := range []string{"https://news.example.com/a", "https://news.example.com/b", "https://news.example.com/c", "https://news.example.com/d"} {
			p := f.newPage(f.site.ID, url, "")
			f.add(spec{page: p, created: at.Add(time.Duration(i/2) * time.Minute)})
			want = append([]string{url}, want...)
		}
		want = append(want, f.page.URL)
		all, _ := f.pageList(store.PageQuery{SiteID: f.site.ID})
		if !slices.Equal(all, want) {
			t.Fatalf("Pages: got %q, want %q", all, want)
		}
		for _, limit := range []int{1, 2, 3} {
			var got []string
			q := store.PageQuery{SiteID: f.site.ID, Limit: limit}
			for range 10 {
				urls, ps := f.pageList(q)
				if len(urls) > limit {
					t.Fatalf("limit %d: got %d pages", limit, len(urls))
				}
				got = append(got, urls...)
				if len(ps) < limit {
					break
				}
				q.After = ps[len(ps)-1].Position()
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged by %d: got %q, want %q", limit, got, want)
			}
		}
	}},
	{"search in url and title", func(t *testing.T, f *fixture) {
		f.newPage(f.site.ID, "https://news.example.com/2026/budget-vote", "Parliament passes the budget")
		f.newPage(f.site.ID, "https://news.example.com/2026/zoe", "Zoë Ödegaard wins")
		for _, tc := range []struct {
			search string
			want   []string
		}{
			{"", []string{"https://news.example.com/2026/zoe", "https://news.example.com/2026/budget-vote", f.page.URL}},
			{"budget", []string{"https://news.example.com/2026/budget-vote"}},
			{"BUDGET-Vote", []string{"https://news.example.com/2026/budget-vote"}},
			{"parliament", []string{"https://news.example.com/2026/budget-vote"}},
			{"Zoë Ödegaard", []string{"https://news.example.com/2026/zoe"}},
			{"2026/", []string{"https://news.example.com/2026/zoe", "https://news.example.com/2026/budget-vote", f.page.URL}},
			{"%", nil},
			{"_", nil},
			{"nothing like it", nil},
		} {
			got, _ := f.pageList(store.PageQuery{SiteID: f.site.ID, Search: tc.search})
			if !slices.Equal(got, tc.want) {
				t.Errorf("search %q: got %q, want %q", tc.search, got, tc.want)
			}
		}
	}},
	{"page settings", func(t *testing.T, f *fixture) {
		f.add(spec{})
		last := f.lastEvent()
		override := []byte(`{"mode":"pre_all","max_links":0}`)
		old, err := f.s.SetPageSettings(f.ctx, f.page.ID, store.PageSettings{Closed: true, Policy: override})
		if err != nil {
			t.Fatalf("SetPageSettings: %v", err)
		}
		if old.Closed || old.Policy != nil {
			t.Errorf("old settings of a new page: got %+v, want open with no policy", old)
		}
		got, _ := f.s.PageByID(f.ctx, f.page.ID)
		if !got.Closed || !bytes.Equal(got.Policy, override) || got.Title != f.page.Title || got.Count != 1 {
			t.Errorf("after SetPageSettings: got %+v, want closed with %s, title and count kept", got, override)
		}
		want := []parley.Event{{Type: parley.EventPageUpdated, SiteID: f.site.ID, PageID: f.page.ID}}
		if evs := withoutIDs(f.eventsAfter(last)); !slices.Equal(evs, want) {
			t.Errorf("events: got %+v, want %+v", evs, want)
		}

		// The same settings again change nothing and record nothing.
		last = f.lastEvent()
		old, err = f.s.SetPageSettings(f.ctx, f.page.ID, store.PageSettings{Closed: true, Policy: override})
		if err != nil || !old.Closed || !bytes.Equal(old.Policy, override) {
			t.Errorf("SetPageSettings again: got %+v, %v; want the settings just stored", old, err)
		}
		if evs := f.eventsAfter(last); len(evs) != 0 {
			t.Errorf("events of an unchanged page: got %+v, want none", evs)
		}

		// An empty policy is none.
		old, err = f.s.SetPageSettings(f.ctx, f.page.ID, store.PageSettings{Policy: []byte{}})
		if err != nil || !old.Closed || !bytes.Equal(old.Policy, override) {
			t.Errorf("reopening: got %+v, %v; want the closed settings back", old, err)
		}
		if got, _ = f.s.PageByID(f.ctx, f.page.ID); got.Closed || got.Policy != nil {
			t.Errorf("after reopening: got closed %v policy %q, want open with no policy", got.Closed, got.Policy)
		}
		if evs := withoutIDs(f.eventsAfter(last)); !slices.Equal(evs, want) {
			t.Errorf("events of reopening: got %+v, want %+v", evs, want)
		}

		_, err = f.s.SetPageSettings(f.ctx, f.page.ID+1000, store.PageSettings{Closed: true})
		wantCode(t, err, parley.ENotFound, "SetPageSettings of a missing page")
	}},
}
