package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// enqueue queues a message in a unit of its own and reports whether it was new.
func (f *fixture) enqueue(m *store.QueuedMail) bool {
	f.t.Helper()
	var queued bool
	if _, err := f.s.Update(f.ctx, func(tx store.Tx) error {
		var err error
		queued, err = tx.EnqueueMail(m)
		return err
	}); err != nil {
		f.t.Fatalf("EnqueueMail(%q): %v", m.Key, err)
	}
	return queued
}

func mailIDs(ms []*store.QueuedMail) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func mailKeys(ms []*store.QueuedMail) string {
	s := ""
	for _, m := range ms {
		s += m.Key + " "
	}
	return s
}

var mailTests = []test{
	{"a key is queued once, and a claimed message is leased", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		m := &store.QueuedMail{Key: "reply:1:u1", Group: "reply:u1:1", Kind: "reply", UserID: "u1", To: "a@example.com",
			Data: []byte(`{"x":1}`), Created: now}
		if !f.enqueue(m) || m.ID == 0 || !m.NextTry.Equal(now) {
			t.Fatalf("EnqueueMail: got %+v, want a new message due at once", m)
		}
		if f.enqueue(&store.QueuedMail{Key: "reply:1:u1", Kind: "reply", To: "b@example.com", Created: now}) {
			t.Fatalf("EnqueueMail of a key queued before: got queued, want not")
		}
		// A unit that fails queues nothing.
		_, err := f.s.Update(f.ctx, func(tx store.Tx) error {
			if _, err := tx.EnqueueMail(&store.QueuedMail{Key: "rolled-back", Kind: "reply", To: "c@example.com", Created: now}); err != nil {
				return err
			}
			return parley.Errorf(parley.EInvalid, "no")
		})
		wantCode(t, err, parley.EInvalid, "a failing unit")
		if q, s, err := f.s.MailCounts(f.ctx); err != nil || q != 1 || s != 0 {
			t.Fatalf("MailCounts: got %d queued %d sent %v, want 1 and 0", q, s, err)
		}

		if got, err := f.s.ClaimMail(f.ctx, now.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
			t.Fatalf("ClaimMail before it is due: got %d, %v; want none", len(got), err)
		}
		got, err := f.s.ClaimMail(f.ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("ClaimMail: got %d, %v; want 1", len(got), err)
		}
		g := got[0]
		if g.ID != m.ID || g.Key != m.Key || g.Group != m.Group || g.Kind != "reply" || g.UserID != "u1" || g.To != m.To ||
			string(g.Data) != `{"x":1}` || !g.Created.Equal(now) || !g.NextTry.Equal(now.Add(time.Minute)) || !g.Sent.IsZero() {
			t.Errorf("ClaimMail: got %+v, want %+v leased for a minute", g, m)
		}
		if again, err := f.s.ClaimMail(f.ctx, now.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Errorf("ClaimMail during the lease: got %d, %v; want none", len(again), err)
		}
		// A failure counts an attempt; a postponement does not.
		if err := f.s.RetryMail(f.ctx, []int64{m.ID}, now.Add(2*time.Minute), "421 try later"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.RetryMail(f.ctx, []int64{m.ID}, now.Add(3*time.Minute), ""); err != nil {
			t.Fatal(err)
		}
		got, err = f.s.ClaimMail(f.ctx, now.Add(3*time.Minute), time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "421 try later" {
			t.Fatalf("ClaimMail after a retry: got %+v, %v; want one attempt with its error", got, err)
		}
		sentAt := now.Add(3*time.Minute + 250*time.Millisecond)
		if err := f.s.MarkMailSent(f.ctx, []int64{m.ID}, sentAt, "<1@parley>"); err != nil {
			t.Fatal(err)
		}
		if got, err := f.s.ClaimMail(f.ctx, now.Add(time.Hour), time.Minute, 10); err != nil || len(got) != 0 {
			t.Errorf("ClaimMail after it was sent: got %d, %v; want none", len(got), err)
		}
		// Retrying or marking a sent message again changes nothing.
		if err := f.s.RetryMail(f.ctx, []int64{m.ID}, now, "x"); err != nil {
			t.Fatal(err)
		}
		last, err := f.s.LastMailSent(f.ctx, []string{"reply:u1:1", "nope"})
		if err != nil || len(last) != 1 || !last["reply:u1:1"].Equal(sentAt) {
			t.Errorf("LastMailSent: got %v, %v; want the group at %v", last, err, sentAt)
		}
		if q, s, err := f.s.MailCounts(f.ctx); err != nil || q != 0 || s != 1 {
			t.Errorf("MailCounts: got %d queued %d sent %v, want 0 and 1", q, s, err)
		}
	}},
	{"a message given up is never claimed, counted or retried again, and is pruned", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		bad := &store.QueuedMail{Key: "bad", Group: "g", Kind: "reply", To: "nobody@example.com", Created: now}
		good := &store.QueuedMail{Key: "good", Kind: "reply", To: "ann@example.com", Created: now}
		f.enqueue(bad)
		f.enqueue(good)
		if got, err := f.s.ClaimMail(f.ctx, now, time.Minute, 10); err != nil || len(got) != 2 {
			t.Fatalf("ClaimMail: got %d, %v; want both", len(got), err)
		}
		failedAt := now.Add(time.Second)
		if err := f.s.GiveUpMail(f.ctx, []int64{bad.ID}, failedAt, "550 5.1.1 no such user"); err != nil {
			t.Fatal(err)
		}
		// A retry, as a sender that lost the answer might send, changes nothing.
		if err := f.s.RetryMail(f.ctx, []int64{bad.ID, good.ID}, now.Add(2*time.Minute), "421 later"); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.ClaimMail(f.ctx, now.Add(time.Hour), time.Minute, 10)
		if err != nil || mailKeys(got) != "good " {
			t.Fatalf("ClaimMail after giving one up: got %q, %v; want the other alone", mailKeys(got), err)
		}
		if q, s, err := f.s.MailCounts(f.ctx); err != nil || q != 1 || s != 0 {
			t.Errorf("MailCounts: got %d queued %d sent %v, want 1 and 0 (the given-up one is neither)", q, s, err)
		}
		// The row keeps why and when, for the operator.
		kept := ""
		d, ok := f.s.(store.Dumper)
		if !ok {
			t.Fatal("the store is no Dumper")
		}
		if err := d.Dump(f.ctx, func(tb *store.DumpTable, row []any) error {
			if tb.Name != "mail_queue" {
				return nil
			}
			v := map[string]any{}
			for i, c := range tb.Columns {
				v[c.Name] = row[i]
			}
			if v["key"] == "bad" {
				kept = fmt.Sprintf("%v|%v|%v", v["attempts"], v["last_error"], v["failed"] != nil)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if kept != "1|550 5.1.1 no such user|true" {
			t.Errorf("the given-up row: attempts|error|failed = %q, want 1|550 5.1.1 no such user|true", kept)
		}
		if n, err := f.s.PruneMail(f.ctx, failedAt); err != nil || n != 0 {
			t.Errorf("PruneMail before it failed: %d, %v; want nothing", n, err)
		}
		if n, err := f.s.PruneMail(f.ctx, failedAt.Add(time.Millisecond)); err != nil || n != 1 {
			t.Errorf("PruneMail after it failed: %d, %v; want the given-up message", n, err)
		}
		if got, err := f.s.ClaimMail(f.ctx, now.Add(2*time.Hour), time.Minute, 10); err != nil || mailKeys(got) != "good " {
			t.Errorf("ClaimMail after the prune: got %q, %v; want the other still queued", mailKeys(got), err)
		}
	}},
	{"a due message brings the rest of its group", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		f.enqueue(&store.QueuedMail{Key: "a", Group: "g1", Kind: "reply", To: "a@example.com", Created: now, NextTry: now.Add(time.Hour)})
		f.enqueue(&store.QueuedMail{Key: "b", Group: "g2", Kind: "reply", To: "b@example.com", Created: now, NextTry: now.Add(time.Hour)})
		f.enqueue(&store.QueuedMail{Key: "c", Group: "g1", Kind: "reply", To: "a@example.com", Created: now})
		f.enqueue(&store.QueuedMail{Key: "d", Kind: "signin", To: "d@example.com", Created: now})
		got, err := f.s.ClaimMail(f.ctx, now, time.Minute, 10)
		if err != nil || mailKeys(got) != "a c d " {
			t.Fatalf("ClaimMail: got %q, %v; want a c d (g1 whole, g2 not due)", mailKeys(got), err)
		}
	}},
	{"concurrent claims take each message once", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		const n = 60
		for i := range n {
			f.enqueue(&store.QueuedMail{Key: fmt.Sprint("k", i), Kind: "reply", To: "a@example.com", Created: now})
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					got, err := f.s.ClaimMail(f.ctx, now, time.Hour, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, id := range mailIDs(got) {
						seen[id]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d messages, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("message %d claimed %d times", id, c)
			}
		}
	}},
	{"notification settings default to on and round-trip", func(t *testing.T, f *fixture) {
		f.user("r1", parley.RoleReader, "")
		got, err := f.s.MailPrefs(f.ctx, []string{"r1", "ghost"})
		if err != nil || len(got) != 2 || got["r1"] != (store.MailPrefs{UserID: "r1"}) {
			t.Fatalf("MailPrefs: got %+v, %v; want the zero settings", got, err)
		}
		want := store.MailPrefs{UserID: "r1", NoReplies: true, AlertDigest: true, Updated: ms(2026, 12, 1, 9, 0, 0, 125)}
		if err := f.s.SetMailPrefs(f.ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = f.s.MailPrefs(f.ctx, []string{"r1"})
		if err != nil || got["r1"] != want {
			t.Errorf("MailPrefs: got %+v, %v; want %+v", got["r1"], err, want)
		}
		wantCode(t, f.s.SetMailPrefs(f.ctx, store.MailPrefs{UserID: "ghost"}), parley.ENotFound, "SetMailPrefs of an unknown user")
	}},
	{"a link token is used once", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		tok := &store.MailToken{Hash: "h1", Kind: "signin", UserID: "u1", Email: "a@example.com", Browser: "b1",
			Created: now, Expires: now.Add(15 * time.Minute)}
		create := func(tok *store.MailToken) error {
			_, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.CreateMailToken(tok) })
			return err
		}
		if err := create(tok); err != nil {
			t.Fatal(err)
		}
		wantCode(t, create(&store.MailToken{Hash: "h1", Kind: "signin", Email: "x@example.com", Expires: now}), parley.EConflict, "a second token with the hash")
		if err := create(&store.MailToken{Hash: "h2", Kind: "confirm", Email: "a@example.com", Created: now.Add(time.Minute), Expires: now}); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.MailToken(f.ctx, "h1")
		if err != nil || *got != *tok {
			t.Fatalf("MailToken: got %+v, %v; want %+v", got, err, tok)
		}
		_, err = f.s.MailToken(f.ctx, "nope")
		wantCode(t, err, parley.ENotFound, "MailToken of an unknown hash")
		if n, err := f.s.MailTokensSince(f.ctx, "signin", "a@example.com", now); err != nil || n != 1 {
			t.Errorf("MailTokensSince: got %d, %v; want 1", n, err)
		}
		if n, err := f.s.MailTokensSince(f.ctx, "signin", "a@example.com", now.Add(time.Second)); err != nil || n != 0 {
			t.Errorf("MailTokensSince later: got %d, %v; want 0", n, err)
		}

		use := func(hash string) error {
			_, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.UseMailToken(hash, now.Add(time.Minute)) })
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = use("h1") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantCode(t, err, parley.EConflict, "UseMailToken again")
			}
		}
		if ok != 1 {
			t.Errorf("UseMailToken by 8 at once: %d succeeded, want 1", ok)
		}
		wantCode(t, use("nope"), parley.ENotFound, "UseMailToken of an unknown hash")
		got, err = f.s.MailToken(f.ctx, "h1")
		if err != nil || !got.Used.Equal(now.Add(time.Minute)) {
			t.Errorf("MailToken after use: got %+v, %v", got, err)
		}
	}},
	{"users by e-mail, oldest first", func(t *testing.T, f *fixture) {
		f.user("b", "", "same@example.com")
		a := &parley.User{ID: "a", Name: "A", Email: "same@example.com", Role: parley.RoleReader, Created: ms(2026, 12, 1, 0, 0, 0, 0)}
		if err := f.s.CreateUser(f.ctx, a); err != nil {
			t.Fatal(err)
		}
		f.user("c", "", "other@example.com")
		got, err := f.s.UsersByEmail(f.ctx, "same@example.com")
		if err != nil || len(got) != 2 || got[0].ID != "b" || got[1].ID != "a" || got[0].Email != "same@example.com" {
			t.Fatalf("UsersByEmail: got %v, %v; want b then a", got, err)
		}
		if got, err := f.s.UsersByEmail(f.ctx, "nobody@example.com"); err != nil || len(got) != 0 {
			t.Errorf("UsersByEmail of an unknown address: got %v, %v", got, err)
		}
	}},
	{"old sent messages and expired tokens are pruned", func(t *testing.T, f *fixture) {
		now := ms(2026, 12, 1, 9, 0, 0, 0)
		old := &store.QueuedMail{Key: "old", Kind: "reply", To: "a@example.com", Created: now}
		fresh := &store.QueuedMail{Key: "fresh", Kind: "reply", To: "a@example.com", Created: now}
		unsent := &store.QueuedMail{Key: "unsent", Kind: "reply", To: "a@example.com", Created: now.Add(-time.Hour)}
		f.enqueue(old)
		f.enqueue(fresh)
		f.enqueue(unsent)
		if err := f.s.MarkMailSent(f.ctx, []int64{old.ID}, now, "<o@x>"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MarkMailSent(f.ctx, []int64{fresh.ID}, now.Add(2*time.Hour), "<f@x>"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []*store.MailToken{{Hash: "expired", Kind: "signin", Email: "a@example.com", Expires: now}, {Hash: "live", Kind: "signin", Email: "a@example.com", Expires: now.Add(2 * time.Hour)}} {
			if _, err := f.s.Update(f.ctx, func(tx store.Tx) error { return tx.CreateMailToken(tok) }); err != nil {
				t.Fatal(err)
			}
		}
		n, err := f.s.PruneMail(f.ctx, now.Add(time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("PruneMail: %d, %v; want 2 (the old message, the expired token)", n, err)
		}
		if q, s, err := f.s.MailCounts(f.ctx); err != nil || q != 1 || s != 1 {
			t.Errorf("after pruning: %d queued %d sent %v, want 1 and 1", q, s, err)
		}
		_, err = f.s.MailToken(f.ctx, "expired")
		wantCode(t, err, parley.ENotFound, "an expired token after pruning")
		if _, err := f.s.MailToken(f.ctx, "live"); err != nil {
			t.Errorf("a live token after pruning: %v", err)
		}
	}},
}
