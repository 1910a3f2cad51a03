package store

import "time"

// SiteModel is a toxicity model tuned to one site's moderators, as stored:
// the per-site weights and their calibration in the toxicity package's
// site-model format, which the store keeps as opaque bytes. Only a site's
// current model is kept; every save gives it a new Version, which is how an
// instance knows its copy is stale.
type SiteModel struct {
	SiteID    string
	Version   int64     // 1 for the site's first model, then one more per save
	Model     []byte    // the tuned weights and calibration (toxicity.SiteModel.Save)
	Decisions int       // moderator decisions it was tuned on
	Base      string    // identifies the base model it adapts ("" when unknown)
	Created   time.Time // when it was saved
}

// DecisionQuery selects the moderators' decisions on a site's comments.
type DecisionQuery struct {
	SiteID  string
	Actions []string // audit actions that are decisions, e.g. "approve", "reject"
	Limit   int      // the most recent comments; default 1,000
}

// Decision is a moderator's latest decision on a comment.
type Decision struct {
	CommentID int64
	Action    string // the audit entry's action, one of DecisionQuery.Actions
	Text      string // the comment's text (markdown)
	Quote     string // the text of the comment it quotes, "" for none
	Decided   time.Time
}
