package service

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Sanction actions a moderator takes on a reader.
const (
	SanctionSuspend     = "suspend"     // refuse the reader's writes on the site for a duration
	SanctionBan         = "ban"         // refuse them for good: on the site, or everywhere (admins, no site)
	SanctionLift        = "lift"        // end a suspension or ban
	SanctionPremoderate = "premoderate" // hold every comment of the reader on the site
	SanctionRelease     = "release"     // end that
)

// permanent is how far away a ban ends: past any date a reader will see.
const permanent = 100 * 365 * 24 * time.Hour

// MaxSuspension bounds a suspension; longer is a ban.
const MaxSuspension = 5 * 365 * 24 * time.Hour

// SanctionInput is a moderator's sanction of a reader.
type SanctionInput struct {
	SiteID   string        // the site; "" for the global ban or lift, which only an admin may set
	Action   string        // one of the Sanction* actions
	Duration time.Duration // for SanctionSuspend
	Note     string
}

// Standing is a reader as moderators of one site see them: the user, with
// their global ban, and their sanction on the site.
type Standing struct {
	User     *parley.User
	Sanction store.Sanction
}

// isAdmin reports whether the actor acts as an admin on every site.
func (a Actor) isAdmin() bool { return a.Admin || (a.User != nil && a.User.Role == parley.RoleAdmin) }

// Sanction applies a sanction to a reader and records it in the audit log.
// A moderator sanctions on the sites they moderate (EForbidden elsewhere);
// the global ban (no site) is an admin's. EInvalid for a staff member, an
// unknown action or a missing duration; ENotFound for an unknown reader or
// site.
func (s *Service) Sanction(ctx context.Context, a Actor, userID string, in SanctionInput) (*Standing, error) {
	note, err := checkNote("note", in.Note, MaxNoteRunes)
	if err != nil {
		return nil, err
	}
	switch in.Action {
	case SanctionSuspend:
		if in.Duration <= 0 || in.Duration > MaxSuspension {
			return nil, parley.Errorf(parley.EInvalid, "a suspension needs a duration between 1s and %s, e.g. \"24h\"", MaxSuspension)
		}
	case SanctionBan, SanctionLift, SanctionPremoderate, SanctionRelease:
	default:
		return nil, parley.Errorf(parley.EInvalid, "action must be suspend, ban, lift, premoderate or release")
	}
	if in.SiteID == "" {
		if in.Action == SanctionPremoderate || in.Action == SanctionRelease || in.Action == SanctionSuspend {
			return nil, parley.Errorf(parley.EInvalid, "site is required")
		}
		if !a.isAdmin() {
			return nil, parley.Errorf(parley.EForbidden, "Only an admin may ban a reader from every site; give the site.")
		}
	} else {
		if _, err := s.Site(ctx, in.SiteID); err != nil {
			return nil, err
		}
		if err := mayModerate(a, in.SiteID); err != nil {
			return nil, err
		}
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.IsStaff() {
		return nil, parley.Errorf(parley.EInvalid, "Staff accounts cannot be sanctioned; change their role instead.")
	}
	// With an Idempotency-Key, a retry gets the first answer and neither
	// sanctions nor audits again.
	input := map[string]any{"user": u.ID, "site": in.SiteID, "action": in.Action, "duration": in.Duration, "note": note}
	st, _, err := once(ctx, s, a, in.SiteID, "sanction", input, func(k *keyed) (*Standing, error) {
		return s.sanction(ctx, a, u, in, note, k)
	})
	return st, err
}

// sanction is Sanction's write, once it has checked the actor may make
// it: it saves its outcome under k in its unit.
func (s *Service) sanction(ctx context.Context, a Actor, u *parley.User, in SanctionInput, note string, k *keyed) (*Standing, error) {
	now := s.now()
	entry := store.Action{Action: in.Action, UserID: u.ID, SiteID: in.SiteID, Note: note}
	if in.SiteID == "" {
		old := u.BannedUntil
		if in.Action == SanctionBan {
			u.BannedUntil = now.Add(permanent)
			if canSignInAgain(u) { // a ban signs them out everywhere (a guest's cookie is what it binds)
				u.SessionsAfter = revokeTime(now)
			}
		} else {
			u.BannedUntil = time.Time{}
		}
		after := map[string]any{"banned_until": timeOrNil(u.BannedUntil)}
		marks, err := s.sanctionMarks(ctx, u, "", in.Action, u.BannedUntil, after)
		if err != nil {
			return nil, err
		}
		e, err := s.entry(a, entry, map[string]any{"banned_until": timeOrNil(old)}, after)
		if err != nil {
			return nil, err
		}
		banned, revoke := u.BannedUntil, u.SessionsAfter
		err = s.update(ctx, func(tx store.Tx) error {
			// The ban and the revocation only: a rename or another
			// change stored since u was read is kept.
			got, err := changeUser(tx, u.ID, func(x *parley.User) {
				x.BannedUntil = banned
				if !revoke.IsZero() && revoke.After(x.SessionsAfter) {
					x.SessionsAfter = revoke
				}
			})
			if err != nil {
				return err
			}
			*u = *got
			if in.Action == SanctionBan {
				if err := tx.Record(parley.Event{Type: parley.EventReaderBanned, UserID: u.ID}); err != nil {
					return err
				}
			}
			if err := bindBan(tx, "", u.ID, now, marks); err != nil {
				return err
			}
			if err := tx.AddAction(e); err != nil {
				return err
			}
			return k.save(tx, &Standing{User: u, Sanction: store.Sanction{UserID: u.ID}}, nil)
		})
		if err != nil {
			return nil, err
		}
		return &Standing{User: u, Sanction: store.Sanction{UserID: u.ID}}, nil
	}

	old, err := s.store.Sanction(ctx, u.ID, in.SiteID)
	if err != nil {
		return nil, err
	}
	next := old
	next.Updated = now
	before, after := map[string]any{}, map[string]any{}
	switch in.Action {
	case SanctionSuspend, SanctionBan, SanctionLift:
		switch in.Action {
		case SanctionSuspend:
			next.SuspendedUntil = now.Add(in.Duration)
		case SanctionBan:
			next.SuspendedUntil = now.Add(permanent)
		default:
			next.SuspendedUntil = time.Time{}
		}
		before["suspended_until"], after["suspended_until"] = timeOrNil(old.SuspendedUntil), timeOrNil(next.SuspendedUntil)
	case SanctionPremoderate, SanctionRelease:
		next.Premoderated = in.Action == SanctionPremoderate
		before["premoderated"], after["premoderated"] = old.Premoderated, next.Premoderated
	}
	var marks []store.BanMark
	binds := in.Action == SanctionSuspend || in.Action == SanctionBan || in.Action == SanctionLift
	if binds {
		if marks, err = s.sanctionMarks(ctx, u, in.SiteID, in.Action, next.SuspendedUntil, after); err != nil {
			return nil, err
		}
	}
	e, err := s.entry(a, entry, before, after)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := tx.SetSanction(next); err != nil {
			return err
		}
		if (in.Action == SanctionBan || in.Action == SanctionSuspend) && canSignInAgain(u) {
			// A ban or a suspension signs out everywhere a reader who
			// can sign in again (a guest's cookie is what it binds).
			got, err := changeUser(tx, u.ID, func(x *parley.User) { x.SessionsAfter = revokeTime(now) })
			if err != nil {
				return err
			}
			*u = *got
		}
		if in.Action == SanctionBan || in.Action == SanctionSuspend {
			if err := tx.Record(parley.Event{Type: parley.EventReaderBanned, SiteID: in.SiteID, UserID: u.ID}); err != nil {
				return err
			}
		}
		if binds {
			if err := bindBan(tx, in.SiteID, u.ID, now, marks); err != nil {
				return err
			}
		}
		if err := tx.AddAction(e); err != nil {
			return err
		}
		return k.save(tx, &Standing{User: u, Sanction: next}, nil)
	})
	if err != nil {
		return nil, err
	}
	return &Standing{User: u, Sanction: next}, nil
}

// sanctionMarks returns the marks a ban or suspension until the time binds
// (none for a lift), and notes in the audit entry's after what they bind.
func (s *Service) sanctionMarks(ctx context.Context, u *parley.User, siteID, action string, until time.Time, after map[string]any) ([]store.BanMark, error) {
	// The marks of bans over for a day are of no use: bans are rare, and
	// each one clears them out.
	if _, err := s.store.PruneBanMarks(ctx, s.now().Add(-24*time.Hour)); err != nil {
		s.Logger.Warn("prune ban marks", "error", err.Error())
	}
	if action != SanctionBan && action != SanctionSuspend {
		after["bound"] = map[string]int{}
		return nil, nil
	}
	marks, counts, err := s.banMarks(ctx, u, siteID, until)
	if err != nil {
		return nil, err
	}
	after["bound"] = counts
	return marks, nil
}

// timeOrNil is a time for the audit log: null when zero.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// restrictions returns the actor's sanction on a site, and EForbidden with
// a message for the reader when a ban or suspension forbids writing there.
// Staff and the admin token have none.
func (s *Service) restrictions(ctx context.Context, a Actor, siteID string) (store.Sanction, error) {
	if a.User == nil || a.User.IsStaff() {
		return store.Sanction{}, nil
	}
	now := s.now()
	if a.User.Banned(now) {
		return store.Sanction{}, banned(a.User, now)
	}
	sn, err := s.store.Sanction(ctx, a.User.ID, siteID)
	if err != nil {
		return sn, err
	}
	return s.restricted(a, sn)
}

// restricted is restrictions with the actor's sanction on the site read
// already: sn, or the zero sanction for staff and for no actor.
func (s *Service) restricted(a Actor, sn store.Sanction) (store.Sanction, error) {
	if a.User == nil || a.User.IsStaff() {
		return store.Sanction{}, nil
	}
	now := s.now()
	if a.User.Banned(now) {
		return store.Sanction{}, banned(a.User, now)
	}
	if sn.Suspended(now) {
		if sn.SuspendedUntil.Sub(now) > 50*365*24*time.Hour {
			return sn, parley.Errorf(parley.EForbidden, "You are banned from commenting on this site.")
		}
		return sn, parley.Errorf(parley.EForbidden, "You are suspended from commenting on this site until %s.",
			sn.SuspendedUntil.UTC().Format("2 January 2006 15:04 MST"))
	}
	return sn, nil
}

// RejectPending rejects every pending comment of a reader on a site and
// records each in the audit log, with one entry for the reader. It returns
// how many were rejected.
func (s *Service) RejectPending(ctx context.Context, a Actor, userID, siteID, note string) (int, error) {
	note, err := checkNote("note", note, MaxNoteRunes)
	if err != nil {
		return 0, err
	}
	if siteID == "" {
		return 0, parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return 0, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return 0, err
	}
	if _, err := s.store.User(ctx, userID); err != nil {
		return 0, err
	}
	// With an Idempotency-Key, the summary entry commits with the key:
	// a retry gets the first answer and audits nothing again (a retry
	// after a crash half-way rejects what is still pending).
	input := map[string]string{"user": userID, "note": note}
	n, _, err := once(ctx, s, a, siteID, "reject_pending", input, func(k *keyed) (*int, error) {
		n := 0
		for {
			items, err := s.store.Queue(ctx, store.QueueQuery{Queue: store.QueuePending, SiteID: siteID, AuthorID: userID, Limit: 200})
			if err != nil {
				return &n, err
			}
			if len(items) == 0 {
				break
			}
			for _, it := range items {
				c := it.Comment
				e, err := s.entry(a, store.Action{Action: ActionReject, CommentID: c.ID, UserID: userID, SiteID: siteID, Note: note},
					map[string]any{"status": parley.StatusPending}, map[string]any{"status": parley.StatusRejected})
				if err != nil {
					return &n, err
				}
				err = s.update(ctx, func(tx store.Tx) error {
					if _, err := tx.SetStatus(c.ID, parley.StatusRejected, c.Reasons, true); err != nil {
						return err
					}
					return tx.AddAction(e)
				})
				if err != nil {
					return &n, err
				}
				n++
			}
		}
		e, err := s.entry(a, store.Action{Action: AuditRejectPending, UserID: userID, SiteID: siteID, Note: note}, nil, map[string]any{"rejected": n})
		if err != nil {
			return &n, err
		}
		return &n, s.update(ctx, func(tx store.Tx) error {
			if err := tx.AddAction(e); err != nil {
				return err
			}
			return k.save(tx, n, nil)
		})
	})
	if n == nil {
		return 0, err
	}
	return *n, err
}

// MaxNoteText bounds a moderator's note on a reader.
const MaxNoteText = 2000

// AddNote stores a moderator's note on a reader of a site they moderate.
func (s *Service) AddNote(ctx context.Context, a Actor, userID, siteID, text string) (*store.Note, error) {
	text, err := checkNote("text", text, MaxNoteText)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, parley.Errorf(parley.EInvalid, "text is required")
	}
	if siteID == "" {
		return nil, parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return nil, err
	}
	if _, err := s.store.User(ctx, userID); err != nil {
		return nil, err
	}
	input := map[string]string{"user": userID, "text": text}
	n, _, err := once(ctx, s, a, siteID, "note", input, func(k *keyed) (*store.Note, error) {
		id, name := a.actorName()
		n := &store.Note{UserID: userID, SiteID: siteID, AuthorID: id, AuthorName: name, Text: text, Created: s.now()}
		e, err := s.entry(a, store.Action{Action: AuditNote, UserID: userID, SiteID: siteID, Note: text}, nil, nil)
		if err != nil {
			return nil, err
		}
		err = s.update(ctx, func(tx store.Tx) error {
			if err := tx.AddNote(n); err != nil {
				return err
			}
			if err := tx.AddAction(e); err != nil {
				return err
			}
			return k.save(tx, n, nil)
		})
		return n, err
	})
	return n, err
}
