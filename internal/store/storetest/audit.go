package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// auditedWriteTests prove store.WithAudit: each write a moderator action
// makes records the action's entry in its own transaction, exactly once,
// and a write that fails records nothing.
var auditedWriteTests = []test{
	{"each audited write records its entry once", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		c := f.add(spec{author: "bob"})
		writes := []struct {
			name  string
			write func(ctx context.Context) error
		}{
			{"SetStatus", func(ctx context.Context) error {
				_, err := f.s.SetStatus(ctx, c.ID, parley.StatusRejected, nil, true)
				return err
			}},
			{"SetFeatured", func(ctx context.Context) error { return f.s.SetFeatured(ctx, c.ID, false) }},
			{"SetSanction", func(ctx context.Context) error {
				return f.s.SetSanction(ctx, store.Sanction{UserID: "bob", SiteID: f.site.ID, Premoderated: true})
			}},
			{"UpdateUser", func(ctx context.Context) error {
				u, err := f.s.User(f.ctx, "bob")
				if err != nil {
					return err
				}
				u.BannedUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
				return f.s.UpdateUser(ctx, u)
			}},
			{"UpdateSite", func(ctx context.Context) error {
				s := *f.site
				s.Policy = []byte(`{"mode":"pre_all"}`)
				return f.s.UpdateSite(ctx, &s)
			}},
			{"UpdatePage", func(ctx context.Context) error {
				p := *f.page
				p.Closed = true
				return f.s.UpdatePage(ctx, &p)
			}},
			{"AddNote", func(ctx context.Context) error {
				return f.s.AddNote(ctx, &store.Note{UserID: "bob", SiteID: f.site.ID, AuthorName: "Mod", Text: "watch"})
			}},
		}
		for _, w := range writes {
			a := &store.Action{ActorName: "Mod", Action: "test-" + w.name, UserID: "bob", SiteID: f.site.ID,
				Before: []byte(`{"x":1}`), After: []byte(`{"x":2}`)}
			ctx := store.WithAudit(f.ctx, a)
			if err := w.write(ctx); err != nil {
				t.Fatalf("%s: %v", w.name, err)
			}
			if !store.AuditRecorded(ctx) || store.AuditPending(ctx) || a.ID == 0 || a.Created.IsZero() {
				t.Errorf("%s: entry not recorded by the write (id %d)", w.name, a.ID)
			}
			// A second write with the same context records nothing more.
			if err := w.write(ctx); err != nil {
				t.Fatalf("%s again: %v", w.name, err)
			}
			if n := countActions(t, f, w.name); n != 1 {
				t.Errorf("%s: %d entries, want 1", w.name, n)
			}
		}
	}},
	{"a failed write records nothing", func(t *testing.T, f *fixture) {
		a := &store.Action{ActorName: "Mod", Action: "test-fail", UserID: "bob", SiteID: f.site.ID}
		ctx := store.WithAudit(f.ctx, a)
		_, err := f.s.SetStatus(ctx, 987654, parley.StatusRejected, nil, true)
		wantCode(t, err, parley.ENotFound, "SetStatus of an unknown comment")
		err = f.s.UpdateSite(ctx, &parley.Site{ID: "nowhere", Name: "Nowhere"})
		wantCode(t, err, parley.ENotFound, "UpdateSite of an unknown site")
		if store.AuditRecorded(ctx) || !store.AuditPending(ctx) || a.ID != 0 {
			t.Fatalf("entry recorded by failed writes (id %d)", a.ID)
		}
		if n := countActions(t, f, "fail"); n != 0 {
			t.Fatalf("%d entries after failed writes, want 0", n)
		}
		// The next write that succeeds records it.
		c := f.add(spec{author: "bob"})
		if _, err := f.s.SetStatus(ctx, c.ID, parley.StatusRejected, nil, true); err != nil {
			t.Fatal(err)
		}
		if n := countActions(t, f, "fail"); n != 1 || !store.AuditRecorded(ctx) {
			t.Fatalf("%d entries after a successful write, want 1", n)
		}
	}},
	{"concurrent writes with one entry record it once", func(t *testing.T, f *fixture) {
		cs := make([]*parley.Comment, 8)
		for i := range cs {
			cs[i] = f.add(spec{author: "bob"})
		}
		a := &store.Action{ActorName: "Mod", Action: "test-concurrent", UserID: "bob", SiteID: f.site.ID}
		ctx := store.WithAudit(f.ctx, a)
		errs := make(chan error, len(cs))
		for _, c := range cs {
			go func() {
				_, err := f.s.SetStatus(ctx, c.ID, parley.StatusRejected, nil, true)
				errs <- err
			}()
		}
		for range cs {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := countActions(t, f, "concurrent"); n != 1 {
			t.Fatalf("%d entries, want 1", n)
		}
	}},
}

// countActions counts bob's audit entries on the site named "test-"+name.
func countActions(t *testing.T, f *fixture, name string) int {
	t.Helper()
	all, err := f.s.Actions(f.ctx, store.ActionQuery{UserID: "bob", SiteID: f.site.ID, Limit: 1000})
	if err != nil {
		t.Fatalf("Actions: %v", err)
	}
	n := 0
	for _, a := range all {
		if a.Action == "test-"+name {
			n++
		}
	}
	return n
}
