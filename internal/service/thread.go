package service

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// ThreadRequest asks for one page of a thread as one reader sees it.
type ThreadRequest struct {
	SiteID string
	URL    string
	Viewer string // reader id, "" when anonymous
	Sort   string
	Limit  int
	Cursor string
}

// ThreadView is a page of a thread with everything the read path renders.
type ThreadView struct {
	Site   *parley.Site
	Page   *parley.Page // a page with no comments yet has ID 0 and is not stored
	Thread *store.Thread
	// Quotes holds each comment quoted on this page of the thread, as the
	// viewer may see it: nil values are quotes of comments no longer shown.
	Quotes map[int64]*parley.Comment
	// PendingAuthors lists readers who have pending comments on the page:
	// their view differs from everyone else's.
	PendingAuthors map[string]bool
	// Closed tells that new comments are refused: the page's flag or its
	// site's (or override's) policy.
	Closed bool
	// Badges holds the badge of each author on this page of the thread
	// who has one (parley.User.Badge): part of the comments' author data,
	// the same for every viewer.
	Badges map[string]string
	// Pictures holds the picture (avatar URL) of each author on this page
	// of the thread who has one (parley.User.Picture).
	Pictures map[string]string
}

// Canonical returns the canonical URL of rawURL on siteID.
func (s *Service) Canonical(ctx context.Context, siteID, rawURL string) (*parley.Site, string, error) {
	c, err := s.cachedSite(ctx, siteID)
	if err != nil {
		return nil, "", err
	}
	u, err := c.canonical(rawURL)
	return c.site, u, err
}

// Thread returns one page of a thread.
func (s *Service) Thread(ctx context.Context, r ThreadRequest) (*ThreadView, error) {
	if !store.ValidSort(r.Sort) {
		return nil, parley.Errorf(parley.EInvalid, "sort must be oldest, newest or top")
	}
	if r.Limit < 0 || r.Limit > store.MaxLimit {
		return nil, parley.Errorf(parley.EInvalid, "limit must be between 1 and %d", store.MaxLimit)
	}
	site, url, err := s.Canonical(ctx, r.SiteID, r.URL)
	if err != nil {
		return nil, err
	}
	v := &ThreadView{Site: site, PendingAuthors: map[string]bool{}, Quotes: map[int64]*parley.Comment{}}
	page, err := s.store.Page(ctx, site.ID, url)
	if parley.ErrorCode(err) == parley.ENotFound {
		v.Page = &parley.Page{SiteID: site.ID, URL: url}
		v.Thread = &store.Thread{}
		if _, err := store.BuildThread(nil, store.ThreadQuery{Sort: r.Sort, Cursor: r.Cursor}); err != nil {
			return nil, err
		}
		if v.Closed, err = s.closed(site, nil); err != nil {
			return nil, err
		}
		return v, nil
	} else if err != nil {
		return nil, err
	}
	v.Page = page
	if v.Closed, err = s.closed(site, page); err != nil {
		return nil, err
	}
	all, err := s.store.PageComments(ctx, page.ID)
	if err != nil {
		return nil, err
	}
	v.Thread, err = store.BuildThread(all, store.ThreadQuery{
		PageID: page.ID, Viewer: r.Viewer, Sort: r.Sort, Limit: r.Limit, Cursor: r.Cursor,
	})
	if err != nil {
		return nil, err
	}
	authors := make([]string, 0, len(v.Thread.Comments))
	for _, c := range v.Thread.Comments {
		authors = append(authors, c.AuthorID)
	}
	if v.Badges, err = s.Badges(ctx, authors); err != nil {
		return nil, err
	}
	if v.Pictures, err = s.pictures(ctx, authors); err != nil {
		return nil, err
	}
	byID := make(map[int64]*parley.Comment, len(all))
	for _, c := range all {
		byID[c.ID] = c
		if c.Status == parley.StatusPending {
			v.PendingAuthors[c.AuthorID] = true
		}
	}
	for _, c := range v.Thread.Comments {
		if c.QuoteID == 0 || c.Status == parley.StatusDeleted {
			continue
		}
		q := byID[c.QuoteID]
		visible := q != nil && (q.Status == parley.StatusApproved ||
			(q.Status == parley.StatusPending && r.Viewer != "" && q.AuthorID == r.Viewer))
		if visible {
			v.Quotes[c.QuoteID] = q
		} else {
			v.Quotes[c.QuoteID] = nil
		}
	}
	return v, nil
}

// QuotedNumber returns the number of a quoted comment for its placeholder.
func (s *Service) QuotedNumber(ctx context.Context, id int64) int {
	c, err := s.store.Comment(ctx, id)
	if err != nil {
		return 0
	}
	return c.Number
}

// Counts returns the approved-comment counts of article URLs on a site, keyed
// by the URLs as given.
func (s *Service) Counts(ctx context.Context, siteID string, urls []string) (map[string]int, error) {
	site, err := s.Site(ctx, siteID)
	if err != nil {
		return nil, err
	}
	canon := make(map[string][]string, len(urls))
	var list []string
	for _, u := range urls {
		c, err := parley.CanonicalURL(u, site.IgnoreParams)
		if err != nil {
			return nil, err
		}
		if _, ok := canon[c]; !ok {
			list = append(list, c)
		}
		canon[c] = append(canon[c], u)
	}
	got, err := s.store.Counts(ctx, site.ID, list)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(urls))
	for c, raws := range canon {
		for _, raw := range raws {
			out[raw] = got[c]
		}
	}
	return out, nil
}

// Me returns a reader's votes on a page, for the personal overlay.
func (s *Service) Me(ctx context.Context, viewer *parley.User, siteID, rawURL string) (map[int64]int, error) {
	site, url, err := s.Canonical(ctx, siteID, rawURL)
	if err != nil {
		return nil, err
	}
	page, err := s.store.Page(ctx, site.ID, url)
	if parley.ErrorCode(err) == parley.ENotFound {
		return map[int64]int{}, nil
	} else if err != nil {
		return nil, err
	}
	return s.store.Votes(ctx, page.ID, viewer.ID)
}
