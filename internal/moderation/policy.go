package moderation

import (
	"time"

	"github.com/parleyhq/parley"
)

// Moderation modes.
const (
	ModePost   = "post"    // publish unless a rule holds the comment (the default)
	ModePreNew = "pre_new" // hold readers' comments until they have PreNewMinApproved approved ones
	ModePreAll = "pre_all" // hold every comment for a moderator
)

// Policy is a site's comment policy. Its JSON form is what
// GET/PUT /api/v1/admin/sites/{site}/policy exchange. Decode a request body
// over DefaultPolicy() (or the current policy) so that omitted fields keep
// their values.
type Policy struct {
	// Mode is ModePost, ModePreNew or ModePreAll.
	Mode string `json:"mode"`
	// PreNewMinApproved is how many approved comments take a reader out of
	// pre-moderation in ModePreNew.
	PreNewMinApproved int `json:"pre_new_min_approved"`
	// Closed refuses new comments. The service enforces it (EForbidden)
	// before moderation runs; Decide ignores it.
	Closed bool `json:"closed"`
	// MaxLength rejects comments longer than this many characters (code
	// points); 0 means no limit.
	MaxLength int `json:"max_length"`
	// MaxLinks holds comments with more links than this; 0 holds any
	// comment with a link, -1 means no limit.
	MaxLinks int `json:"max_links"`
	// BannedWords reject a comment; SuspectWords hold it. See WordList for
	// the entry syntax.
	BannedWords  []string `json:"banned_words"`
	SuspectWords []string `json:"suspect_words"`
	// StarterPolicy applies Parley's starter policy (StarterPolicy(),
	// docs/starter-policy.md) beside the site's own lists: group slurs and
	// their disguises, and classic hateful phrases. On unless switched off.
	StarterPolicy bool `json:"starter_policy"`
	// ReportThreshold holds an approved comment for review once this many
	// distinct readers (weighted by their record) report it; 0 disables.
	// The service applies it.
	ReportThreshold int `json:"report_threshold"`
	// FloodPerMinute rejects a reader's comment when they already posted
	// this many in the last minute; FloodPerMinuteIP does the same per IP
	// address. 0 disables either.
	FloodPerMinute   int `json:"flood_per_minute"`
	FloodPerMinuteIP int `json:"flood_per_minute_ip"`
	// FloodDuplicateWindow, in seconds, rejects a reader's comment whose
	// text they already posted within the window; 0 disables.
	FloodDuplicateWindow int `json:"flood_duplicate_window"`
	// ToxicityHold holds a comment whose toxicity score is at least this;
	// ToxicityReject rejects it. 0 disables either. Both need a Scorer.
	ToxicityHold   float64 `json:"toxicity_hold"`
	ToxicityReject float64 `json:"toxicity_reject"`
	// AutoPremod sends readers whose recent comments are mostly rejected to
	// pre-moderation.
	AutoPremod AutoPremod `json:"auto_premod"`
}

// AutoPremod is the trust rule: a reader is pre-moderated while at least
// Rejected of their last Window moderated comments were rejected. Approvals
// push rejections out of the window, which releases them.
type AutoPremod struct {
	Window   int `json:"window"`   // moderated comments considered; 0 disables the rule
	Rejected int `json:"rejected"` // rejections among them that trigger it
}

// DefaultPolicy returns the policy of a new site: post-moderation, 5,000
// characters, at most 3 links, no word lists of its own but the starter
// policy, flood control at 5 comments a
// minute per reader and 20 per IP address, duplicates refused for an hour,
// toxicity held at 0.8 and never rejected automatically, and readers with 3
// of their last 5 comments rejected pre-moderated.
func DefaultPolicy() Policy {
	return Policy{
		Mode:                 ModePost,
		PreNewMinApproved:    3,
		MaxLength:            5000,
		MaxLinks:             3,
		BannedWords:          []string{},
		SuspectWords:         []string{},
		StarterPolicy:        true,
		ReportThreshold:      3,
		FloodPerMinute:       5,
		FloodPerMinuteIP:     20,
		FloodDuplicateWindow: 3600,
		ToxicityHold:         0.8,
		AutoPremod:           AutoPremod{Window: 5, Rejected: 3},
	}
}

// DuplicateWindow returns FloodDuplicateWindow as a duration.
func (p Policy) DuplicateWindow() time.Duration {
	return time.Duration(p.FloodDuplicateWindow) * time.Second
}

// Validate reports the first setting out of range as an *parley.Error with
// code EInvalid. Word-list entries are checked by Compile.
func (p Policy) Validate() error {
	bad := func(format string, args ...any) error { return parley.Errorf(parley.EInvalid, format, args...) }
	switch p.Mode {
	case ModePost, ModePreNew, ModePreAll:
	default:
		return bad("mode must be %q, %q or %q, not %q", ModePost, ModePreNew, ModePreAll, p.Mode)
	}
	switch {
	case p.PreNewMinApproved < 0 || p.PreNewMinApproved > 1000:
		return bad("pre_new_min_approved must be between 0 and 1000, not %d", p.PreNewMinApproved)
	case p.Mode == ModePreNew && p.PreNewMinApproved == 0:
		return bad("pre_new_min_approved must be at least 1 in mode %q", ModePreNew)
	case p.MaxLength < 0 || p.MaxLength > 100000:
		return bad("max_length must be between 0 (no limit) and 100000 characters, not %d", p.MaxLength)
	case p.MaxLinks < -1 || p.MaxLinks > 1000:
		return bad("max_links must be between -1 (no limit) and 1000, not %d", p.MaxLinks)
	case len(p.BannedWords) > MaxListEntries:
		return bad("banned_words has %d entries; the limit is %d", len(p.BannedWords), MaxListEntries)
	case len(p.SuspectWords) > MaxListEntries:
		return bad("suspect_words has %d entries; the limit is %d", len(p.SuspectWords), MaxListEntries)
	case p.ReportThreshold < 0 || p.ReportThreshold > 1000:
		return bad("report_threshold must be between 0 (off) and 1000, not %d", p.ReportThreshold)
	case p.FloodPerMinute < 0 || p.FloodPerMinute > 1000:
		return bad("flood_per_minute must be between 0 (off) and 1000, not %d", p.FloodPerMinute)
	case p.FloodPerMinuteIP < 0 || p.FloodPerMinuteIP > 10000:
		return bad("flood_per_minute_ip must be between 0 (off) and 10000, not %d", p.FloodPerMinuteIP)
	case p.FloodDuplicateWindow < 0 || p.FloodDuplicateWindow > 7*24*3600:
		return bad("flood_duplicate_window must be between 0 (off) and 604800 seconds (a week), not %d", p.FloodDuplicateWindow)
	case !(p.ToxicityHold >= 0 && p.ToxicityHold <= 1):
		return bad("toxicity_hold must be between 0 (off) and 1, not %g", p.ToxicityHold)
	case !(p.ToxicityReject >= 0 && p.ToxicityReject <= 1):
		return bad("toxicity_reject must be between 0 (off) and 1, not %g", p.ToxicityReject)
	case p.ToxicityHold > 0 && p.ToxicityReject > 0 && p.ToxicityReject < p.ToxicityHold:
		return bad("toxicity_reject (%g) must not be below toxicity_hold (%g)", p.ToxicityReject, p.ToxicityHold)
	case p.AutoPremod.Window < 0 || p.AutoPremod.Window > MaxRecent:
		return bad("auto_premod.window must be between 0 (off) and %d, not %d", MaxRecent, p.AutoPremod.Window)
	case p.AutoPremod.Window > 0 && (p.AutoPremod.Rejected < 1 || p.AutoPremod.Rejected > p.AutoPremod.Window):
		return bad("auto_premod.rejected must be between 1 and auto_premod.window (%d), not %d", p.AutoPremod.Window, p.AutoPremod.Rejected)
	}
	return nil
}

// PolicyOverride is a page's change to its site's policy: only the fields it
// sets (non-nil) replace the site's.
type PolicyOverride struct {
	Mode                 *string     `json:"mode,omitempty"`
	PreNewMinApproved    *int        `json:"pre_new_min_approved,omitempty"`
	Closed               *bool       `json:"closed,omitempty"`
	MaxLength            *int        `json:"max_length,omitempty"`
	MaxLinks             *int        `json:"max_links,omitempty"`
	BannedWords          *[]string   `json:"banned_words,omitempty"`
	SuspectWords         *[]string   `json:"suspect_words,omitempty"`
	StarterPolicy        *bool       `json:"starter_policy,omitempty"`
	ReportThreshold      *int        `json:"report_threshold,omitempty"`
	FloodPerMinute       *int        `json:"flood_per_minute,omitempty"`
	FloodPerMinuteIP     *int        `json:"flood_per_minute_ip,omitempty"`
	FloodDuplicateWindow *int        `json:"flood_duplicate_window,omitempty"`
	ToxicityHold         *float64    `json:"toxicity_hold,omitempty"`
	ToxicityReject       *float64    `json:"toxicity_reject,omitempty"`
	AutoPremod           *AutoPremod `json:"auto_premod,omitempty"`
}

// Apply returns p with the override's fields set. The result should be
// validated, as an override may combine badly with the site's settings.
func (o PolicyOverride) Apply(p Policy) Policy {
	set(&p.Mode, o.Mode)
	set(&p.PreNewMinApproved, o.PreNewMinApproved)
	set(&p.Closed, o.Closed)
	set(&p.MaxLength, o.MaxLength)
	set(&p.MaxLinks, o.MaxLinks)
	set(&p.BannedWords, o.BannedWords)
	set(&p.SuspectWords, o.SuspectWords)
	set(&p.StarterPolicy, o.StarterPolicy)
	set(&p.ReportThreshold, o.ReportThreshold)
	set(&p.FloodPerMinute, o.FloodPerMinute)
	set(&p.FloodPerMinuteIP, o.FloodPerMinuteIP)
	set(&p.FloodDuplicateWindow, o.FloodDuplicateWindow)
	set(&p.ToxicityHold, o.ToxicityHold)
	set(&p.ToxicityReject, o.ToxicityReject)
	set(&p.AutoPremod, o.AutoPremod)
	return p
}

// IsZero reports whether the override changes nothing.
func (o PolicyOverride) IsZero() bool { return o == PolicyOverride{} }

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
