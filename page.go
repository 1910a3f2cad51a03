package parley

import "time"

// Page is one article and its thread. A page is identified within its site by
// its canonical URL (see CanonicalURL), so one article has one thread.
type Page struct {
	ID      int64
	SiteID  string
	URL     string // canonical
	Title   string
	Closed  bool   // no new comments
	Count   int    // approved comments
	Policy  []byte // per-page policy overrides as JSON, nil for none; opaque to storage
	Created time.Time
}
