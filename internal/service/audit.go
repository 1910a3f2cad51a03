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

// audit records a moderator action with the changed fields before and
// after (nil for none).
func (s *Service) audit(ctx context.Context, a Actor, e store.Action, before, after any) error {
	e.ActorID, e.ActorName = a.actorName()
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	e.Created = s.now()
	if err := s.store.AddAction(ctx, &e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// audited returns ctx carrying the audit entry of a moderator action, with
// the changed fields before and after (nil for none): the first write made
// with the returned context records the entry in its own transaction, so
// that the change and its entry commit together (store.WithAudit). finish
// records the entry on its own when no write did, e.g. an action that
// changed nothing; call it after the writes.
func (s *Service) audited(ctx context.Context, a Actor, e store.Action, before, after any) (context.Context, func() error, error) {
	e.ActorID, e.ActorName = a.actorName()
	var err error
	if before != nil {
		if e.Before, err = json.Marshal(before); err != nil {
			return ctx, nil, fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	if after != nil {
		if e.After, err = json.Marshal(after); err != nil {
			return ctx, nil, fmt.Errorf("audit %s: %w", e.Action, err)
		}
	}
	e.Created = s.now()
	outer := ctx
	ctx = store.WithAudit(ctx, &e)
	finish := func() error {
		if !store.AuditPending(ctx) {
			return nil
		}
		if err := s.store.AddAction(outer, &e); err != nil {
			return fmt.Errorf("audit %s: %w", e.Action, err)
		}
		return nil
	}
	return ctx, finish, nil
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
