package sqlite

import (
	"sync"

	"github.com/parleyhq/parley"
)

// tailSize bounds the committed events the tail keeps in memory.
const tailSize = 4096

// eventTail holds the newest events this process's writer committed, in id
// order and without a gap, so that EventsSince can answer the broker that
// tails the log from memory. The broker reads the log after every local
// write (a writer waits for its events to be delivered before it answers),
// and on a small database that read costs as much as a third of the write;
// the events are the very rows the writer just inserted, so the read can
// be skipped without the log ceasing to be the one source of truth:
//
//   - the writer adds a batch's events only once its transaction has
//     committed, and only those of the operations that did not roll back;
//   - ids that do not follow the tail's newest (written by another
//     process on the same file, or skipped) reset it, and a read the tail
//     cannot answer whole goes to the database;
//   - a read after the tail's newest event goes to the database too, so
//     events other processes wrote since are found as before (by the
//     broker's poll);
//   - pruning empties it.
type eventTail struct {
	mu  sync.Mutex
	evs []parley.Event // ids evs[0].ID, evs[0].ID+1, …
}

// add appends committed events, in id order.
func (t *eventTail) add(evs []parley.Event) {
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

// since returns up to limit events with ids after after, and true, when the
// tail holds the event right after after; false sends the caller to the
// database.
func (t *eventTail) since(after int64, limit int) ([]parley.Event, bool) {
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

// reset empties the tail.
func (t *eventTail) reset() {
	t.mu.Lock()
	t.evs = t.evs[:0]
	t.mu.Unlock()
}
