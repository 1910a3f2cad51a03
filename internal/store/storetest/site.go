package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var siteTests = []test{
	{"create and read back", func(t *testing.T, f *fixture) {
		want := &parley.Site{
			ID: "daily-news", Name: "Daily News — Ünïcode", Origins: []string{"https://a.example", "https://b.example:8443"},
			PolicyURL: "https://a.example/policy", IgnoreParams: []string{"ref", "src"},
			Policy: []byte(`{"max_links":2}`), Created: ms(2026, 3, 1, 12, 30, 15, 250),
		}
		last := f.lastEvent()
		if err := f.s.CreateSite(f.ctx, want); err != nil {
			t.Fatalf("CreateSite: %v", err)
		}
		// Running instances learn of the new site (its origins) from the log.
		wantEvs := []parley.Event{{Type: parley.EventSiteUpdated, SiteID: want.ID}}
		if evs := withoutIDs(f.eventsAfter(last)); !slices.Equal(evs, wantEvs) {
			t.Errorf("events: got %+v, want %+v", evs, wantEvs)
		}
		got, err := f.s.Site(f.ctx, want.ID)
		if err != nil {
			t.Fatalf("Site: %v", err)
		}
		if got.ID != want.ID || got.Name != want.Name || got.PolicyURL != want.PolicyURL ||
			!slices.Equal(got.Origins, want.Origins) || !slices.Equal(got.IgnoreParams, want.IgnoreParams) ||
			!bytes.Equal(got.Policy, want.Policy) {
			t.Errorf("Site: got %+v, want %+v", got, want)
		}
		wantTime(t, "Created", got.Created, want.Created)
	}},
	{"created is set when zero", func(t *testing.T, f *fixture) {
		before := time.Now()
		s := &parley.Site{ID: "blog", Name: "Blog"}
		if err := f.s.CreateSite(f.ctx, s); err != nil {
			t.Fatalf("CreateSite: %v", err)
		}
		after := time.Now()
		got, err := f.s.Site(f.ctx, "blog")
		if err != nil {
			t.Fatalf("Site: %v", err)
		}
		wantNear(t, "Created", got.Created, before, after)
		if len(got.Origins) != 0 || len(got.IgnoreParams) != 0 || len(got.Policy) != 0 {
			t.Errorf("empty lists: got origins %q, params %q, policy %q; want none", got.Origins, got.IgnoreParams, got.Policy)
		}
	}},
	{"duplicate id conflicts", func(t *testing.T, f *fixture) {
		last := f.lastEvent()
		err := f.s.CreateSite(f.ctx, &parley.Site{ID: f.site.ID, Name: "Other"})
		wantCode(t, err, parley.EConflict, "CreateSite of an existing id")
		if evs := f.eventsAfter(last); len(evs) != 0 {
			t.Errorf("events of a refused CreateSite: got %+v, want none", evs)
		}
		got, err := f.s.Site(f.ctx, f.site.ID)
		if err != nil {
			t.Fatalf("Site: %v", err)
		}
		if got.Name != f.site.Name {
			t.Errorf("after the conflict: got name %q, want %q unchanged", got.Name, f.site.Name)
		}
	}},
	{"update", func(t *testing.T, f *fixture) {
		s := *f.site
		s.Name, s.Origins, s.PolicyURL, s.IgnoreParams, s.Policy = "Renamed", []string{"https://new.example"}, "https://new.example/rules", []string{"x"}, []byte(`{}`)
		s.Created = ms(2000, 1, 1, 0, 0, 0, 0) // ignored
		last := f.lastEvent()
		if err := f.s.UpdateSite(f.ctx, &s); err != nil {
			t.Fatalf("UpdateSite: %v", err)
		}
		// Other instances learn of the change from the log.
		want := []parley.Event{{Type: parley.EventSiteUpdated, SiteID: s.ID}}
		if evs := withoutIDs(f.eventsAfter(last)); !slices.Equal(evs, want) {
			t.Errorf("events: got %+v, want %+v", evs, want)
		}
		got, err := f.s.Site(f.ctx, s.ID)
		if err != nil {
			t.Fatalf("Site: %v", err)
		}
		if got.Name != s.Name || got.PolicyURL != s.PolicyURL || !slices.Equal(got.Origins, s.Origins) ||
			!slices.Equal(got.IgnoreParams, s.IgnoreParams) || !bytes.Equal(got.Policy, s.Policy) {
			t.Errorf("after UpdateSite: got %+v, want %+v", got, s)
		}
		if !got.Created.Equal(f.site.Created) {
			t.Errorf("Created: got %v, want %v unchanged", got.Created, f.site.Created)
		}
	}},
	{"not found", func(t *testing.T, f *fixture) {
		_, err := f.s.Site(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "Site")
		last := f.lastEvent()
		err = f.s.UpdateSite(f.ctx, &parley.Site{ID: "nope", Name: "x"})
		wantCode(t, err, parley.ENotFound, "UpdateSite")
		if evs := f.eventsAfter(last); len(evs) != 0 {
			t.Errorf("events of an update of no site: got %+v, want none", evs)
		}
	}},
	{"list ordered by id", func(t *testing.T, f *fixture) {
		for _, id := range []string{"zeta", "alpha", "mid-1"} {
			f.newSite(id)
		}
		sites, err := f.s.Sites(f.ctx)
		if err != nil {
			t.Fatalf("Sites: %v", err)
		}
		var got []string
		for _, s := range sites {
			got = append(got, s.ID)
		}
		if want := []string{"alpha", "mid-1", "news", "zeta"}; !slices.Equal(got, want) {
			t.Errorf("Sites: got %q, want %q", got, want)
		}
	}},
}

var pageTests = []test{
	{"ensure is idempotent", func(t *testing.T, f *fixture) {
		again := f.newPage(f.site.ID, f.page.URL, "")
		if again.ID != f.page.ID || again.Title != "A story" {
			t.Errorf("EnsurePage again: got id %d title %q, want id %d title %q", again.ID, again.Title, f.page.ID, "A story")
		}
		same := f.newPage(f.site.ID, f.page.URL, "A story")
		if same.ID != f.page.ID {
			t.Errorf("EnsurePage with the same title: got id %d, want %d", same.ID, f.page.ID)
		}
		if f.page.SiteID != f.site.ID || f.page.URL != "https://news.example.com/2026/story" || f.page.Closed || f.page.Count != 0 {
			t.Errorf("new page: got %+v", f.page)
		}
		if f.page.Created.IsZero() || f.page.Created.Location() != time.UTC {
			t.Errorf("new page Created: got %v, want a UTC time", f.page.Created)
		}
	}},
	{"ensure updates the title", func(t *testing.T, f *fixture) {
		p := f.newPage(f.site.ID, f.page.URL, "A story, updated")
		if p.ID != f.page.ID || p.Title != "A story, updated" {
			t.Errorf("EnsurePage with a new title: got id %d title %q", p.ID, p.Title)
		}
		got, err := f.s.Page(f.ctx, f.site.ID, f.page.URL)
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		if got.Title != "A story, updated" {
			t.Errorf("Page title: got %q, want the new one", got.Title)
		}
	}},
	{"same url on two sites is two pages", func(t *testing.T, f *fixture) {
		f.newSite("other")
		p := f.newPage("other", f.page.URL, "Elsewhere")
		if p.ID == f.page.ID || p.SiteID != "other" {
			t.Errorf("EnsurePage on another site: got %+v, want a new page of site other", p)
		}
	}},
	{"ensure on an unknown site", func(t *testing.T, f *fixture) {
		_, err := f.s.EnsurePage(f.ctx, "nope", "https://x.example/", "X")
		wantCode(t, err, parley.ENotFound, "EnsurePage on an unknown site")
	}},
	{"read by url and id", func(t *testing.T, f *fixture) {
		byURL, err := f.s.Page(f.ctx, f.site.ID, f.page.URL)
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		byID, err := f.s.PageByID(f.ctx, f.page.ID)
		if err != nil {
			t.Fatalf("PageByID: %v", err)
		}
		for _, got := range []*parley.Page{byURL, byID} {
			if got.ID != f.page.ID || got.URL != f.page.URL || got.Title != f.page.Title || !got.Created.Equal(f.page.Created) {
				t.Errorf("got %+v, want %+v", got, f.page)
			}
		}
		_, err = f.s.Page(f.ctx, f.site.ID, "https://news.example.com/missing")
		wantCode(t, err, parley.ENotFound, "Page of a missing url")
		_, err = f.s.Page(f.ctx, "nope", f.page.URL)
		wantCode(t, err, parley.ENotFound, "Page of another site")
		_, err = f.s.PageByID(f.ctx, f.page.ID+1000)
		wantCode(t, err, parley.ENotFound, "PageByID of a missing id")
	}},
	{"update", func(t *testing.T, f *fixture) {
		f.add(spec{})
		p := *f.page
		p.Title, p.Closed, p.Policy = "Closed story", true, []byte(`{"hold_all":true}`)
		p.Count = 99 // ignored: the store keeps the count
		if err := f.s.UpdatePage(f.ctx, &p); err != nil {
			t.Fatalf("UpdatePage: %v", err)
		}
		got, err := f.s.PageByID(f.ctx, p.ID)
		if err != nil {
			t.Fatalf("PageByID: %v", err)
		}
		if got.Title != p.Title || !got.Closed || !bytes.Equal(got.Policy, p.Policy) || got.Count != 1 {
			t.Errorf("after UpdatePage: got %+v, want title %q, closed, policy %s, count 1", got, p.Title, p.Policy)
		}
		p.Closed, p.Policy = false, nil
		if err := f.s.UpdatePage(f.ctx, &p); err != nil {
			t.Fatalf("UpdatePage: %v", err)
		}
		if got, _ = f.s.PageByID(f.ctx, p.ID); got.Closed || got.Policy != nil {
			t.Errorf("after reopening: got closed %v policy %q, want open with no policy", got.Closed, got.Policy)
		}
		err = f.s.UpdatePage(f.ctx, &parley.Page{ID: p.ID + 1000, Title: "x"})
		wantCode(t, err, parley.ENotFound, "UpdatePage of a missing page")
	}},
}

var userTests = []test{
	{"create and read back", func(t *testing.T, f *fixture) {
		want := &parley.User{ID: "u_Zx9-", Name: "Zoë 🦊", Email: "zoe@example.com", Role: parley.RoleModerator,
			SiteID: f.site.ID, Created: ms(2025, 12, 31, 23, 59, 59, 999)}
		if err := f.s.CreateUser(f.ctx, want); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		got, err := f.s.User(f.ctx, want.ID)
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		if got.ID != want.ID || got.Name != want.Name || got.Email != want.Email || got.Role != want.Role || got.SiteID != want.SiteID {
			t.Errorf("User: got %+v, want %+v", got, want)
		}
		wantTime(t, "Created", got.Created, want.Created)
		if !got.BannedUntil.IsZero() {
			t.Errorf("BannedUntil: got %v, want zero", got.BannedUntil)
		}
	}},
	{"created is set when zero", func(t *testing.T, f *fixture) {
		before := time.Now()
		if err := f.s.CreateUser(f.ctx, &parley.User{ID: "anon1", Name: "Anon", Role: parley.RoleReader}); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		after := time.Now()
		got, err := f.s.User(f.ctx, "anon1")
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		wantNear(t, "Created", got.Created, before, after)
	}},
	{"duplicate id conflicts", func(t *testing.T, f *fixture) {
		u := &parley.User{ID: "bob", Name: "Bob", Role: parley.RoleReader}
		if err := f.s.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		err := f.s.CreateUser(f.ctx, &parley.User{ID: "bob", Name: "Other Bob", Role: parley.RoleReader})
		wantCode(t, err, parley.EConflict, "CreateUser of an existing id")
	}},
	{"update and ban round-trip", func(t *testing.T, f *fixture) {
		u := &parley.User{ID: "carol", Name: "Carol", Role: parley.RoleReader}
		if err := f.s.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		for _, tc := range []struct {
			name   string
			banned time.Time
		}{
			{"a day", ms(2026, 11, 22, 8, 15, 0, 123)},
			{"forever", ms(9999, 12, 31, 23, 59, 59, 0)},
			{"lifted", time.Time{}},
		} {
			u.Name, u.Email, u.Role, u.SiteID, u.BannedUntil = "Carol "+tc.name, "c@example.com", parley.RoleAdmin, "", tc.banned
			if err := f.s.UpdateUser(f.ctx, u); err != nil {
				t.Fatalf("%s: UpdateUser: %v", tc.name, err)
			}
			got, err := f.s.User(f.ctx, u.ID)
			if err != nil {
				t.Fatalf("%s: User: %v", tc.name, err)
			}
			if got.Name != u.Name || got.Email != u.Email || got.Role != u.Role || got.SiteID != "" {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, u)
			}
			wantTime(t, tc.name+": BannedUntil", got.BannedUntil, tc.banned)
		}
	}},
	{"picture and sessions round-trip", func(t *testing.T, f *fixture) {
		after := ms(2026, 12, 7, 10, 0, 0, 500)
		u := &parley.User{ID: "pia", Name: "Pia", Role: parley.RoleReader, Picture: "https://cdn.example.com/pia.png", SessionsAfter: after}
		if err := f.s.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		check := func(what, picture string, sessions time.Time, own bool) {
			t.Helper()
			for name, get := range map[string]func() (*parley.User, error){
				"User":  func() (*parley.User, error) { return f.s.User(f.ctx, "pia") },
				"Users": func() (*parley.User, error) { m, err := f.s.Users(f.ctx, []string{"pia"}); return m["pia"], err },
				"Tx.User": func() (got *parley.User, err error) {
					_, uerr := f.s.Update(f.ctx, func(tx store.Tx) error { got, err = tx.User("pia"); return err })
					return got, uerr
				},
				"UsersByRole": func() (*parley.User, error) {
					l, err := f.s.UsersByRole(f.ctx, []string{parley.RoleReader})
					return firstUser(l, "pia"), err
				},
			} {
				got, err := get()
				if err != nil || got == nil {
					t.Fatalf("%s: %s: %+v %v", what, name, got, err)
				}
				if got.Picture != picture {
					t.Errorf("%s: %s: Picture %q, want %q", what, name, got.Picture, picture)
				}
				wantTime(t, what+": "+name+": SessionsAfter", got.SessionsAfter, sessions)
				if got.OwnName != own {
					t.Errorf("%s: %s: OwnName %v, want %v", what, name, got.OwnName, own)
				}
			}
		}
		check("created", u.Picture, after, false)
		later := after.Add(time.Hour)
		u.Picture, u.SessionsAfter, u.OwnName = "https://cdn.example.com/pia-2.png", later, true
		if err := f.s.UpdateUser(f.ctx, u); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		check("updated", u.Picture, later, true)
		u.Picture, u.SessionsAfter, u.OwnName = "", time.Time{}, false
		if err := f.s.UpdateUser(f.ctx, u); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		check("cleared", "", time.Time{}, false)
	}},
	{"not found", func(t *testing.T, f *fixture) {
		_, err := f.s.User(f.ctx, "nobody")
		wantCode(t, err, parley.ENotFound, "User")
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error { _, err := tx.User("nobody"); return err })
		wantCode(t, err, parley.ENotFound, "Tx.User")
		err = f.s.UpdateUser(f.ctx, &parley.User{ID: "nobody", Name: "x"})
		wantCode(t, err, parley.ENotFound, "UpdateUser")
	}},
	{"a unit reads its own change of a user", func(t *testing.T, f *fixture) {
		f.user("uma", "", "")
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			u, err := tx.User("uma")
			if err != nil {
				return err
			}
			u.Name = "Uma renamed"
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			again, err := tx.User("uma")
			if err != nil {
				return err
			}
			if again.Name != "Uma renamed" {
				t.Errorf("Tx.User after the unit's UpdateUser: name %q, want the new one", again.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}},
	{"many by id in one call", func(t *testing.T, f *fixture) {
		f.user("alice", "", "")
		f.user("mod", parley.RoleModerator, "mod@example.com")
		banned := &parley.User{ID: "u_Zx9-", Name: "Zoë 🦊", Role: parley.RoleReader, SiteID: f.site.ID,
			BannedUntil: ms(2026, 12, 1, 8, 0, 0, 250), Created: ms(2025, 12, 31, 23, 59, 59, 999)}
		if err := f.s.CreateUser(f.ctx, banned); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		f.user("it's \"quoted\"", "", "")
		ask := []string{"alice", "nobody", "mod", "u_Zx9-", "alice", "it's \"quoted\"", ""}
		// Enough unknown ids to pass any limit on a statement's parameters.
		for i := range 40_000 {
			ask = append(ask, fmt.Sprintf("ghost%d", i))
		}
		got, err := f.s.Users(f.ctx, ask)
		if err != nil {
			t.Fatalf("Users: %v", err)
		}
		var keys []string
		for id := range got {
			keys = append(keys, id)
		}
		slices.Sort(keys)
		if want := []string{"alice", "it's \"quoted\"", "mod", "u_Zx9-"}; !slices.Equal(keys, want) {
			t.Errorf("Users: got %q, want %q", keys, want)
		}
		// Each user is what User returns.
		for id, u := range got {
			want, err := f.s.User(f.ctx, id)
			if err != nil {
				t.Fatalf("User(%q): %v", id, err)
			}
			if u.ID != id || u.Name != want.Name || u.Email != want.Email || u.Role != want.Role || u.SiteID != want.SiteID {
				t.Errorf("Users[%q]: got %+v, want %+v", id, u, want)
			}
			wantTime(t, "Users["+id+"].Created", u.Created, want.Created)
			wantTime(t, "Users["+id+"].BannedUntil", u.BannedUntil, want.BannedUntil)
		}
		for _, ids := range [][]string{nil, {}, {"nobody"}} {
			if got, err := f.s.Users(f.ctx, ids); err != nil || got == nil || len(got) != 0 {
				t.Errorf("Users(%q): got %v, %v; want an empty map and no error", ids, got, err)
			}
		}
	}},
}

func firstUser(l []*parley.User, id string) *parley.User {
	for _, u := range l {
		if u.ID == id {
			return u
		}
	}
	return nil
}
