package service

import (
	"context"
	"sort"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// QueueEntry is a queue item with what a moderator needs to judge it at a
// glance: the comment it answers, its author's record and standing on the
// site, and its reports weighed.
type QueueEntry struct {
	Item    *store.QueueItem
	Parent  *parley.Comment // nil for a top-level comment
	Author  AuthorRecord
	Reports ReportAssessment
	// Priority orders the work queues: the weight of the open reports
	// plus the toxicity score (age breaks ties, oldest first).
	Priority float64
}

// AuthorRecord is a comment author's record and standing on a site.
type AuthorRecord struct {
	User     *parley.User // nil when the user no longer exists
	History  store.History
	Sanction store.Sanction
}

// QueueView lists a moderation queue like Queue, each item with its
// context (see QueueEntry).
func (s *Service) QueueView(ctx context.Context, a Actor, q store.QueueQuery) ([]*QueueEntry, error) {
	items, err := s.Queue(ctx, a, q)
	if err != nil {
		return nil, err
	}
	return s.enrich(ctx, q.SiteID, items)
}

func (s *Service) enrich(ctx context.Context, siteID string, items []*store.QueueItem) ([]*QueueEntry, error) {
	authors := map[string]AuthorRecord{}
	out := make([]*QueueEntry, 0, len(items))
	for _, it := range items {
		c := it.Comment
		e := &QueueEntry{Item: it, Priority: it.ReportWeight + c.Toxicity}
		if c.ParentID != 0 {
			p, err := s.store.Comment(ctx, c.ParentID)
			if err == nil {
				e.Parent = p
			} else if parley.ErrorCode(err) != parley.ENotFound {
				return nil, err
			}
		}
		rec, ok := authors[c.AuthorID]
		if !ok {
			var err error
			if rec, err = s.authorRecord(ctx, c.AuthorID, siteID); err != nil {
				return nil, err
			}
			authors[c.AuthorID] = rec
		}
		e.Author = rec
		var err error
		if e.Reports, err = s.assessReports(ctx, c, it.Reports); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Service) authorRecord(ctx context.Context, userID, siteID string) (AuthorRecord, error) {
	var rec AuthorRecord
	u, err := s.store.User(ctx, userID)
	if parley.ErrorCode(err) == parley.ENotFound {
		return rec, nil
	} else if err != nil {
		return rec, err
	}
	rec.User = u
	if rec.History, err = s.store.History(ctx, userID, 0); err != nil {
		return rec, err
	}
	rec.Sanction, err = s.store.Sanction(ctx, userID, siteID)
	return rec, err
}

// ReaderDetail is everything the moderators of a site know about a reader.
type ReaderDetail struct {
	Standing
	History  store.History
	Reporter store.ReporterRecord // their record as a reporter
	Notes    []*store.Note
	Actions  []*store.Action // audit entries about them on the site, newest first
	Comments []*QueueEntry   // their latest comments on the site, newest first
}

// readerComments bounds the comments ReaderDetail lists.
const readerComments = 30

// Reader returns a reader's detail for a moderator of siteID.
func (s *Service) Reader(ctx context.Context, a Actor, userID, siteID string) (*ReaderDetail, error) {
	if siteID == "" {
		return nil, parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return nil, err
	}
	if err := mayModerate(a, siteID); err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	d := &ReaderDetail{Standing: Standing{User: u}}
	if d.Sanction, err = s.store.Sanction(ctx, userID, siteID); err != nil {
		return nil, err
	}
	if d.History, err = s.store.History(ctx, userID, 0); err != nil {
		return nil, err
	}
	recs, err := s.store.ReporterRecords(ctx, []string{userID})
	if err != nil {
		return nil, err
	}
	d.Reporter = recs[userID]
	if d.Notes, err = s.store.Notes(ctx, userID, siteID); err != nil {
		return nil, err
	}
	if d.Actions, err = s.store.Actions(ctx, store.ActionQuery{UserID: userID, SiteID: siteID, Limit: 100}); err != nil {
		return nil, err
	}
	var items []*store.QueueItem
	for _, q := range []string{store.QueuePending, store.QueueApproved, store.QueueRejected} {
		its, err := s.store.Queue(ctx, store.QueueQuery{Queue: q, SiteID: siteID, AuthorID: userID, Limit: readerComments})
		if err != nil {
			return nil, err
		}
		items = append(items, its...)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].Comment, items[j].Comment
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID > b.ID
	})
	if len(items) > readerComments {
		items = items[:readerComments]
	}
	if d.Comments, err = s.enrich(ctx, siteID, items); err != nil {
		return nil, err
	}
	return d, nil
}

// CheckModerator returns ENotFound for an unknown site and EForbidden
// unless the actor moderates it.
func (s *Service) CheckModerator(ctx context.Context, a Actor, siteID string) error {
	if siteID == "" {
		return parley.Errorf(parley.EInvalid, "site is required")
	}
	if _, err := s.Site(ctx, siteID); err != nil {
		return err
	}
	return mayModerate(a, siteID)
}
