package service

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
)

// StaffInput describes a new moderator or admin account.
type StaffInput struct {
	Role     string // parley.RoleModerator or parley.RoleAdmin
	SiteID   string // for a moderator: the one site they moderate; "" for all
	Name     string
	Email    string
	Password string
}

// cleanEmail validates an e-mail address and returns it lower-cased, the
// form staff addresses are stored and looked up in.
func cleanEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", parley.Errorf(parley.EInvalid, "%q is not an e-mail address", email)
	}
	return strings.ToLower(email), nil
}

// AddStaff creates a moderator or admin account with a password. EInvalid
// for a bad role, address, name or password; ENotFound for an unknown site;
// EConflict when a staff member has the address.
func (s *Service) AddStaff(ctx context.Context, in StaffInput) (*parley.User, error) {
	switch in.Role {
	case parley.RoleModerator:
	case parley.RoleAdmin:
		if in.SiteID != "" {
			return nil, parley.Errorf(parley.EInvalid, "an admin acts on every site: leave the site out")
		}
	default:
		return nil, parley.Errorf(parley.EInvalid, "role must be %q or %q", parley.RoleAdmin, parley.RoleModerator)
	}
	if in.SiteID != "" {
		if _, err := s.store.Site(ctx, in.SiteID); err != nil {
			return nil, err
		}
	}
	name, err := cleanName(in.Name)
	if err != nil {
		return nil, err
	}
	email, err := cleanEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.store.Credentials(ctx, email); err == nil {
		return nil, parley.Errorf(parley.EConflict, "a staff member with the address %s exists", email)
	}
	hash, err := auth.HashPassword(in.Password, s.PasswordParams)
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "%v", err)
	}
	u := &parley.User{ID: auth.NewID(), Name: name, Email: email, Role: in.Role, SiteID: in.SiteID, Created: s.now()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash); err != nil {
		return nil, err
	}
	return u, nil
}

// SetStaffPassword replaces a staff member's password and signs them out
// everywhere. ENotFound for an unknown address.
func (s *Service) SetStaffPassword(ctx context.Context, email, password string) error {
	email, err := cleanEmail(email)
	if err != nil {
		return err
	}
	u, _, err := s.store.Credentials(ctx, email)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, s.PasswordParams)
	if err != nil {
		return parley.Errorf(parley.EInvalid, "%v", err)
	}
	if err := s.store.SetPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	_, err = s.store.RevokeStaffSessions(ctx, u.ID, "")
	return err
}

// StaffUsers lists the moderators and admins.
func (s *Service) StaffUsers(ctx context.Context) ([]*parley.User, error) {
	return s.store.StaffUsers(ctx)
}

// Login checks a staff member's credentials and opens a session. It returns
// the session token for the cookie (only its hash is stored) and when it
// expires. EUnauthorized for a wrong address or password, with the same
// message and about the same time either way.
func (s *Service) Login(ctx context.Context, email, password string) (*parley.User, string, time.Time, error) {
	bad := parley.Errorf(parley.EUnauthorized, "Wrong e-mail address or password.")
	email = strings.ToLower(strings.TrimSpace(email))
	u, hash, err := s.store.Credentials(ctx, email)
	if parley.ErrorCode(err) == parley.ENotFound {
		auth.CheckNoPassword(password)
		return nil, "", time.Time{}, bad
	} else if err != nil {
		return nil, "", time.Time{}, err
	}
	ok, err := auth.CheckPassword(hash, password)
	if err != nil || !ok {
		// An account without a password (err) cannot sign in either.
		return nil, "", time.Time{}, bad
	}
	token, expires, err := s.openStaffSession(ctx, u)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return u, token, expires, nil
}

// openStaffSession opens a session for a staff member who has proved who
// they are (a password, their OpenID provider) and returns its token.
func (s *Service) openStaffSession(ctx context.Context, u *parley.User) (string, time.Time, error) {
	token, tokenHash := auth.NewStaffToken()
	sess := &store.StaffSession{TokenHash: tokenHash, UserID: u.ID, Created: s.now(), Expires: s.now().Add(s.StaffSessionTTL)}
	if err := s.store.CreateStaffSession(ctx, sess); err != nil {
		return "", time.Time{}, fmt.Errorf("open staff session: %w", err)
	}
	// Sign-ins are rare: each clears out the sessions that ended.
	if _, err := s.store.PruneStaffSessions(ctx, s.now()); err != nil {
		s.Logger.Warn("prune staff sessions", "error", err.Error())
	}
	return token, sess.Expires, nil
}

// StaffSession returns the staff member signed in with a session token.
// EUnauthorized when the session is unknown, revoked or expired, or its
// user is no longer staff.
func (s *Service) StaffSession(ctx context.Context, token string) (*parley.User, error) {
	out := parley.Errorf(parley.EUnauthorized, "Your session has ended: sign in again.")
	if token == "" {
		return nil, out
	}
	sess, err := s.store.StaffSession(ctx, auth.HashStaffToken(token))
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, out
	} else if err != nil {
		return nil, err
	}
	if sess.Revoked || !s.now().Before(sess.Expires) {
		return nil, out
	}
	u, err := s.store.User(ctx, sess.UserID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil, out
	} else if err != nil {
		return nil, err
	}
	if !u.IsStaff() {
		return nil, out
	}
	return u, nil
}

// Logout revokes a staff session; an unknown or ended one is no error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := s.store.RevokeStaffSessions(ctx, "", auth.HashStaffToken(token))
	return err
}

// EndReaderSession ends a reader's session on the server (they signed out,
// or signed in over it): the cookie is refused afterwards, whoever replays
// it. An unknown reader is no error (their session is worthless already).
// Each end also prunes the ended sessions whose cookies have expired.
func (s *Service) EndReaderSession(ctx context.Context, sess auth.ReaderSession) error {
	if sess.UserID == "" {
		return nil
	}
	err := s.store.RevokeReaderSession(ctx, sess.Hash, sess.UserID, sess.Expires)
	if parley.ErrorCode(err) == parley.ENotFound {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := s.store.PruneReaderSessions(ctx, s.now()); err != nil {
		s.Logger.Warn("prune reader sessions", "error", err.Error())
	}
	return nil
}
