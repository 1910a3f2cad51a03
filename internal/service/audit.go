package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Audit action names beyond the decisions (ActionApprove, ActionReject,
// ActionFeature, ActionUnfeature) and the sanctions (Sanction*).
const (
	AuditRejectPending = "reject_pending" // every pending comment of a reader on a site rejected
	AuditNote          = "note"           // a note on a reader
	AuditPolicy        = "policy"         // a site's policy replaced
	AuditDelete        = "delete"         // a comment removed by a moderator
)

// actorName returns who the audit log names for the actor.
func (a Actor) actorName() (id, name string) {
	if a.User != nil {
		return a.User.ID, a.User.Name
	}
	return "", "admin token"
}

// entry returns the audit entry of a moderator action, with the changed
// fields before and after (nil for none), for the action's unit of work to
// record with its change (store.Tx.AddAction): both or neither.
func (s *Service) entry(a Actor, e store.Action, before, after any) (*store.Action, error) {
	e.ActorID, e.ActorName = a.actorName()
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return nil, fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return nil, fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	e.Created = s.now()
	return &e, nil
}

// CommentAudit lists the audit entries of a comment, newest first, for a
// moderator of its site.
func (s *Service) CommentAudit(ctx context.Context, a Actor, id int64) ([]*store.Action, error) {
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
	return s.store.Actions(ctx, store.ActionQuery{CommentID: id, SiteID: p.SiteID})
}

// mayModerate returns EForbidden unless the actor moderates siteID.
func mayModerate(a Actor, siteID string) error {
	if !a.CanModerate(siteID) {
		return parley.Errorf(parley.EForbidden, "You may not moderate site %q.", siteID)
	}
	return nil
}
