package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// idemKey is a stored key's hash, as the service would compute it.
func idemKey(name string) []byte { return []byte(fmt.Sprintf("%-32s", name)) }

var idempotencyTests = []test{
	{"a key commits with its write, and a second use of it writes nothing", func(t *testing.T, f *fixture) {
		_, err := f.s.Idempotency(f.ctx, idemKey("k1"))
		wantCode(t, err, parley.ENotFound, "Idempotency of a key never stored")

		f.user("bob", "", "")
		c := f.build(spec{author: "bob"})
		rec := &store.Idempotency{Key: idemKey("k1"), SiteID: f.site.ID, Request: []byte("req"), Result: []byte(`{"id":1}`),
			Created: ms(2026, 12, 7, 12, 0, 0, 250)}
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error {
			if err := tx.CreateComment(c); err != nil {
				return err
			}
			return tx.SaveIdempotency(rec)
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		got, err := f.s.Idempotency(f.ctx, idemKey("k1"))
		if err != nil || got.SiteID != f.site.ID || !bytes.Equal(got.Request, rec.Request) ||
			!bytes.Equal(got.Result, rec.Result) || !got.Created.Equal(rec.Created) {
			t.Fatalf("Idempotency: got %+v, %v; want %+v", got, err, rec)
		}

		// The same key again: the unit fails with EConflict, and its
		// comment is not stored.
		count := f.pageCount(f.page)
		again := f.build(spec{author: "bob"})
		_, err = f.s.Update(f.ctx, func(tx store.Tx) error {
			if err := tx.CreateComment(again); err != nil {
				return err
			}
			return tx.SaveIdempotency(&store.Idempotency{Key: idemKey("k1"), SiteID: f.site.ID, Request: []byte("req"), Result: []byte("second")})
		})
		wantCode(t, err, parley.EConflict, "SaveIdempotency of a stored key")
		if got := f.pageCount(f.page); got != count {
			t.Errorf("page count after the refused unit: got %d, want %d", got, count)
		}
		if cs, err := f.s.PageComments(f.ctx, f.page.ID); err != nil || len(cs) != 1 {
			t.Errorf("PageComments after the refused unit: got %d comments, %v; want 1", len(cs), err)
		}
		if got, _ := f.s.Idempotency(f.ctx, idemKey("k1")); got == nil || string(got.Result) != `{"id":1}` {
			t.Errorf("the stored outcome changed: %+v", got)
		}

		_, err = f.s.Update(f.ctx, func(tx store.Tx) error {
			return tx.SaveIdempotency(&store.Idempotency{Key: idemKey("k2"), SiteID: "nope", Request: []byte("r"), Result: []byte("x")})
		})
		wantCode(t, err, parley.ENotFound, "SaveIdempotency on an unknown site")
	}},
	{"concurrent units with one key: exactly one writes", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := f.build(spec{author: "bob", text: fmt.Sprintf("attempt %d", i)})
				_, errs[i] = f.s.Update(f.ctx, func(tx store.Tx) error {
					if err := tx.CreateComment(c); err != nil {
						return err
					}
					return tx.SaveIdempotency(&store.Idempotency{Key: idemKey("race"), SiteID: f.site.ID,
						Request: []byte("r"), Result: fmt.Appendf(nil, "%d", i)})
				})
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("units %d and %d both committed one key", won, i)
			case err == nil:
				won = i
			default:
				wantCode(t, err, parley.EConflict, fmt.Sprintf("unit %d", i))
			}
		}
		cs, err := f.s.PageComments(f.ctx, f.page.ID)
		if err != nil || len(cs) != 1 || won < 0 || cs[0].Text != fmt.Sprintf("attempt %d", won) {
			t.Fatalf("PageComments: got %d comments, %v; want the winner's (%d) alone", len(cs), err, won)
		}
		if got, err := f.s.Idempotency(f.ctx, idemKey("race")); err != nil || string(got.Result) != fmt.Sprint(won) {
			t.Errorf("Idempotency: got %+v, %v; want the winner's outcome %d", got, err, won)
		}
	}},
	{"pruning deletes the keys created before the time", func(t *testing.T, f *fixture) {
		for i, at := range []int{1, 2, 3} {
			rec := &store.Idempotency{Key: idemKey(fmt.Sprint("p", i)), SiteID: f.site.ID, Request: []byte("r"), Result: []byte("x"),
				Created: ms(2026, 12, at, 9, 0, 0, 0)}
			if _, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.SaveIdempotency(rec) }); err != nil {
				t.Fatalf("SaveIdempotency: %v", err)
			}
		}
		n, err := f.s.PruneIdempotency(f.ctx, ms(2026, 12, 3, 9, 0, 0, 0))
		if err != nil || n != 2 {
			t.Fatalf("PruneIdempotency: got %d, %v; want 2", n, err)
		}
		for i, want := range []string{parley.ENotFound, parley.ENotFound, ""} {
			_, err := f.s.Idempotency(f.ctx, idemKey(fmt.Sprint("p", i)))
			wantCode(t, err, want, fmt.Sprintf("key p%d after pruning", i))
		}
	}},
}
