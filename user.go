package parley

import "time"

// Roles.
const (
	RoleReader    = "reader"
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
	// RoleStaff is a reader who works for the publisher (a journalist, an
	// editor): their comments carry a badge and others may not take their
	// name, but they have no moderation rights.
	RoleStaff = "staff"
)

// Badges shown beside an author's name in a thread.
const (
	BadgeStaff     = "staff"
	BadgeModerator = "moderator"
)

// User is a reader or a staff member. Anonymous readers are users too: they are
// created on their first post and identified by a signed session cookie.
type User struct {
	ID          string // random, URL-safe
	Name        string // display name
	Email       string // optional; never exposed publicly, never logged
	Role        string
	SiteID      string    // for a moderator: the one site they may act on; "" for all
	BannedUntil time.Time // zero when not banned; far future for a permanent ban
	Created     time.Time
	// Picture is the reader's avatar: an https URL from their SSO token or
	// OpenID provider, "" for none.
	Picture string
	// SessionsAfter revokes the reader's sessions issued before it (sign
	// out everywhere, a ban, a suspension); zero for none.
	SessionsAfter time.Time
	// OwnName: the reader chose Name themselves; their SSO or OpenID
	// sign-ins no longer replace it with the name their publisher or
	// provider sends.
	OwnName bool
}

// Banned reports whether the user may not post at time now.
func (u *User) Banned(now time.Time) bool {
	return !u.BannedUntil.IsZero() && now.Before(u.BannedUntil)
}

// IsStaff reports whether the user is a moderator or an admin.
func (u *User) IsStaff() bool { return u.Role == RoleModerator || u.Role == RoleAdmin }

// Badge is the badge shown beside the user's name in a thread: BadgeModerator
// for moderators and admins, BadgeStaff for the publisher's staff, "" for
// everyone else.
func (u *User) Badge() string {
	switch u.Role {
	case RoleModerator, RoleAdmin:
		return BadgeModerator
	case RoleStaff:
		return BadgeStaff
	}
	return ""
}
