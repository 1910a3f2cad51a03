package moderation

import "github.com/parleyhq/parley"

// MaxRecent is how many of a reader's latest moderated comments Trust.Recent
// needs to hold for the trust rule.
const MaxRecent = 10

// Trust is a reader's record as the service counts it.
type Trust struct {
	Approved             int // comments approved, by a rule or a moderator
	Rejected             int // comments rejected
	UpheldReportsAgainst int // reports against their comments that moderators upheld
	// Recent holds the statuses of their latest moderated comments, newest
	// first, up to MaxRecent; statuses other than approved and rejected
	// are skipped.
	Recent []string
	// Premoderated is set when a moderator put the reader in
	// pre-moderation by hand; every comment of theirs is held.
	Premoderated bool
}

// NeedsPremoderation reports whether a reader's record sends their comments to
// pre-moderation under the default policy: a moderator put them there, or at
// least 3 of their last 5 moderated comments were rejected. Approvals release
// them: after at most 3 approvals in a row, fewer than 3 of the last 5 are
// rejections. (An upheld report against a comment normally ends in that
// comment's rejection, so it counts through Recent.)
func NeedsPremoderation(t Trust) bool {
	return DefaultPolicy().AutoPremod.needs(t)
}

// needs applies the trust rule with these settings.
func (a AutoPremod) needs(t Trust) bool {
	if t.Premoderated {
		return true
	}
	rejected, _ := a.count(t)
	return a.Window > 0 && rejected >= a.Rejected
}

// count returns how many of the last Window moderated comments were rejected,
// and how many were considered.
func (a AutoPremod) count(t Trust) (rejected, seen int) {
	for _, s := range t.Recent {
		if seen == a.Window {
			break
		}
		switch s {
		case parley.StatusRejected:
			rejected++
		case parley.StatusApproved:
		default:
			continue
		}
		seen++
	}
	return rejected, seen
}
