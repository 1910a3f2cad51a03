package sqlite_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestEventTailMatchesLog writes events through concurrent units of work,
// half of which fail after recording theirs, and through a second DB on the
// same file (as another process would), then checks that every read of
// EventsSince on the writing DB, whose newest events come from memory,
// returns what a DB opened afterwards reads from the file.
func TestEventTailMatchesLog(t *testing.T) {
	db, path := open(t, nil)
	p := seed(t, db, 2)
	ctx := t.Context()
	failed := errors.New("the unit fails")
	write := func(db *sqlite.DB, i int, fail bool) error {
		_, err := db.Update(ctx, func(tx store.Tx) error {
			c := &parley.Comment{PageID: p.ID, AuthorID: "w", Text: fmt.Sprint("unit ", i), Status: parley.StatusApproved}
			if err := tx.CreateComment(c); err != nil {
				return err
			}
			if err := tx.Record(parley.Event{Type: parley.EventQueueChanged, SiteID: "news", PageID: p.ID}); err != nil {
				return err
			}
			if fail {
				return failed
			}
			return nil
		})
		return err
	}
	burst := func(from int) {
		var wg sync.WaitGroup
		for i := from; i < from+60; i++ {
			wg.Go(func() {
				if err := write(db, i, i%2 == 1); (err != nil) != (i%2 == 1) {
					t.Errorf("unit %d: %v", i, err)
				}
			})
		}
		wg.Wait()
	}
	burst(0)

	// Another writer on the same file: its events are not in db's tail.
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := write(other, 1000, false); err != nil {
		t.Fatal(err)
	}
	last, err := db.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// db has written nothing since: the other's events must be found.
	if evs, err := db.EventsSince(ctx, last-3, 10); err != nil || len(evs) != 3 || evs[2].ID != last {
		t.Fatalf("EventsSince(%d) after another writer: %v, %v; want 3 events up to %d", last-3, evs, err, last)
	}
	burst(100) // after the other's events: the tail starts again
	// A unit that fails alone in its batch leaves nothing in the tail
	// either, though the ids it took are taken again by the next writer.
	_, err = db.Update(ctx, func(tx store.Tx) error {
		if err := tx.Record(parley.Event{Type: parley.EventSiteUpdated, SiteID: "news"}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("failing unit: %v", err)
	}
	if err := write(other, 2000, false); err != nil {
		t.Fatal(err)
	}

	fresh, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	want, err := fresh.EventsSince(ctx, 0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	// The sites's, two per comment seeded, three per unit kept (of 60 +
	// 60 + 2), in id order without a gap.
	if n := 1 + 2*2 + 3*(30+30+2); len(want) != n {
		t.Fatalf("the file holds %d events, want %d", len(want), n)
	}
	for i, e := range want {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has id %d: the log has a gap", i+1, e.ID)
		}
	}
	// Each read is the start of what the file holds after it (events another
	// process wrote after db's newest may come at the next read, as they
	// did by the broker's poll), and tailing reads all of them in order.
	for _, limit := range []int{1, 3, 100_000} {
		for after := int64(0); after <= int64(len(want)); after++ {
			got, err := db.EventsSince(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			exp := want[after:]
			if len(exp) > limit {
				exp = exp[:limit]
			}
			if len(got) > len(exp) || (len(got) == 0) != (len(exp) == 0) || !slices.Equal(got, exp[:len(got)]) {
				t.Fatalf("EventsSince(%d, %d): got %+v, want the start of %+v", after, limit, got, exp)
			}
		}
		var tailed []parley.Event
		for after := int64(0); ; {
			got, err := db.EventsSince(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			tailed = append(tailed, got...)
			after = got[len(got)-1].ID
		}
		if !reflect.DeepEqual(tailed, want) {
			t.Errorf("tailing with limit %d: got %d events, want the file's %d", limit, len(tailed), len(want))
		}
	}
}
