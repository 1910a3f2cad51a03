package store

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Sort orders for the top-level comments of a thread. Replies always follow
// their parent, oldest first, so a conversation reads top to bottom.
const (
	SortOldest = "oldest"
	SortNewest = "newest"
	SortTop    = "top"
)

// Thread page sizes: the number of top-level comments per page.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// ThreadQuery selects one page of a thread as one reader sees it.
type ThreadQuery struct {
	PageID int64
	Viewer string // the reader's user id; "" for anonymous
	Sort   string // SortOldest (default), SortNewest or SortTop
	Limit  int    // top-level comments; 0 means DefaultLimit
	Cursor string // from the previous page's Thread.Cursor; "" for the first
}

// Thread is one page of a thread: top-level comments, each followed by its
// replies in depth-first order, and the cursor of the next page ("" when this
// is the last).
type Thread struct {
	Comments []*parley.Comment
	Cursor   string
}

// LoadThread reads a page's comments from s and builds q's view of them.
func LoadThread(ctx context.Context, s Store, q ThreadQuery) (*Thread, error) {
	all, err := s.PageComments(ctx, q.PageID)
	if err != nil {
		return nil, err
	}
	return BuildThread(all, q)
}

// BuildThread builds a reader's view of a page from all its comments ordered
// by number.
//
// Visibility: readers see approved comments; the viewer also sees their own
// pending comments. A comment they may not see that has a visible reply is kept
// as a placeholder with status deleted, no text and no author, so the
// conversation under it stays readable. Everything else is left out.
//
// Order: by the time comments were written (numbers break ties), so an
// import that numbers old comments after new ones cannot reorder the thread.
//
// Paging: the cursor is a position in the sort order (time and number, or
// score, time and number), not an offset, so comments added meanwhile never make a page repeat
// or skip one; only a score that changes between two requests moves a
// comment in the "top" order.
func BuildThread(all []*parley.Comment, q ThreadQuery) (*Thread, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	if q.Sort == "" {
		q.Sort = SortOldest
	}
	after, err := parseCursor(q.Sort, q.Cursor)
	if err != nil {
		return nil, err
	}

	// Visibility, bottom-up: replies are always created after their parent,
	// so walking numbers downwards sees every child before its parent.
	n := len(all)
	byID := make(map[int64]int, n)
	for i, c := range all {
		byID[c.ID] = i
	}
	visible := make([]bool, n)
	placeholder := make([]bool, n)
	replies := make([]int, n)
	for i := n - 1; i >= 0; i-- {
		c := all[i]
		own := c.Status == parley.StatusApproved ||
			(c.Status == parley.StatusPending && q.Viewer != "" && c.AuthorID == q.Viewer)
		if !own && replies[i] > 0 {
			placeholder[i] = true
		}
		visible[i] = own || placeholder[i]
		if visible[i] && c.ParentID != 0 {
			if p, ok := byID[c.ParentID]; ok {
				replies[p]++
			}
		}
	}

	children := make(map[int64][]int)
	var roots []int
	for i, c := range all {
		if !visible[i] {
			continue
		}
		if c.ParentID == 0 {
			roots = append(roots, i)
		} else if _, ok := byID[c.ParentID]; ok {
			children[c.ParentID] = append(children[c.ParentID], i)
		}
	}
	// Replies read oldest first, by time like the top level.
	for _, ks := range children {
		sort.SliceStable(ks, func(x, y int) bool { return earlier(all[ks[x]], all[ks[y]]) })
	}

	// Order is by time written, not by number: an import gives old
	// comments numbers after today's, and "newest" must still put today's
	// first. Numbers only break ties between comments of the same instant.
	less := func(a, b *parley.Comment) bool {
		switch q.Sort {
		case SortNewest:
			return earlier(b, a)
		case SortTop:
			if a.Score != b.Score {
				return a.Score > b.Score
			}
		}
		return earlier(a, b)
	}
	if after != nil && after.Created.IsZero() {
		// A cursor of the older form names only a number: continue after
		// that comment where it stands in time.
		for _, c := range all {
			if c.Number == after.Number {
				after.Created = c.Created
				break
			}
		}
	}
	sort.SliceStable(roots, func(x, y int) bool { return less(all[roots[x]], all[roots[y]]) })

	start := 0
	if after != nil {
		start = sort.Search(len(roots), func(k int) bool { return less(after, all[roots[k]]) })
	}
	end := start + q.Limit
	if end > len(roots) {
		end = len(roots)
	}

	t := &Thread{Comments: make([]*parley.Comment, 0, end-start)}
	var walk func(i int)
	walk = func(i int) {
		c := *all[i]
		c.Replies = replies[i]
		if placeholder[i] {
			c.Status = parley.StatusDeleted
			c.Text, c.HTML, c.AuthorID, c.AuthorName = "", "", "", ""
			c.Reasons = nil
		}
		t.Comments = append(t.Comments, &c)
		for _, k := range children[c.ID] {
			walk(k)
		}
	}
	for _, r := range roots[start:end] {
		walk(r)
	}
	if end < len(roots) {
		t.Cursor = formatCursor(q.Sort, all[roots[end-1]])
	}
	return t, nil
}

// earlier reports whether a was written before b, by time and then, for
// the same instant, by number.
func earlier(a, b *parley.Comment) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Number < b.Number
}

// formatCursor names the position of c in the sort order: the sort's
// initial, the score for "top", the time written (Unix nanoseconds) and the
// number, e.g. "n1764892800000000000_12" or "t3_1764892800000000000_12".
func formatCursor(sort string, c *parley.Comment) string {
	at := strconv.FormatInt(c.Created.UnixNano(), 10) + "_" + strconv.Itoa(c.Number)
	if sort == SortTop {
		return "t" + strconv.Itoa(c.Score) + "_" + at
	}
	return sort[:1] + at
}

// parseCursor returns the comment position the cursor stands for: nil for the
// first page, else a comment holding the Created time, Number (and Score) to
// continue after. A cursor of the older form, without the time ("o12",
// "t3_12"), gives a zero Created, which BuildThread looks up by number.
func parseCursor(sort, cur string) (*parley.Comment, error) {
	if cur == "" {
		return nil, nil
	}
	bad := parley.Errorf(parley.EInvalid, "cursor %q is not a cursor of a %s-sorted thread", cur, sort)
	if len(cur) > 60 || cur[0] != sort[0] {
		return nil, bad
	}
	parts := strings.Split(cur[1:], "_")
	c := &parley.Comment{}
	if sort == SortTop {
		if len(parts) < 2 {
			return nil, bad
		}
		score, err := strconv.Atoi(parts[0])
		if err != nil {
			return nil, bad
		}
		c.Score = score
		parts = parts[1:]
	}
	switch len(parts) {
	case 1:
	case 2:
		ns, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return nil, bad
		}
		c.Created = time.Unix(0, ns)
		parts = parts[1:]
	default:
		return nil, bad
	}
	num, err := strconv.Atoi(parts[0])
	if err != nil || num < 0 {
		return nil, bad
	}
	c.Number = num
	return c, nil
}

// ValidSort reports whether s names a sort order ("" means the default).
func ValidSort(s string) bool {
	return s == "" || s == SortOldest || s == SortNewest || s == SortTop
}
