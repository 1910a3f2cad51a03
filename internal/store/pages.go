package store

import (
	"time"

	"github.com/parleyhq/parley"
)

// PageQuery selects a site's pages for moderators (Store.Pages).
type PageQuery struct {
	SiteID string
	Search string       // a substring of the URL or title; "" for every page
	After  PagePosition // continue after this page; the zero value starts at the top
	Limit  int          // default 50
}

// PagePosition is a page's place in a listing of pages: its activity, then
// its id, both descending.
type PagePosition struct {
	Activity time.Time
	ID       int64 // 0 for the top of the listing
}

// PageActivity is a page with the time of its latest activity.
type PageActivity struct {
	Page *parley.Page
	// Activity is when the page's newest comment (the one with the highest
	// number, in any status) was written, or when the page was created if
	// it has none.
	Activity time.Time
}

// Position returns the page's place in a listing.
func (p PageActivity) Position() PagePosition {
	return PagePosition{Activity: p.Activity, ID: p.Page.ID}
}

// PageSettings are what moderators set on a page: whether it takes new
// comments, and its policy override.
type PageSettings struct {
	Closed bool
	Policy []byte // the override as JSON, nil for none; opaque to storage
}
