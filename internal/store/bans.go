package store

import (
	"sort"
	"time"
)

// BanMark binds a ban to something the banned reader cannot shed by
// deleting a cookie. A new reader whose post matches a mark in force is
// likely the same person as the banned reader: the service holds their
// comments and tells the moderator why. Marks keep no address or e-mail in
// the clear: the service stores keyed hashes (see MarkAddress, MarkEmail).
type BanMark struct {
	ID       int64
	SiteID   string // "" for a ban on every site
	BannedID string // the banned reader
	Kind     string // one of the Mark* kinds
	Value    string
	Seen     time.Time // when the banned reader last used it (zero: unknown)
	Created  time.Time
	Expires  time.Time // the mark is in force before this time
}

// BanMark kinds.
const (
	MarkAddress = "address" // keyed hash of an IPv4 address or of an IPv6 /64
	MarkEmail   = "email"   // keyed hash of the lower-cased e-mail address
	MarkName    = "name"    // textnorm.NameKey of the display name
	MarkText    = "text"    // a near-duplicate signature of one comment's text
)

// MarkKinds lists the BanMark kinds.
var MarkKinds = []string{MarkAddress, MarkEmail, MarkName, MarkText}

// AuthorQuery selects one author's recent comments.
type AuthorQuery struct {
	AuthorID string
	SiteID   string    // "" for every site
	Since    time.Time // created at or after
	Limit    int       // default 50, at most 1,000
}

// CommentSearch selects a site's comments for moderators (any status but
// deleted): each field that is set must match.
type CommentSearch struct {
	SiteID string
	Text   string // the text contains it (ASCII letters in either case at least)
	Author string // the author's id, or a part of their name
	PageID int64
	Limit  int // default 50, at most 200
	Offset int
}

// DayStats is one UTC day of a site's moderation workload.
type DayStats struct {
	Day       time.Time // midnight UTC
	Comments  int       // comments posted
	Held      int       // of them, held or refused by a rule when posted (they carry reasons)
	Reports   int       // reports made
	Decisions int       // moderators' approvals and rejections
	Overturns int       // of them, an approval of a held or rejected comment, or a rejection of a published one
}

// SiteStats is a site's workload since a time, day by day, oldest first
// (days without activity are absent), with its queue now.
type SiteStats struct {
	Days          []DayStats
	Pending       int       // comments held now
	OldestPending time.Time // when the oldest of them was posted; zero when none
}

// SortDays returns the days of a backend's Stats, oldest first.
func SortDays(days map[int64]*DayStats) []DayStats {
	out := make([]DayStats, 0, len(days))
	for _, d := range days {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out
}
