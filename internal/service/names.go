package service

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/textnorm"
)

// AuditRole names the audit entry of a reader made staff or a reader again.
const AuditRole = "role"

// Reserved names and badges. The publisher's staff, the moderators and the
// admins carry a badge in threads, and nobody else may take their display
// names, the site's name, or the generic staff words, in any spelling that
// textnorm.NameKey reads as the same name.

// reservedWords are names nobody but staff may take, whatever the site.
var reservedWords = []string{"admin", "administrator", "moderator", "moderators", "mod", "staff", "parley", "system"}

// namesTTL bounds how long the badge holders read from the store are
// reused; a change made on this instance forgets them at once.
const namesTTL = 30 * time.Second

// ReasonNameReserved is the parley.Error Reason of a refused reserved name.
const ReasonNameReserved = "name_reserved"

// nameCache holds the users with a badge.
type nameCache struct {
	mu  sync.Mutex
	at  time.Time
	set *badgeHolders
}

// badgeHolders are the users with a badge, by id and by name key.
type badgeHolders struct {
	badges map[string]string // user id → badge
	keys   map[string]string // name key → user id
}

// holders returns the badge holders, from a short-lived cache.
func (s *Service) holders(ctx context.Context) (*badgeHolders, error) {
	s.names.mu.Lock()
	defer s.names.mu.Unlock()
	if s.names.set != nil && s.Now().Sub(s.names.at) < namesTTL {
		return s.names.set, nil
	}
	users, err := s.store.UsersByRole(ctx, []string{parley.RoleStaff, parley.RoleModerator, parley.RoleAdmin})
	if err != nil {
		return nil, err
	}
	h := &badgeHolders{badges: make(map[string]string, len(users)), keys: make(map[string]string, len(users))}
	for _, u := range users {
		h.badges[u.ID] = u.Badge()
		if k := textnorm.NameKey(u.Name); k != "" {
			h.keys[k] = u.ID
		}
	}
	s.names.set, s.names.at = h, s.Now()
	return h, nil
}

// staffChanged forgets the badge holders when a user's role moved to or
// from one with a badge, and drops the cached threads of the site, whose
// comments show badges.
func (s *Service) staffChanged(ctx context.Context, siteID, oldRole, newRole string) {
	old, nu := parley.User{Role: oldRole}, parley.User{Role: newRole}
	if old.Badge() == "" && nu.Badge() == "" {
		return
	}
	s.names.mu.Lock()
	s.names.set = nil
	s.names.mu.Unlock()
	if siteID != "" {
		// site.updated has every instance drop the site's cached threads.
		err := s.update(ctx, func(tx store.Tx) error {
			return tx.Record(parley.Event{Type: parley.EventSiteUpdated, SiteID: siteID})
		})
		if err != nil {
			s.Logger.Warn("badge change not announced", "site", siteID, "err", err)
		}
	}
}

// Badges returns the badge of each of the authors that has one.
func (s *Service) Badges(ctx context.Context, authorIDs []string) (map[string]string, error) {
	h, err := s.holders(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, id := range authorIDs {
		if b := h.badges[id]; b != "" {
			out[id] = b
		}
	}
	return out, nil
}

// reservedName refuses name for u (nil for a new guest) on the site when it
// reads as a badge holder's name (not u's own), the site's name or id, or
// a reserved word. Badge holders may take any name.
func (s *Service) reservedName(ctx context.Context, siteID string, u *parley.User, name string) error {
	if u != nil && u.Badge() != "" {
		return nil
	}
	key := textnorm.NameKey(name)
	if key == "" {
		return nil
	}
	refuse := func() error {
		e := parley.Errorf(parley.EInvalid, "The name %q is reserved; choose another.", name)
		e.Reason = ReasonNameReserved
		return e
	}
	for _, w := range reservedWords {
		if key == textnorm.NameKey(w) {
			return refuse()
		}
	}
	if siteID != "" {
		site, err := s.Site(ctx, siteID)
		if err != nil {
			return err
		}
		if key == textnorm.NameKey(site.Name) || key == textnorm.NameKey(site.ID) {
			return refuse()
		}
	}
	h, err := s.holders(ctx)
	if err != nil {
		return err
	}
	if id, ok := h.keys[key]; ok && (u == nil || id != u.ID) {
		return refuse()
	}
	return nil
}

// postName checks the display name a reader sends with a comment, before
// it is stored as theirs: a new name must not be reserved. A name the
// reader already has is kept.
func (s *Service) postName(ctx context.Context, a Actor, siteID, name string) error {
	if name == "" {
		return nil
	}
	clean, err := cleanName(name)
	if err != nil {
		return err
	}
	if a.User != nil && (clean == a.User.Name || IsSSOReader(a.User.ID)) {
		return nil // kept, or ignored (ensureReader)
	}
	return s.reservedName(ctx, siteID, a.User, clean)
}

// SetRole makes a reader one of the publisher's staff (parley.RoleStaff)
// or a plain reader again: admins only, audited, ending the reader's
// sessions (see SessionRevoked) when they can sign in again. Moderators and admins are
// made with AddStaff. ENotFound.
func (s *Service) SetRole(ctx context.Context, a Actor, userID, role string) (*parley.User, error) {
	if !a.Admin && (a.User == nil || a.User.Role != parley.RoleAdmin) {
		return nil, parley.Errorf(parley.EForbidden, "Only an admin may change a reader's role.")
	}
	if role != parley.RoleStaff && role != parley.RoleReader {
		return nil, parley.Errorf(parley.EInvalid, "role must be %q or %q (moderators are added with parley user add)", parley.RoleStaff, parley.RoleReader)
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.IsStaff() {
		return nil, parley.Errorf(parley.EInvalid, "%s is a %s; their role is not changed here", u.Name, u.Role)
	}
	if u.Role == role {
		return u, nil
	}
	next := *u
	next.Role = role
	// A change of rights is a new session: every session issued before
	// stops counting, and the reader signs in again (a guest's cookie is
	// their only way in, and roles are read at every request anyway).
	revoke := canSignInAgain(u)
	if revoke {
		next.SessionsAfter = revokeTime(s.now())
	}
	e, err := s.entry(a, store.Action{Action: AuditRole, UserID: userID}, map[string]any{"role": u.Role}, map[string]any{"role": role})
	if err != nil {
		return nil, err
	}
	// The badge shows on every site the reader wrote on: site.updated for
	// each, in the same unit, has every instance drop their cached threads.
	sites, err := s.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := &next
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = changeUser(tx, u.ID, func(x *parley.User) {
			x.Role = role
			if revoke {
				x.SessionsAfter = next.SessionsAfter
			}
		})
		if err != nil {
			return err
		}
		if err := tx.AddAction(e); err != nil {
			return err
		}
		evs := make([]parley.Event, 0, len(sites))
		for _, site := range sites {
			evs = append(evs, parley.Event{Type: parley.EventSiteUpdated, SiteID: site.ID})
		}
		return tx.Record(evs...)
	})
	s.staffChanged(ctx, "", u.Role, role)
	if err != nil {
		return nil, err
	}
	return out, nil
}
