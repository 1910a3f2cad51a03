package sqlite

import (
	"container/list"
	"slices"
	"sync"

	"github.com/parleyhq/parley"
)

// DefaultCacheComments is the default size of the thread cache: about twenty
// busy 1,000-comment threads, some 25 MB.
const DefaultCacheComments = 20_000

// threadCache keeps the comments of recently read pages, each under the
// page's revision (pages.rev), which every change to the page's comments
// bumps in the same transaction. A reader that finds the revision it read
// from its snapshot in the cache gets the same rows the query would return,
// whichever process wrote them, so the cache is never stale; it only spares
// scanning the rows again. The least recently used pages go first when the
// cache holds more than max comments.
type threadCache struct {
	mu    sync.Mutex
	max   int
	size  int                     // comments held
	pages map[int64]*list.Element // page id → *cachedThread in lru
	lru   list.List               // most recently used first
}

type cachedThread struct {
	page     int64
	rev      int64
	comments []parley.Comment // never modified: get hands out copies
}

func newThreadCache(max int) *threadCache {
	return &threadCache{max: max, pages: make(map[int64]*list.Element)}
}

// get returns a copy of the comments of page at revision rev, if cached.
func (tc *threadCache) get(page, rev int64) ([]*parley.Comment, bool) {
	if tc == nil {
		return nil, false
	}
	tc.mu.Lock()
	e, ok := tc.pages[page]
	if !ok || e.Value.(*cachedThread).rev != rev {
		tc.mu.Unlock()
		return nil, false
	}
	tc.lru.MoveToFront(e)
	src := e.Value.(*cachedThread).comments
	tc.mu.Unlock()
	return copyComments(src), true
}

// put stores a copy of the comments of page at revision rev, unless a newer
// revision is cached already.
func (tc *threadCache) put(page, rev int64, cs []*parley.Comment) {
	if tc == nil || len(cs) > tc.max {
		return
	}
	own := make([]parley.Comment, len(cs))
	for i, c := range cs {
		own[i] = *c
		own[i].Reasons = cloneReasons(c.Reasons)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if e, ok := tc.pages[page]; ok {
		ct := e.Value.(*cachedThread)
		if ct.rev >= rev {
			return
		}
		tc.size -= len(ct.comments)
		tc.lru.Remove(e)
		delete(tc.pages, page)
	}
	tc.pages[page] = tc.lru.PushFront(&cachedThread{page: page, rev: rev, comments: own})
	tc.size += len(own)
	for tc.size > tc.max {
		e := tc.lru.Back()
		ct := e.Value.(*cachedThread)
		tc.lru.Remove(e)
		delete(tc.pages, ct.page)
		tc.size -= len(ct.comments)
	}
}

// copyComments returns fresh comments equal to src, which the caller may
// modify freely.
func copyComments(src []parley.Comment) []*parley.Comment {
	backing := slices.Clone(src)
	out := make([]*parley.Comment, len(backing))
	for i := range backing {
		backing[i].Reasons = cloneReasons(backing[i].Reasons)
		out[i] = &backing[i]
	}
	return out
}

func cloneReasons(rs []parley.Reason) []parley.Reason {
	if rs == nil {
		return nil
	}
	out := slices.Clone(rs)
	for i := range out {
		out[i].Spans = slices.Clone(out[i].Spans)
	}
	return out
}
