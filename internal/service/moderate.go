package service

import (
	"context"
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
	note, err := cleanShort("note", in.Note, MaxNoteRunes)
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
	if c.Status == parley.StatusDeleted {
		return nil, parley.Errorf(parley.EConflict, "The comment was deleted by its author.")
	}
	// The audit entry commits with the change, in its unit of work; its
	// "before" is the comment as read above.
	entry := store.Action{Action: in.Action, CommentID: c.ID, UserID: c.AuthorID, SiteID: p.SiteID, Note: note}
	var before, after map[string]any
	status, reasons := parley.StatusApproved, []parley.Reason(nil)
	want := in.Action == ActionFeature
	switch in.Action {
	case ActionApprove, ActionReject:
		if in.Action == ActionReject {
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
		switch in.Action {
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
		out, err = tx.Comment(id)
		return err
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
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := s.Decide(ctx, a, id, in); err != nil {
			if code := parley.ErrorCode(err); code == parley.EInternal || code == parley.EUnavailable {
				return done, failed, fmt.Errorf("bulk %s of comment %d: %w", in.Action, id, err)
			}
			failed = append(failed, BulkFailure{ID: id, Err: err})
			continue
		}
		done++
	}
	return done, failed, nil
}
