package storetest

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

var ssoTests = []test{
	{"settings round-trip and record site.updated", func(t *testing.T, f *fixture) {
		got, err := f.s.SiteSSO(f.ctx, "news")
		if err != nil || got.SiteID != "news" || got.Enabled() || got.Only || !got.Updated.IsZero() {
			t.Fatalf("SiteSSO of a site without SSO: got %+v, %v; want the zero settings", got, err)
		}
		_, err = f.s.SiteSSO(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "SiteSSO of an unknown site")

		at := f.lastEvent()
		want := parley.SiteSSO{SiteID: "news", Secret: []byte("0123456789abcdef0123456789abcdef"), Only: true, Updated: ms(2026, 12, 1, 9, 0, 0, 250)}
		if err := f.s.SetSiteSSO(f.ctx, want); err != nil {
			t.Fatalf("SetSiteSSO: %v", err)
		}
		got, err = f.s.SiteSSO(f.ctx, "news")
		if err != nil || !bytes.Equal(got.Secret, want.Secret) || got.JWKSURL != "" || !got.Only || !got.Updated.Equal(want.Updated) {
			t.Fatalf("SiteSSO: got %+v, %v; want %+v", got, err, want)
		}
		evs := f.eventsAfter(at)
		if len(evs) != 1 || evs[0].Type != parley.EventSiteUpdated || evs[0].SiteID != "news" {
			t.Errorf("SetSiteSSO recorded %+v, want one site.updated of news", evs)
		}

		// A replacement drops the secret for a JWKS URL.
		next := parley.SiteSSO{SiteID: "news", JWKSURL: "https://id.example.com/.well-known/jwks.json"}
		if err := f.s.SetSiteSSO(f.ctx, next); err != nil {
			t.Fatalf("SetSiteSSO (replace): %v", err)
		}
		got, err = f.s.SiteSSO(f.ctx, "news")
		if err != nil || got.Secret != nil || got.JWKSURL != next.JWKSURL || got.Only || got.Updated.IsZero() {
			t.Fatalf("SiteSSO after replace: got %+v, %v", got, err)
		}
		err = f.s.SetSiteSSO(f.ctx, parley.SiteSSO{SiteID: "nope", JWKSURL: next.JWKSURL})
		wantCode(t, err, parley.ENotFound, "SetSiteSSO of an unknown site")
	}},
	{"a token id is used once while it lives", func(t *testing.T, f *fixture) {
		other := f.newSite("other")
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		exp := now.Add(5 * time.Minute)
		if err := f.s.UseTokenID(f.ctx, "news", "j1", exp, now); err != nil {
			t.Fatalf("UseTokenID: %v", err)
		}
		wantCode(t, f.s.UseTokenID(f.ctx, "news", "j1", exp, now.Add(time.Minute)), parley.EConflict, "UseTokenID replayed")
		if err := f.s.UseTokenID(f.ctx, other.ID, "j1", exp, now); err != nil {
			t.Errorf("UseTokenID of the same id on another site: %v", err)
		}
		// Once the first use has expired the id is free again (a token
		// with that id is refused as expired before it gets here anyway).
		if err := f.s.UseTokenID(f.ctx, "news", "j1", exp.Add(time.Hour), exp.Add(time.Second)); err != nil {
			t.Errorf("UseTokenID after expiry: %v", err)
		}
		wantCode(t, f.s.UseTokenID(f.ctx, "nope", "j2", exp, now), parley.ENotFound, "UseTokenID of an unknown site")
	}},
	{"concurrent uses of one token id: exactly one wins", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = f.s.UseTokenID(f.ctx, "news", "race", now.Add(time.Minute), now) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch parley.ErrorCode(err) {
			case "":
				won++
			case parley.EConflict:
			default:
				t.Errorf("UseTokenID: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent uses succeeded, want 1", won, len(errs))
		}
	}},
	{"prune deletes expired token ids only", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		for i, id := range []string{"old1", "old2", "live"} {
			exp := now.Add(-time.Minute)
			if i == 2 {
				exp = now.Add(time.Minute)
			}
			if err := f.s.UseTokenID(f.ctx, "news", id, exp, exp.Add(-time.Hour)); err != nil {
				t.Fatalf("UseTokenID(%s): %v", id, err)
			}
		}
		n, err := f.s.PruneTokenIDs(f.ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("PruneTokenIDs: got %d, %v; want 2", n, err)
		}
		wantCode(t, f.s.UseTokenID(f.ctx, "news", "live", now.Add(time.Hour), now), parley.EConflict, "the live id after a prune")
	}},
	{"users by role", func(t *testing.T, f *fixture) {
		f.user("zed", parley.RoleStaff, "")
		f.user("amy", parley.RoleModerator, "amy@example.com")
		f.user("bob", "", "")
		f.user("cat", parley.RoleStaff, "")
		got, err := f.s.UsersByRole(f.ctx, []string{parley.RoleStaff, parley.RoleModerator})
		if err != nil {
			t.Fatalf("UsersByRole: %v", err)
		}
		var ids []string
		for _, u := range got {
			ids = append(ids, u.ID+":"+u.Role)
		}
		if want := "amy:moderator cat:staff zed:staff"; strings.Join(ids, " ") != want {
			t.Errorf("UsersByRole: got %q, want %q", strings.Join(ids, " "), want)
		}
		if got, err := f.s.UsersByRole(f.ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("UsersByRole(none): got %v, %v", got, err)
		}
	}},
}
