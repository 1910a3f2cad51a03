package store

import "github.com/parleyhq/parley"

// ImportBatch is a batch of comments brought from another system, with the
// users who wrote them, stored in one transaction (Store.Import).
type ImportBatch struct {
	SiteID string
	// Users are created when no user has their id; existing users are
	// left as they are.
	Users []*parley.User
	// Comments in the order they are to be numbered: a parent before its
	// replies (a parent later in the batch is not found).
	Comments []*ImportedComment
}

// ImportedComment is one comment of an import with its identity on the
// system it came from.
type ImportedComment struct {
	// Comment is stored as CreateComment would, with its Created, Edited,
	// Featured, Seen and Score kept (the score is the one the source
	// recorded; votes cast on Parley add to it). Its ParentID and QuoteID
	// are ignored: they come from ParentSourceID and QuoteSourceID. The
	// store sets ID, RootID, Number, ParentID and QuoteID.
	Comment *parley.Comment
	// Source names the system ("disqus", "wordpress", …) and SourceID the
	// comment there; the pair is unique per site and keeps an import
	// idempotent.
	Source   string
	SourceID string
	// ParentSourceID and QuoteSourceID name, by source id, the comment
	// replied to and the one quoted, imported earlier or before in this
	// batch from the same source. One that is not found, or is on another
	// page, is dropped: the comment becomes top-level, or quotes nothing.
	ParentSourceID string
	QuoteSourceID  string
	// Existing is set by Import when the source id had been imported
	// before: the comment was left as it is, and Comment.ID, Number,
	// RootID, ParentID and QuoteID are those of the stored comment.
	Existing bool
}

// ImportResult counts what an import batch stored.
type ImportResult struct {
	UsersCreated int
	Created      int // comments stored
	Existing     int // comments imported before, left as they were
}
