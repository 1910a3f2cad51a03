package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Moderation actions on a comment.
const (
	ActionApprove   = "approve"
	ActionReject    = "reject"
	ActionFeature   = "feature"   // pin an approved comment at the top of its thread
	ActionUnfeature = "unfeature" // unpin it
)

// MaxBulk bounds the comments of one bulk decision.
const MaxBulk = 200

// Queue lists a moderation queue of a site the actor may moderate.
func (s *Service) Queue(ctx context.Context, a Actor, q store.QueueQuery) ([]*store.QueueItem, error) {
	if q.SiteID == "" {
		return nil, parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, q.SiteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, q.SiteID); err != nil {
		return nil, err
	}
	switch q.Queue {
	case store.QueuePending, store.QueueReported, store.QueueRejected, store.QueueApproved, store.QueueUnseen:
	case "":
		q.Queue = store.QueuePending
	default:
		return nil, parley.Errorf(parley.EInvalid, "status must be pending, reported, unmoderated, rejected or approved")
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	return s.store.Queue(ctx, q)
}

// QueueCounts returns the size of each queue of a site the actor moderates.
func (s *Service) QueueCounts(ctx context.Context, a Actor, siteID string) (map[string]int, error) {
	if siteID == "" {
		return nil, parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return nil, err
	}
	return s.store.QueueCounts(ctx, siteID)
}

// ModeratedSites lists the sites the actor may moderate.
func (s *Service) ModeratedSites(ctx context.Context, a Actor) ([]*parley.Site, error) {
	all, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	var out []*parley.Site
	for _, site := range all {
		if a.CanModerate(site.ID) {
			out = append(out, site)
		}
	}
	return out, nil
}

// DecideInput is a moderator's decision on one comment.
type DecideInput struct {
	Action string // ActionApprove, ActionReject, ActionFeature or ActionUnfeature
	Note   string // the moderator's reason, kept in the audit log
}

// Decide applies a moderator's decision to a comment of a site they
// moderate and records it in the audit log. Approving or rejecting resolves
// the comment's open reports (dismissed or upheld) and marks it seen;
// featuring needs an approved comment.
func (s *Service) Decide(ctx context.Context, a Actor, id int64, in DecideInput) (*parley.Comment, error) {
	switch in.Action {
	case ActionApprove, ActionReject, ActionFeature, ActionUnfeature:
	default:
		return nil, parley.Errorf(parley.EInvalid, "action must be approve, reject, feature or unfeature")
	}
	note, err := checkNote("note", in.Note, MaxNoteRunes)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.store.PageByID(ctx, c.PageID)
	if err != nil {
		return nil, err
	}
	if err := mayModerate(a, p.SiteID); err != nil {
		return nil, err
	}
	// With an Idempotency-Key, a retry gets the first answer and neither
	// changes nor audits anything again.
	input := map[string]any{"comment": id, "action": in.Action, "note": note}
	out, _, err := once(ctx, s, a, p.SiteID, "decision", input, func(k *keyed) (*parley.Comment, error) {
		return s.decide1(ctx, a, c, p, in.Action, note, k)
	})
	return out, err
}

// decide1 is Decide's write, once it has checked the actor may decide: it
// saves its outcome under k in its unit.
func (s *Service) decide1(ctx context.Context, a Actor, c *parley.Comment, p *parley.Page, action, note string, k *keyed) (*parley.Comment, error) {
	id := c.ID
	if c.Status == parley.StatusDeleted {
		return nil, parley.Errorf(parley.EConflict, "The comment was deleted by its author.")
	}
	// The audit entry commits with the change, in its unit of work; its
	// "before" is the comment as read above.
	entry := store.Action{Action: action, CommentID: c.ID, UserID: c.AuthorID, SiteID: p.SiteID, Note: note}
	var before, after map[string]any
	status, reasons := parley.StatusApproved, []parley.Reason(nil)
	want := action == ActionFeature
	switch action {
	case ActionApprove, ActionReject:
		if action == ActionReject {
			status, reasons = parley.StatusRejected, c.Reasons
		}
		before, after = map[string]any{"status": c.Status}, map[string]any{"status": status}
		if status == parley.StatusRejected && c.Featured {
			before["featured"], after["featured"] = true, false
		}
	case ActionFeature, ActionUnfeature:
		if want && c.Status != parley.StatusApproved {
			return nil, parley.Errorf(parley.EConflict, "Only a published comment can be featured.")
		}
		before, after = map[string]any{"featured": c.Featured}, map[string]any{"featured": want}
	}
	e, err := s.entry(a, entry, before, after)
	if err != nil {
		return nil, err
	}
	var out *parley.Comment
	err = s.update(ctx, func(tx store.Tx) error {
		switch action {
		case ActionApprove, ActionReject:
			if _, err := tx.SetStatus(id, status, reasons, true); err != nil {
				return err
			}
			// For webhooks; no PageID, so readers' streams do not hear it.
			if err := tx.Record(parley.Event{Type: parley.EventCommentModerated, SiteID: p.SiteID, CommentID: id}); err != nil {
				return err
			}
			if status == parley.StatusRejected && c.Featured {
				// A rejected comment is no longer pinned anywhere.
				if err := tx.SetFeatured(id, false); err != nil {
					return err
				}
			}
		case ActionFeature, ActionUnfeature:
			if err := tx.SetFeatured(id, want); err != nil {
				return err
			}
		}
		if err := tx.AddAction(e); err != nil {
			return err
		}
		var err error
		if out, err = tx.Comment(id); err != nil {
			return err
		}
		return k.save(tx, out, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BulkFailure is one comment a bulk decision could not apply.
type BulkFailure struct {
	ID  int64
	Err error
}

// Bulk approves or rejects many comments, each as Decide would; a failure
// on one comment does not stop the others. EInvalid for another action or
// more than MaxBulk ids.
func (s *Service) Bulk(ctx context.Context, a Actor, ids []int64, in DecideInput) (done int, failed []BulkFailure, err error) {
	if in.Action != ActionApprove && in.Action != ActionReject {
		return 0, nil, parley.Errorf(parley.EInvalid, "a bulk action must be approve or reject")
	}
	if len(ids) == 0 || len(ids) > MaxBulk {
		return 0, nil, parley.Errorf(parley.EInvalid, "give 1 to %d comment ids", MaxBulk)
	}
	// With an Idempotency-Key, each comment's decision is made once under
	// a key derived from it and the comment's id, so a retry after a lost
	// answer (or a crash half-way) decides and audits nothing again; the
	// whole answer is stored under the key itself once every comment has
	// been decided, which also refuses the key for another request.
	input := map[string]any{"ids": ids, "action": in.Action, "note": in.Note}
	res, _, err := once(ctx, s, a, "", "bulk", input, func(k *keyed) (*bulkOutcome, error) {
		var res bulkOutcome
		seen := make(map[int64]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			each := a
			if k != nil {
				each.IdempotencyKey = bulkItemKey(a.IdempotencyKey, id)
			}
			if _, err := s.Decide(ctx, each, id, in); err != nil {
				if code := parley.ErrorCode(err); code == parley.EInternal || code == parley.EUnavailable {
					return nil, fmt.Errorf("bulk %s of comment %d: %w", in.Action, id, err)
				}
				res.Failed = append(res.Failed, bulkFailed{ID: id, Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)})
				continue
			}
			res.Done++
		}
		if k == nil {
			return &res, nil
		}
		return &res, s.update(ctx, func(tx store.Tx) error { return k.save(tx, res, nil) })
	})
	if err != nil {
		return 0, nil, err
	}
	for _, f := range res.Failed {
		failed = append(failed, BulkFailure{ID: f.ID, Err: parley.Errorf(f.Code, "%s", f.Message)})
	}
	return res.Done, failed, nil
}

// bulkOutcome is the stored outcome of a bulk decision.
type bulkOutcome struct {
	Done   int
	Failed []bulkFailed
}

type bulkFailed struct {
	ID      int64
	Code    string
	Message string
}

// bulkItemKey is the idempotency key of one comment's decision in a bulk
// decision made with key: visible ASCII of a valid length, and no client's
// key (a client's key is its own, and a hash of it is no other).
func bulkItemKey(key string, id int64) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("parley bulk\x00%s\x00%d", key, id)))
	return hex.EncodeToString(h[:])
}
