package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

var oidcTests = []test{
	{"settings round-trip and record site.updated", func(t *testing.T, f *fixture) {
		got, err := f.s.SiteOIDC(f.ctx, "news")
		if err != nil || got.SiteID != "news" || got.Enabled() || got.Moderators || got.StaffSubjects != nil || !got.Updated.IsZero() {
			t.Fatalf("SiteOIDC of a site without OIDC: got %+v, %v; want the zero settings", got, err)
		}
		_, err = f.s.SiteOIDC(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "SiteOIDC of an unknown site")

		at := f.lastEvent()
		want := parley.SiteOIDC{
			SiteID: "news", Issuer: "https://id.example.com", ClientID: "parley", ClientSecret: []byte("s3cret"),
			Scopes: []string{"openid", "email", "profile"}, ProviderName: "Example ID", Moderators: true,
			StaffSubjects: map[string]string{"sub-1": "u1"}, Updated: ms(2026, 12, 1, 9, 0, 0, 250),
		}
		if err := f.s.SetSiteOIDC(f.ctx, want); err != nil {
			t.Fatalf("SetSiteOIDC: %v", err)
		}
		got, err = f.s.SiteOIDC(f.ctx, "news")
		if err != nil || got.Issuer != want.Issuer || got.ClientID != want.ClientID || !bytes.Equal(got.ClientSecret, want.ClientSecret) ||
			fmt.Sprint(got.Scopes) != fmt.Sprint(want.Scopes) || got.ProviderName != want.ProviderName || !got.Moderators ||
			fmt.Sprint(got.StaffSubjects) != fmt.Sprint(want.StaffSubjects) || !got.Updated.Equal(want.Updated) {
			t.Fatalf("SiteOIDC: got %+v, %v; want %+v", got, err, want)
		}
		evs := f.eventsAfter(at)
		if len(evs) != 1 || evs[0].Type != parley.EventSiteUpdated || evs[0].SiteID != "news" {
			t.Errorf("SetSiteOIDC recorded %+v, want one site.updated of news", evs)
		}

		// A replacement without a secret or subjects clears them.
		next := parley.SiteOIDC{SiteID: "news", Issuer: "https://other.example.com", ClientID: "p2", Scopes: []string{"openid"}}
		if err := f.s.SetSiteOIDC(f.ctx, next); err != nil {
			t.Fatalf("SetSiteOIDC (replace): %v", err)
		}
		got, err = f.s.SiteOIDC(f.ctx, "news")
		if err != nil || got.ClientSecret != nil || got.Issuer != next.Issuer || got.Moderators || got.StaffSubjects != nil || got.Updated.IsZero() {
			t.Fatalf("SiteOIDC after replace: got %+v, %v", got, err)
		}
		err = f.s.SetSiteOIDC(f.ctx, parley.SiteOIDC{SiteID: "nope", Issuer: "https://x", ClientID: "c"})
		wantCode(t, err, parley.ENotFound, "SetSiteOIDC of an unknown site")

		// Through a unit of work too.
		if _, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.SetSiteOIDC(want) }); err != nil {
			t.Fatalf("Tx.SetSiteOIDC: %v", err)
		}
		if got, err := f.s.SiteOIDC(f.ctx, "news"); err != nil || got.Issuer != want.Issuer {
			t.Errorf("SiteOIDC after Tx.SetSiteOIDC: got %+v, %v", got, err)
		}
	}},
	{"a sign-in is taken once, and not once expired", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		l := &store.OIDCLogin{KeyHash: "k1", SiteID: "news", Purpose: store.OIDCReader, Binder: "b", Nonce: "n",
			Verifier: "v", Origin: "https://news.example.com", Created: now, Expires: now.Add(10 * time.Minute)}
		if err := f.s.CreateOIDCLogin(f.ctx, l); err != nil {
			t.Fatalf("CreateOIDCLogin: %v", err)
		}
		dup := *l
		wantCode(t, f.s.CreateOIDCLogin(f.ctx, &dup), parley.EConflict, "CreateOIDCLogin of a known key")
		bad := *l
		bad.KeyHash, bad.SiteID = "k9", "nope"
		wantCode(t, f.s.CreateOIDCLogin(f.ctx, &bad), parley.ENotFound, "CreateOIDCLogin of an unknown site")

		got, err := f.s.TakeOIDCLogin(f.ctx, "k1", now.Add(time.Minute))
		if err != nil || *got != *l {
			t.Fatalf("TakeOIDCLogin: got %+v, %v; want %+v", got, err, l)
		}
		_, err = f.s.TakeOIDCLogin(f.ctx, "k1", now.Add(time.Minute))
		wantCode(t, err, parley.ENotFound, "TakeOIDCLogin a second time")
		_, err = f.s.TakeOIDCLogin(f.ctx, "unknown", now)
		wantCode(t, err, parley.ENotFound, "TakeOIDCLogin of an unknown key")

		// An expired one is refused, and gone.
		old := &store.OIDCLogin{KeyHash: "k2", SiteID: "news", Purpose: store.OIDCTicket, UserID: "u1", Expires: now.Add(time.Minute)}
		if err := f.s.CreateOIDCLogin(f.ctx, old); err != nil || old.Created.IsZero() {
			t.Fatalf("CreateOIDCLogin: %v (created %v)", err, old.Created)
		}
		_, err = f.s.TakeOIDCLogin(f.ctx, "k2", now.Add(time.Minute))
		wantCode(t, err, parley.ENotFound, "TakeOIDCLogin when expired")
		_, err = f.s.TakeOIDCLogin(f.ctx, "k2", now)
		wantCode(t, err, parley.ENotFound, "TakeOIDCLogin after it was refused as expired")
	}},
	{"concurrent takes of one sign-in: one wins", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		if err := f.s.CreateOIDCLogin(f.ctx, &store.OIDCLogin{KeyHash: "race", SiteID: "news", Purpose: store.OIDCReader, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for range 8 {
			wg.Go(func() {
				_, err := f.s.TakeOIDCLogin(f.ctx, "race", now)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else if parley.ErrorCode(err) == parley.ENotFound {
					lost++
				} else {
					t.Errorf("TakeOIDCLogin: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != 7 {
			t.Errorf("8 concurrent takes: %d won, %d lost; want 1 and 7", won, lost)
		}
	}},
	{"prune deletes the expired sign-ins", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		for i, exp := range []time.Duration{-time.Hour, -time.Minute, time.Hour} {
			l := &store.OIDCLogin{KeyHash: fmt.Sprint("p", i), SiteID: "news", Purpose: store.OIDCReader, Expires: now.Add(exp)}
			if err := f.s.CreateOIDCLogin(f.ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		n, err := f.s.PruneOIDCLogins(f.ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("PruneOIDCLogins: got %d, %v; want 2", n, err)
		}
		if _, err := f.s.TakeOIDCLogin(f.ctx, "p2", now); err != nil {
			t.Errorf("the unexpired sign-in after the prune: %v", err)
		}
	}},
}
