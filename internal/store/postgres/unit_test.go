package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// TestBatchWithAFailingUnit queues units while the committer is held, so
// that they run as one batch, and makes one in the middle fail in each way
// a unit fails: the batch runs first without savepoints, and must still
// commit every other unit whole and leave nothing of the failing one.
func TestBatchWithAFailingUnit(t *testing.T) {
	errAbandon := errors.New("abandoned")
	for _, tc := range []struct {
		name string
		end  func(tx store.Tx) error
		want error // nil: any error
	}{
		{"none fails", func(store.Tx) error { return nil }, nil},
		{"its own error after its writes", func(store.Tx) error { return errAbandon }, errAbandon},
		{"a domain error of a write", func(tx store.Tx) error {
			_, err := tx.SetStatus(987654, parley.StatusRejected, nil, true)
			return err
		}, nil},
		{"a constraint of the database", func(tx store.Tx) error {
			return tx.CreateUser(&parley.User{ID: "bob", Name: "Bob again", Role: parley.RoleReader})
		}, nil},
		{"a panic", func(store.Tx) error { panic("boom") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			page := seed(t, db)
			ctx := context.Background()
			if err := db.CreateUser(ctx, &parley.User{ID: "bob", Name: "Bob", Role: parley.RoleReader, Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			before, err := db.LastEventID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// The first unit holds the committer until the others are queued.
			hold, held := make(chan struct{}), make(chan struct{})
			go db.Update(ctx, func(store.Tx) error { close(held); <-hold; return nil })
			<-held
			const n, failing = 5, 2
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					c := &parley.Comment{PageID: page.ID, AuthorID: fmt.Sprintf("u%d", i), AuthorName: "U",
						Text: fmt.Sprintf("unit %d", i), HTML: "<p>…</p>", Status: parley.StatusApproved}
					_, errs[i] = db.Update(ctx, func(tx store.Tx) error {
						if err := tx.CreateUser(&parley.User{ID: fmt.Sprintf("u%d", i), Name: "U", Role: parley.RoleReader}); err != nil {
							return err
						}
						if err := tx.CreateComment(c); err != nil {
							return err
						}
						if i == failing {
							return tc.end(tx)
						}
						return nil
					})
				})
			}
			for deadline := time.Now().Add(5 * time.Second); len(db.units) < n; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d units queued, want %d", len(db.units), n)
				}
			}
			stats := db.Stats()
			close(hold)
			wg.Wait()
			if got := db.Stats().Batches - stats.Batches; got != 1 {
				t.Errorf("%d batches for the queued units, want 1", got)
			}
			fails := tc.name != "none fails"
			for i, err := range errs {
				switch {
				case i == failing && fails && (err == nil || (tc.want != nil && !errors.Is(err, tc.want))):
					t.Errorf("the failing unit returned %v, want its error", err)
				case (i != failing || !fails) && err != nil:
					t.Errorf("unit %d: %v", i, err)
				}
			}
			cs, err := db.PageComments(ctx, page.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := n
			if fails {
				want--
			}
			if len(cs) != want {
				t.Fatalf("%d comments, want %d", len(cs), want)
			}
			for _, c := range cs {
				if fails && c.AuthorID == fmt.Sprintf("u%d", failing) {
					t.Errorf("the failing unit's comment is there")
				}
			}
			_, err = db.User(ctx, fmt.Sprintf("u%d", failing))
			if fails && parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("the failing unit's user: %v, want ENotFound", err)
			}
			evs, err := db.EventsSince(ctx, before, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 2*want {
				t.Errorf("%d events, want %d", len(evs), 2*want)
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].ID != evs[i-1].ID+1 {
					t.Errorf("event ids %d then %d: a gap", evs[i-1].ID, evs[i].ID)
				}
			}
			if p, _ := db.PageByID(ctx, page.ID); p.Count != want {
				t.Errorf("page count %d, want %d", p.Count, want)
			}
		})
	}
}

// TestPipelinedBatch queues units while the committer is held, so that
// they run as one batch: units made only of interleavable writes (posts)
// run side by side, their statements in shared round trips, and commit
// with their events in the order of the units; a batch with one unit that
// reads and then writes runs them one after the other, with the same
// outcome.
func TestPipelinedBatch(t *testing.T) {
	for _, serial := range []bool{false, true} {
		t.Run(fmt.Sprintf("serial=%v", serial), func(t *testing.T) {
			db := open(t)
			page := seed(t, db)
			ctx := context.Background()
			before, err := db.LastEventID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			hold, held := make(chan struct{}), make(chan struct{})
			go db.Update(ctx, func(store.Tx) error { close(held); <-hold; return nil })
			<-held
			const n = 6
			ids := make([]int64, n)
			lasts := make([]int64, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				// Queued in order, so that the batch holds them in order.
				for deadline := time.Now().Add(5 * time.Second); len(db.units) < i; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("%d units queued, want %d", len(db.units), i)
					}
				}
				wg.Go(func() {
					lasts[i], errs[i] = db.Update(ctx, func(tx store.Tx) error {
						u := &parley.User{ID: fmt.Sprintf("p%d", i), Name: "P", Role: parley.RoleReader}
						if err := tx.CreateUser(u); err != nil {
							return err
						}
						c := &parley.Comment{PageID: page.ID, AuthorID: u.ID, AuthorName: "P",
							Text: fmt.Sprintf("unit %d", i), HTML: "<p>…</p>", Status: parley.StatusApproved}
						if err := tx.CreateComment(c); err != nil {
							return err
						}
						ids[i] = c.ID
						if serial && i == n-1 {
							// A read, then a write that depends on it.
							got, err := tx.Comment(c.ID)
							if err != nil {
								return err
							}
							if _, err := tx.SetStatus(got.ID, parley.StatusPending, nil, false); err != nil {
								return err
							}
						}
						return tx.Record(parley.Event{Type: "test.unit", SiteID: "news", PageID: page.ID, CommentID: c.ID})
					})
				})
			}
			for deadline := time.Now().Add(5 * time.Second); len(db.units) < n; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d units queued, want %d", len(db.units), n)
				}
			}
			stats := db.Stats()
			close(hold)
			wg.Wait()
			after := db.Stats()
			if got := after.Batches - stats.Batches; got != 1 {
				t.Errorf("%d batches for the queued units, want 1", got)
			}
			if got, want := after.Pipelined-stats.Pipelined, map[bool]int64{false: 1, true: 0}[serial]; got != want {
				t.Errorf("%d pipelined batches, want %d", got, want)
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("unit %d: %v", i, err)
				}
			}
			evs, err := db.EventsSince(ctx, before, 100)
			if err != nil {
				t.Fatal(err)
			}
			var units []parley.Event
			for _, e := range evs {
				if e.Type == "test.unit" {
					units = append(units, e)
				}
			}
			if len(units) != n {
				t.Fatalf("%d events of the units, want %d", len(units), n)
			}
			for i, e := range units {
				if e.CommentID != ids[i] {
					t.Errorf("event %d is of comment %d, want unit %d's, %d", i, e.CommentID, i, ids[i])
				}
				if lasts[i] != e.ID {
					t.Errorf("unit %d: newest event %d, want %d", i, lasts[i], e.ID)
				}
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].ID != evs[i-1].ID+1 {
					t.Errorf("event ids %d then %d: a gap", evs[i-1].ID, evs[i].ID)
				}
			}
			cs, err := db.PageComments(ctx, page.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != n {
				t.Fatalf("%d comments, want %d", len(cs), n)
			}
			seen := map[int]bool{}
			for _, c := range cs {
				if seen[c.Number] {
					t.Errorf("number %d twice", c.Number)
				}
				seen[c.Number] = true
			}
			last, err := db.Comment(ctx, ids[n-1])
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{false: parley.StatusApproved, true: parley.StatusPending}[serial]; last.Status != want {
				t.Errorf("the last unit's comment is %s, want %s", last.Status, want)
			}
			if p, _ := db.PageByID(ctx, page.ID); p.Count != map[bool]int{false: n, true: n - 1}[serial] {
				t.Errorf("page count %d", p.Count)
			}
		})
	}
}
