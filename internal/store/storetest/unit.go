package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// errAbandon is what a unit returns to give up after writing.
var errAbandon = errors.New("abandon the unit")

// unitTests prove Store.Update: a unit's rows, audit entries and events
// commit together or not at all, whatever its neighbours in a batch do.
var unitTests = []test{
	{"a committed unit keeps its rows, audit entry and events together", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		before := f.lastEvent()
		c := f.build(spec{author: "bob"})
		a := &store.Action{ActorName: "Mod", Action: "test-unit", UserID: "bob", SiteID: f.site.ID, After: []byte(`{"x":1}`)}
		last, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			if err := tx.CreateComment(c); err != nil {
				return err
			}
			// The unit reads its own write.
			got, err := tx.Comment(c.ID)
			if err != nil {
				return err
			}
			if got.Text != c.Text {
				return fmt.Errorf("Tx.Comment read %q, want %q", got.Text, c.Text)
			}
			if _, err := tx.SetStatus(c.ID, parley.StatusRejected, nil, true); err != nil {
				return err
			}
			if err := tx.AddAction(a); err != nil {
				return err
			}
			return tx.Record(parley.Event{Type: parley.EventPageUpdated, SiteID: f.site.ID, PageID: f.page.ID})
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got := f.comment(c.ID); got.Status != parley.StatusRejected || got.Number != 1 {
			t.Errorf("comment after the unit: status %s number %d, want rejected 1", got.Status, got.Number)
		}
		if a.ID == 0 || countActions(t, f, "unit") != 1 {
			t.Errorf("audit entry: id %d, %d stored, want one", a.ID, countActions(t, f, "unit"))
		}
		evs := f.eventsAfter(before)
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		want := []string{parley.EventCommentCreated, parley.EventPageCount, parley.EventCommentRemoved,
			parley.EventPageCount, parley.EventQueueChanged, parley.EventPageUpdated}
		if fmt.Sprint(types) != fmt.Sprint(want) {
			t.Errorf("events of the unit: %v, want %v", types, want)
		}
		if len(evs) == 0 || last != evs[len(evs)-1].ID || last != f.lastEvent() {
			t.Errorf("Update returned last event %d; the log ends at %d", last, f.lastEvent())
		}
	}},
	{"a failing unit leaves nothing behind", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		kept := f.add(spec{author: "bob"})
		before, count := f.lastEvent(), f.pageCount(f.page)
		failures := []struct {
			name string
			end  func(tx store.Tx) error
			want error
		}{
			{"its own error", func(store.Tx) error { return errAbandon }, errAbandon},
			{"a domain error of a write", func(tx store.Tx) error {
				_, err := tx.SetStatus(987654, parley.StatusRejected, nil, true)
				return err
			}, nil},
			{"a constraint of the database", func(tx store.Tx) error {
				return tx.CreateUser(&parley.User{ID: "bob", Name: "Bob again", Role: parley.RoleReader})
			}, nil},
		}
		for _, fl := range failures {
			c := f.build(spec{author: "carol"})
			a := &store.Action{ActorName: "Mod", Action: "test-fail", UserID: "bob", SiteID: f.site.ID}
			last, err := f.s.Update(f.ctx, func(tx store.Tx) error {
				if err := tx.CreateUser(&parley.User{ID: "carol", Name: "Carol", Role: parley.RoleReader}); err != nil {
					return err
				}
				if err := tx.CreateComment(c); err != nil {
					return err
				}
				if _, err := tx.SetStatus(kept.ID, parley.StatusRejected, nil, true); err != nil {
					return err
				}
				if err := tx.AddAction(a); err != nil {
					return err
				}
				if err := tx.Record(parley.Event{Type: parley.EventPageUpdated, SiteID: f.site.ID, PageID: f.page.ID}); err != nil {
					return err
				}
				return fl.end(tx)
			})
			if err == nil || (fl.want != nil && !errors.Is(err, fl.want)) || last != 0 {
				t.Fatalf("%s: Update returned (%d, %v), want the unit's error", fl.name, last, err)
			}
			if _, err := f.s.User(f.ctx, "carol"); parley.ErrorCode(err) != parley.ENotFound {
				t.Errorf("%s: the unit's user is there (%v)", fl.name, err)
			}
			if cs, err := f.s.PageComments(f.ctx, f.page.ID); err != nil || len(cs) != 1 {
				t.Errorf("%s: %d comments on the page (%v), want the one kept", fl.name, len(cs), err)
			}
			if got := f.comment(kept.ID); got.Status != parley.StatusApproved || got.Seen {
				t.Errorf("%s: the kept comment is %s, seen %v: half of the unit applied", fl.name, got.Status, got.Seen)
			}
			if n := countActions(t, f, "fail"); n != 0 {
				t.Errorf("%s: %d audit entries, want 0", fl.name, n)
			}
			if got := f.lastEvent(); got != before {
				t.Errorf("%s: the log ends at %d, want %d: events of a failed unit", fl.name, got, before)
			}
			if got := f.pageCount(f.page); got != count {
				t.Errorf("%s: page count %d, want %d", fl.name, got, count)
			}
		}
		// The numbers a failed unit took are not needed: the next comment
		// still gets a number greater than every earlier one.
		if next := f.add(spec{}); next.Number <= kept.Number {
			t.Errorf("number after failed units: %d, want > %d", next.Number, kept.Number)
		}
	}},
	{"concurrent units commit or fail each alone", func(t *testing.T, f *fixture) {
		const n = 24
		before := f.lastEvent()
		var wg sync.WaitGroup
		errs := make([]error, n)
		lasts := make([]int64, n)
		cs := make([]*parley.Comment, n)
		for i := range n {
			cs[i] = f.build(spec{author: fmt.Sprintf("u%d", i)})
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := &store.Action{ActorName: "Mod", Action: "test-concurrent", UserID: "bob", SiteID: f.site.ID, Note: fmt.Sprint(i)}
				lasts[i], errs[i] = f.s.Update(f.ctx, func(tx store.Tx) error {
					if err := tx.CreateComment(cs[i]); err != nil {
						return err
					}
					if err := tx.AddAction(a); err != nil {
						return err
					}
					if i%3 == 0 {
						return errAbandon
					}
					return nil
				})
			}()
		}
		wg.Wait()
		ok := 0
		for i := range n {
			switch {
			case i%3 == 0 && !errors.Is(errs[i], errAbandon):
				t.Errorf("unit %d: %v, want its own error", i, errs[i])
			case i%3 != 0 && errs[i] != nil:
				t.Errorf("unit %d: %v", i, errs[i])
			case i%3 != 0:
				ok++
				if lasts[i] <= before {
					t.Errorf("unit %d: last event %d, want > %d", i, lasts[i], before)
				}
			}
		}
		cs2, err := f.s.PageComments(f.ctx, f.page.ID)
		if err != nil || len(cs2) != ok {
			t.Fatalf("%d comments stored (%v), want %d", len(cs2), err, ok)
		}
		if got := countActions(t, f, "concurrent"); got != ok {
			t.Errorf("%d audit entries, want %d", got, ok)
		}
		// Two events per approved comment, every one of a committed unit,
		// in an order with no id twice.
		evs := f.eventsAfter(before)
		if len(evs) != 2*ok {
			t.Errorf("%d events, want %d", len(evs), 2*ok)
		}
		stored := map[int64]bool{}
		for _, c := range cs2 {
			stored[c.ID] = true
		}
		for i, e := range evs {
			if !stored[e.CommentID] {
				t.Errorf("event %d concerns comment %d, which no committed unit wrote", e.ID, e.CommentID)
			}
			if i > 0 && e.ID <= evs[i-1].ID {
				t.Errorf("event ids out of order: %d after %d", e.ID, evs[i-1].ID)
			}
		}
	}},
	{"a refusal of the database keeps its cause out of the message", func(t *testing.T, f *fixture) {
		f.user("bob", "", "")
		err := f.s.CreateUser(f.ctx, &parley.User{ID: "bob", Name: "Bob again", Role: parley.RoleReader})
		var pe *parley.Error
		if !errors.As(err, &pe) || pe.Code != parley.EConflict {
			t.Fatalf("CreateUser of an existing id: %v, want EConflict", err)
		}
		if pe.Err == nil {
			t.Errorf("the conflict lost its cause (the driver's error) on the way: %v", err)
		} else if cause := pe.Err.Error(); strings.Contains(pe.Message, cause) || strings.Contains(strings.ToLower(pe.Message), "constraint") {
			t.Errorf("the message for the caller quotes the driver: %q", pe.Message)
		}
	}},
	{"a unit that writes nothing returns no event", func(t *testing.T, f *fixture) {
		last, err := f.s.Update(f.ctx, func(store.Tx) error { return nil })
		if err != nil || last != 0 {
			t.Fatalf("empty unit: (%d, %v), want (0, nil)", last, err)
		}
		err = func() error {
			_, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.Record(parley.Event{SiteID: f.site.ID}) })
			return err
		}()
		wantCode(t, err, parley.EInvalid, "Record of an event without a type")
	}},
}

// consumerTests prove the positions of durable consumers.
var consumerTests = []test{
	{"positions are stored by name", func(t *testing.T, f *fixture) {
		_, err := f.s.ConsumerPosition(f.ctx, "mail")
		wantCode(t, err, parley.ENotFound, "ConsumerPosition of a new consumer")
		for _, pos := range []int64{5, 9} {
			if err := f.s.SetConsumerPosition(f.ctx, "mail", pos); err != nil {
				t.Fatal(err)
			}
			if got, err := f.s.ConsumerPosition(f.ctx, "mail"); err != nil || got != pos {
				t.Errorf("ConsumerPosition after storing %d: (%d, %v)", pos, got, err)
			}
		}
		if err := f.s.SetConsumerPosition(f.ctx, "hooks", 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.ConsumerPosition(f.ctx, "mail"); got != 9 {
			t.Errorf("another consumer moved mail's position to %d", got)
		}
		if err := f.s.DeleteConsumer(f.ctx, "mail"); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.ConsumerPosition(f.ctx, "mail")
		wantCode(t, err, parley.ENotFound, "ConsumerPosition after DeleteConsumer")
		wantCode(t, f.s.SetConsumerPosition(f.ctx, "", 1), parley.EInvalid, "SetConsumerPosition without a name")
	}},
}
