package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var postContextTests = []test{
	{"the same as the reads one by one", func(t *testing.T, f *fixture) {
		now := time.Now().UTC()
		f.user("bob", "", "")
		for i, st := range []string{parley.StatusApproved, parley.StatusRejected, parley.StatusApproved, parley.StatusPending} {
			f.add(spec{author: "bob", ip: "ip1", status: st, created: now.Add(time.Duration(i-10) * time.Second), text: "said before"})
		}
		f.add(spec{author: "carol", ip: "ip1", created: now.Add(-5 * time.Second)})
		if err := f.s.SetSanction(f.ctx, store.Sanction{UserID: "bob", SiteID: f.site.ID, Premoderated: true}); err != nil {
			t.Fatalf("SetSanction: %v", err)
		}
		activity := func(author, text string) store.ActivityQuery {
			return store.ActivityQuery{AuthorID: author, IPHash: "ip1", Since: now.Add(-time.Minute), Text: text, TextSince: now.Add(-time.Hour), Cap: 3}
		}
		for _, tc := range []struct {
			name string
			q    store.PostQuery
		}{
			{"a reader with a record on a page that exists", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, UserID: "bob", Recent: 2, Activity: activity("bob", "said before")}},
			{"the same title", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, Title: f.page.Title, UserID: "bob", Recent: 10, Activity: activity("bob", "new words")}},
			{"a new page", store.PostQuery{SiteID: f.site.ID, URL: "https://news.example.com/new", Title: "New", UserID: "bob", Recent: 10, Activity: activity("bob", "x")}},
			{"a new title", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, Title: "Renamed", UserID: "carol", Recent: 10, Activity: activity("carol", "x")}},
			{"a reader without a record", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, UserID: "dave", Recent: 10, Activity: activity("dave", "x")}},
			{"no reader yet", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, Activity: store.ActivityQuery{IPHash: "ip1", Since: now.Add(-time.Minute)}}},
			{"nothing counted", store.PostQuery{SiteID: f.site.ID, URL: f.page.URL, UserID: "bob", Activity: store.ActivityQuery{Cap: -1}}},
		} {
			got, err := f.s.PostContext(f.ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: PostContext: %v", tc.name, err)
			}
			want, err := store.ReadPostContext(f.ctx, f.s, tc.q)
			if err != nil {
				t.Fatalf("%s: ReadPostContext: %v", tc.name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, want)
			}
			if tc.q.Title != "" && got.Page.Title != tc.q.Title {
				t.Errorf("%s: page title %q, want %q", tc.name, got.Page.Title, tc.q.Title)
			}
		}
	}},
	{"errors", func(t *testing.T, f *fixture) {
		_, err := f.s.PostContext(f.ctx, store.PostQuery{SiteID: "nosuchsite", URL: "https://x.example.com/", UserID: "bob"})
		wantCode(t, err, parley.ENotFound, "PostContext on a missing site")
		_, err = f.s.PostContext(f.ctx, store.PostQuery{SiteID: f.site.ID, URL: ""})
		wantCode(t, err, parley.EInvalid, "PostContext without a url")
	}},
}
