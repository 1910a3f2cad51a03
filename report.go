package parley

import "time"

// ReportReasons lists the reasons a reader can give for "Report abuse".
var ReportReasons = []string{"abuse", "hate", "harassment", "threat", "spam", "off_topic", "other"}

// ValidReportReason reports whether r is one of ReportReasons.
func ValidReportReason(r string) bool {
	for _, x := range ReportReasons {
		if x == r {
			return true
		}
	}
	return false
}

// Report is one reader's "Report abuse" on a comment. A reader's repeated
// report of the same comment counts once.
type Report struct {
	ID         int64
	CommentID  int64
	ReporterID string
	Reason     string
	Note       string
	Outcome    string // "" while open, then ReportUpheld or ReportDismissed
	Created    time.Time
}

// Report outcomes, set when a moderator decides on the reported comment.
const (
	ReportUpheld    = "upheld"    // the moderator rejected the comment
	ReportDismissed = "dismissed" // the moderator approved the comment
)

// Vote is one reader's vote on a comment: +1, -1, or 0 to withdraw.
type Vote struct {
	CommentID int64
	UserID    string
	Value     int
}

// ReportOutcome is how a moderator's decision to give a comment a status
// resolves its open reports: upheld by a rejection or deletion, dismissed by
// an approval, "" (left open) otherwise.
func ReportOutcome(status string) string {
	switch status {
	case StatusRejected, StatusDeleted:
		return ReportUpheld
	case StatusApproved:
		return ReportDismissed
	}
	return ""
}
