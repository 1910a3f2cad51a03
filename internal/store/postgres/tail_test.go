package postgres

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// TestEventTailMatchesLog writes events from two instances on one schema at
// once, through concurrent units of work half of which fail after
// recording theirs, then checks that every read of EventsSince on the
// first, whose newest events come from memory (store.EventTail), is the
// start of what a third instance reads from the database, and that tailing
// it reads every event once, in order.
func TestEventTailMatchesLog(t *testing.T) {
	dsn, schema := newSchema(t)
	a := openIn(t, dsn, schema, nil)
	b := openIn(t, dsn, schema, nil)
	p := seed(t, a)
	ctx := t.Context()
	failed := errors.New("the unit fails")
	write := func(db *DB, i int, fail bool) error {
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
	var wg sync.WaitGroup
	for i := range 120 {
		db := a
		if i%3 == 2 {
			db = b // the other instance, interleaved
		}
		wg.Go(func() {
			if err := write(db, i, i%2 == 1); (err != nil) != (i%2 == 1) {
				t.Errorf("unit %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if err := write(b, 1000, false); err != nil {
		t.Fatal(err)
	}
	if err := write(a, 2000, false); err != nil { // after the other's: a's tail starts again
		t.Fatal(err)
	}

	fresh := openIn(t, dsn, schema, nil)
	want, err := fresh.EventsSince(ctx, 0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if n := 2 * (60 + 2); len(want) < n {
		t.Fatalf("the database holds %d events, want at least %d", len(want), n)
	}
	afters := []int64{0}
	for _, e := range want {
		afters = append(afters, e.ID)
	}
	for _, limit := range []int{1, 3, 100_000} {
		for k, after := range afters {
			got, err := a.EventsSince(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			exp := want[k:]
			if len(exp) > limit {
				exp = exp[:limit]
			}
			if len(got) > len(exp) || (len(got) == 0) != (len(exp) == 0) || !slices.Equal(got, exp[:len(got)]) {
				t.Fatalf("EventsSince(%d, %d): got %+v, want the start of %+v", after, limit, got, exp)
			}
		}
		var tailed []parley.Event
		for after := int64(0); ; {
			got, err := a.EventsSince(ctx, after, limit)
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
			t.Errorf("tailing with limit %d: got %d events, want the database's %d", limit, len(tailed), len(want))
		}
	}
	// The reads of a's newest events were answered from memory.
	if _, ok := a.tail.Since(want[len(want)-2].ID, 10); !ok {
		t.Errorf("a's tail does not hold the events of its last unit")
	}
}
