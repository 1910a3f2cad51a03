package parley

// Event types sent to live streams.
const (
	EventCommentCreated = "comment.created" // a comment became visible
	EventCommentUpdated = "comment.updated" // edited, or its score changed
	EventCommentRemoved = "comment.removed" // rejected or deleted
	EventPageCount      = "page.count"      // the page's approved count changed
	EventPageUpdated    = "page.updated"    // a moderator closed or reopened the page or changed its policy
	EventQueueChanged   = "queue.changed"   // the moderation queue of a site changed
	EventSiteUpdated    = "site.updated"    // a site was created or its settings or policy changed (PageID is 0)
	EventSiteModel      = "site.model"      // a site's tuned toxicity model was saved (PageID is 0)

	// Events for webhooks, beside those above. Those that concern the
	// moderators alone carry no PageID, so that no reader's stream of the
	// page hears of them.
	EventCommentModerated = "comment.moderated" // a moderator approved or rejected a comment (PageID is 0)
	EventReportCreated    = "report.created"    // a reader reported a comment (PageID is 0)
	EventReaderBanned     = "reader.banned"     // a reader was banned or suspended (UserID set; SiteID "" for every site)
	EventPageClosed       = "page.closed"       // a moderator closed a page to new comments
	EventBansChanged      = "site.bans"         // a reader was banned, suspended or let back on the site ("" for every site; PageID is 0)
	EventWebhooksChanged  = "site.webhooks"     // a webhook endpoint of the site was added or deleted (PageID is 0)
)

// Event is something that happened to a page, to a site's moderation queue
// or to a site's settings. Events carry ids, not content: subscribers read
// the current state.
type Event struct {
	ID        int64 // monotonically increasing per store; resumes streams (Last-Event-ID)
	Type      string
	SiteID    string
	PageID    int64
	CommentID int64
	UserID    string // the reader concerned, for reader.banned; "" otherwise
}

// StatusEvents returns the events a change of a comment's status from old to
// new raises ("" for old when the comment is new). Readers see approved
// comments, so a change into or out of StatusApproved is visible on the page;
// every change concerns the moderation queue.
func StatusEvents(siteID string, pageID, commentID int64, old, new string) []Event {
	var evs []Event
	add := func(typ string) {
		evs = append(evs, Event{Type: typ, SiteID: siteID, PageID: pageID, CommentID: commentID})
	}
	switch {
	case old != StatusApproved && new == StatusApproved:
		add(EventCommentCreated)
		add(EventPageCount)
	case old == StatusApproved && new != StatusApproved:
		add(EventCommentRemoved)
		add(EventPageCount)
	}
	if old != new && !(old == "" && new == StatusApproved) {
		add(EventQueueChanged)
	}
	return evs
}
