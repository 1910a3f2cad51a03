package store

import (
	"context"
	"sync"
	"time"
)

// A moderator's action and its audit entry must commit together: an entry
// written after the change is lost when the process dies between the two,
// and the change then happened with nobody on record. WithAudit attaches an
// entry to a context; the first write a Store makes with that context
// inserts the entry in the same transaction as its change (both or
// neither), and later writes with the context leave it alone. Reads never
// touch it.
//
// The entry is complete before the write: its Before fields are what the
// caller read beforehand.

// auditKey is the context key of the pending entry.
type auditKey struct{}

// pendingAudit is an entry waiting for the write that records it.
type pendingAudit struct {
	mu       sync.Mutex
	a        *Action
	claimed  bool // a write holds it now
	recorded bool
}

// WithAudit returns ctx carrying the audit entry a. Once a write made with
// the returned context has committed, a.ID and a.Created are set.
func WithAudit(ctx context.Context, a *Action) context.Context {
	return context.WithValue(ctx, auditKey{}, &pendingAudit{a: a})
}

// AuditRecorded reports whether the entry attached to ctx has been
// recorded: false when there is none or its write has not committed.
func AuditRecorded(ctx context.Context) bool {
	p, _ := ctx.Value(auditKey{}).(*pendingAudit)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recorded
}

// ClaimAudit is for Store implementations: it returns the entry that a
// write made with ctx must insert in its transaction, or nil when there is
// none or another write has it, and a function the write must call when it
// is over: with committed true once its transaction has committed (a.ID
// and a.Created are then set from id and the stored time), with false when
// it failed, leaving the entry to the next write or attempt.
func ClaimAudit(ctx context.Context) (*Action, func(committed bool, id int64, created time.Time)) {
	p, _ := ctx.Value(auditKey{}).(*pendingAudit)
	if p == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recorded || p.claimed {
		return nil, nil
	}
	p.claimed = true
	return p.a, func(committed bool, id int64, created time.Time) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.claimed = false
		if committed {
			p.recorded = true
			p.a.ID, p.a.Created = id, created
		}
	}
}

// AuditPending reports whether ctx carries an audit entry that no write has
// recorded yet, for a store that takes a cheaper path without one.
func AuditPending(ctx context.Context) bool {
	p, _ := ctx.Value(auditKey{}).(*pendingAudit)
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.recorded
}
