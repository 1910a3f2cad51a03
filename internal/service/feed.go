package service

import (
	"context"
	"sort"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// FeedLimit bounds a feed: its newest comments.
const FeedLimit = 50

// FeedEntry is one approved comment of a feed with its page.
type FeedEntry struct {
	Comment *parley.Comment
	Page    *parley.Page
}

// FeedView is the newest approved comments of a page (Page set) or of a
// whole site (Page nil), newest first, at most FeedLimit.
type FeedView struct {
	Site    *parley.Site
	Page    *parley.Page // ID 0 when the page has no comments yet
	Entries []FeedEntry
}

// PageFeed returns the newest approved comments of the page at rawURL.
func (s *Service) PageFeed(ctx context.Context, siteID, rawURL string) (*FeedView, error) {
	site, url, err := s.Canonical(ctx, siteID, rawURL)
	if err != nil {
		return nil, err
	}
	v := &FeedView{Site: site}
	page, err := s.store.Page(ctx, site.ID, url)
	if parley.ErrorCode(err) == parley.ENotFound {
		v.Page = &parley.Page{SiteID: site.ID, URL: url}
		return v, nil
	} else if err != nil {
		return nil, err
	}
	v.Page = page
	all, err := s.store.PageComments(ctx, page.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if c.Status == parley.StatusApproved {
			v.Entries = append(v.Entries, FeedEntry{Comment: c, Page: page})
		}
	}
	sort.SliceStable(v.Entries, func(i, j int) bool {
		return v.Entries[i].Comment.Created.After(v.Entries[j].Comment.Created)
	})
	if len(v.Entries) > FeedLimit {
		v.Entries = v.Entries[:FeedLimit]
	}
	return v, nil
}

// SiteFeed returns the newest approved comments of every page of a site.
func (s *Service) SiteFeed(ctx context.Context, siteID string) (*FeedView, error) {
	c, err := s.cachedSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	items, err := s.store.Queue(ctx, store.QueueQuery{SiteID: c.site.ID, Queue: store.QueueApproved, Limit: FeedLimit})
	if err != nil {
		return nil, err
	}
	v := &FeedView{Site: c.site}
	for _, it := range items {
		v.Entries = append(v.Entries, FeedEntry{Comment: it.Comment, Page: it.Page})
	}
	return v, nil
}
