package parley

import "time"

// Comment statuses.
const (
	StatusApproved = "approved" // visible to every reader
	StatusPending  = "pending"  // held for a moderator; visible to its author only
	StatusRejected = "rejected" // refused by a rule or a moderator; visible to moderators only
	StatusDeleted  = "deleted"  // removed by its author or a moderator; a placeholder while it has replies
)

// ValidStatus reports whether s is one of the comment statuses.
func ValidStatus(s string) bool {
	switch s {
	case StatusApproved, StatusPending, StatusRejected, StatusDeleted:
		return true
	}
	return false
}

// Comment is one reader's comment on a page.
type Comment struct {
	ID       int64
	PageID   int64
	ParentID int64 // 0 for a top-level comment
	RootID   int64 // the top-level ancestor; the comment's own ID when top-level
	QuoteID  int64 // the comment quoted, 0 if none
	Number   int   // per page, assigned at creation: #1, #2 …; never reused

	AuthorID   string
	AuthorName string
	IPHash     string // keyed hash of the poster's IP, for flood control; never exposed

	Featured bool // pinned by a moderator at the top of the thread
	Seen     bool // a moderator has looked at it (approved or rejected it explicitly)

	Text string // markdown as the author wrote it
	HTML string // rendered and sanitised at write time

	Status   string
	Reasons  []Reason // why it is held or rejected; empty when approved
	Toxicity float64  // model score in [0,1], 0 when no model ran

	Created time.Time
	Edited  time.Time // zero if never edited
	Score   int       // sum of votes
	Replies int       // direct replies visible to readers (filled by thread queries)
}

// IsTopLevel reports whether the comment starts a sub-thread.
func (c *Comment) IsTopLevel() bool { return c.ParentID == 0 }

// ApprovedDelta is the change of a page's approved count when a comment's
// status changes from old to new ("" for a new comment). Every store keeps
// the count with it.
func ApprovedDelta(old, new string) int {
	switch {
	case old != StatusApproved && new == StatusApproved:
		return 1
	case old == StatusApproved && new != StatusApproved:
		return -1
	}
	return 0
}
