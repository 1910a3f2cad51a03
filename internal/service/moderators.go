package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Audit entries of the staff an admin manages from the admin UI.
const (
	AuditStaffAdd    = "staff_add"
	AuditStaffRole   = "staff_role"
	AuditStaffRemove = "staff_remove"
)

// Moderators returns the staff who may moderate a site (its moderators
// and the admins), ordered by e-mail, to a moderator of the site.
func (s *Service) Moderators(ctx context.Context, a Actor, siteID string) ([]*parley.User, error) {
	if err := checkSiteID(siteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return nil, err
	}
	if _, err := s.store.Site(ctx, siteID); err != nil {
		return nil, err
	}
	all, err := s.store.StaffUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*parley.User
	for _, u := range all {
		if u.Role == parley.RoleAdmin || u.SiteID == "" || u.SiteID == siteID {
			out = append(out, u)
		}
	}
	return out, nil
}

// mayManageStaff refuses anyone but an admin.
func mayManageStaff(a Actor) error {
	if !a.isAdmin() {
		return parley.Errorf(parley.EForbidden, "Only an admin may add, change or remove moderators.")
	}
	return nil
}

// InviteModerator creates a staff account (AddStaff) with a one-time
// password for the admin to hand over, which is returned once and never
// stored in the clear, and records it in the audit log. Admins only.
func (s *Service) InviteModerator(ctx context.Context, a Actor, in StaffInput) (*parley.User, string, error) {
	if err := mayManageStaff(a); err != nil {
		return nil, "", err
	}
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	in.Password = base64.RawURLEncoding.EncodeToString(b)
	u, err := s.AddStaff(ctx, in)
	if err != nil {
		return nil, "", err
	}
	e, err := s.entry(a, store.Action{Action: AuditStaffAdd, UserID: u.ID, SiteID: u.SiteID}, nil,
		map[string]any{"email": u.Email, "role": u.Role, "site": u.SiteID})
	if err != nil {
		return nil, "", err
	}
	if err := s.update(ctx, func(tx store.Tx) error { return tx.AddAction(e) }); err != nil {
		return nil, "", err
	}
	s.staffChanged(ctx, u.SiteID, parley.RoleReader, u.Role)
	return u, in.Password, nil
}

// SetStaffRole makes a staff member a moderator of one site (siteID) or
// of every site (""), or an admin; role parley.RoleReader removes them
// from the staff and signs them out everywhere. Admins only; an admin
// cannot remove or demote themself. Audited in the change's unit of work.
func (s *Service) SetStaffRole(ctx context.Context, a Actor, userID, role, siteID string) (*parley.User, error) {
	if err := mayManageStaff(a); err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !u.IsStaff() {
		return nil, parley.Errorf(parley.EInvalid, "%s is not a moderator or admin", u.Name)
	}
	if a.User != nil && a.User.ID == u.ID && role != parley.RoleAdmin {
		return nil, parley.Errorf(parley.EInvalid, "You cannot demote or remove yourself; ask another admin.")
	}
	next := *u
	switch role {
	case parley.RoleAdmin:
		next.Role, next.SiteID = role, ""
	case parley.RoleModerator:
		if siteID != "" {
			if _, err := s.store.Site(ctx, siteID); err != nil {
				return nil, err
			}
		}
		next.Role, next.SiteID = role, siteID
	case parley.RoleReader:
		next.Role, next.SiteID = role, ""
	default:
		return nil, parley.Errorf(parley.EInvalid, "role must be %q, %q or %q (to remove)", parley.RoleModerator, parley.RoleAdmin, parley.RoleReader)
	}
	if next.Role == u.Role && next.SiteID == u.SiteID {
		return u, nil
	}
	action := AuditStaffRole
	if role == parley.RoleReader {
		action = AuditStaffRemove
	}
	e, err := s.entry(a, store.Action{Action: action, UserID: u.ID, SiteID: u.SiteID},
		map[string]any{"role": u.Role, "site": u.SiteID}, map[string]any{"role": next.Role, "site": next.SiteID})
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if _, err := changeUser(tx, u.ID, func(u *parley.User) { u.Role, u.SiteID = next.Role, next.SiteID }); err != nil {
			return err
		}
		return tx.AddAction(e)
	})
	if err != nil {
		return nil, err
	}
	// Every change of rights, up as well as down, ends their sessions: the
	// old ones carried the old rights, and a new right must come with a new
	// session id (one fixed or stolen before a promotion gains nothing).
	if _, err := s.store.RevokeStaffSessions(ctx, u.ID, ""); err != nil {
		return nil, err
	}
	s.staffChanged(ctx, u.SiteID, u.Role, next.Role)
	return &next, nil
}
