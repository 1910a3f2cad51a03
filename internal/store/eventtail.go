package store

import (
	"sync"

	"github.com/parleyhq/parley"
)

// tailSize bounds the committed events the tail keeps in memory.
const tailSize = 4096

// EventTail holds the newest events this process's writer committed, in id
// order and without a gap, so that a store's EventsSince can answer the
// broker that tails the log from memory. The broker reads the log after
// every local write (a writer waits for its events to be delivered before
// it answers), and that read costs as much as a third of the write on a
// small SQLite database, a round trip on PostgreSQL; the events are the
// very rows the writer just inserted, so the read can be skipped without
// the log ceasing to be the one source of truth:
//
//   - the writer adds a batch's events only once its transaction has
//     committed, and only those of the operations that did not roll back;
//   - ids that do not follow the tail's newest (written by another
//     process or instance, or skipped) reset it, and a read the tail
//     cannot answer whole goes to the database: since ids are assigned
//     in commit order, a run of consecutive ids leaves no room for an
//     event of anyone else;
//   - a read after the tail's newest event goes to the database too, so
//     events others wrote since are found as before (announced, or by
//     the broker's poll);
//   - pruning empties it.
//
// The zero value is an empty tail.
type EventTail struct {
	mu  sync.Mutex
	evs []parley.Event // ids evs[0].ID, evs[0].ID+1, …
}

// Add appends committed events, in id order.
func (t *EventTail) Add(evs []parley.Event) {
	if len(evs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range evs {
		if n := len(t.evs); n > 0 && e.ID != t.evs[n-1].ID+1 {
			t.evs = t.evs[:0]
		}
		if len(t.evs) == tailSize {
			// Keep the newer half: one copy per tailSize/2 events.
			t.evs = t.evs[:copy(t.evs, t.evs[tailSize/2:])]
		}
		t.evs = append(t.evs, e)
	}
}

// Since returns up to limit events with ids after after, and true, when the
// tail holds the event right after after; false sends the caller to the
// database.
func (t *EventTail) Since(after int64, limit int) ([]parley.Event, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.evs)
	if n == 0 || after < t.evs[0].ID-1 || after >= t.evs[n-1].ID {
		return nil, false
	}
	from := int(after + 1 - t.evs[0].ID)
	to := min(n, from+limit)
	return append([]parley.Event(nil), t.evs[from:to]...), true
}

// Reset empties the tail.
func (t *EventTail) Reset() {
	t.mu.Lock()
	t.evs = t.evs[:0]
	t.mu.Unlock()
}
