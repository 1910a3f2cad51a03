package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// commentCols are read by scanComment, in this order.
const commentCols = `id, page_id, parent_id, root_id, quote_id, number, author_id, author_name, ip_hash,
	featured, seen, text, html, status, reasons, toxicity, created, edited, score`

// numCommentCols is the number of commentCols.
const numCommentCols = 19

// CreateComment stores a new comment and assigns its ID, RootID, Number and
// Created (when zero). The number comes from pages.last_number, incremented
// in the same transaction: the writer is the only one, so numbers are
// unique and increasing per page, and a number is never handed out twice
// because comment rows are never deleted.
func (db *DB) CreateComment(ctx context.Context, c *parley.Comment) error {
	return db.write(ctx, func(w *wtx) error { return w.CreateComment(c) })
}

// CreateComment is DB.CreateComment in the unit of w.
func (w *wtx) CreateComment(c *parley.Comment) error {
	if !parley.ValidStatus(c.Status) {
		return parley.Errorf(parley.EInvalid, "unknown comment status %q", c.Status)
	}
	reasons, err := encodeReasons(c.Reasons)
	if err != nil {
		return err
	}
	created := c.Created
	if created.IsZero() {
		created = w.db.now()
	}
	var id, root int64
	var number int
	err = func() error {
		var site string
		err := w.queryRow(`SELECT site_id FROM pages WHERE id = ?`, c.PageID).Scan(&site)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "page %d not found", c.PageID)
		} else if err != nil {
			return fmt.Errorf("read page: %w", err)
		}
		root = 0
		if c.ParentID != 0 {
			var page int64
			err := w.queryRow(`SELECT page_id, CASE root_id WHEN 0 THEN id ELSE root_id END FROM comments WHERE id = ?`,
				c.ParentID).Scan(&page, &root)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && page != c.PageID) {
				return parley.Errorf(parley.EInvalid, "the comment replied to (%d) is not on this page", c.ParentID)
			} else if err != nil {
				return fmt.Errorf("read parent: %w", err)
			}
		}
		if c.QuoteID != 0 {
			var page int64
			err := w.queryRow(`SELECT page_id FROM comments WHERE id = ?`, c.QuoteID).Scan(&page)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && page != c.PageID) {
				return parley.Errorf(parley.EInvalid, "the comment quoted (%d) is not on this page", c.QuoteID)
			} else if err != nil {
				return fmt.Errorf("read quoted comment: %w", err)
			}
		}
		if err := w.queryRow(`UPDATE pages SET last_number = last_number + 1, rev = rev + 1, count = count + ?
			WHERE id = ? RETURNING last_number`, parley.ApprovedDelta("", c.Status), c.PageID).Scan(&number); err != nil {
			return fmt.Errorf("number comment: %w", err)
		}
		res, err := w.exec(`INSERT INTO comments (site_id, page_id, parent_id, root_id, quote_id, number,
			author_id, author_name, ip_hash, featured, seen, text, text_hash, html, status, reasons, toxicity, created, edited, score)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			site, c.PageID, c.ParentID, root, c.QuoteID, number,
			c.AuthorID, c.AuthorName, c.IPHash, c.Featured, c.Seen, c.Text, textHash(c.Text), c.HTML, c.Status, reasons, c.Toxicity,
			millis(created), millis(c.Edited))
		if err != nil {
			return domainError(fmt.Errorf("insert comment: %w", err), "comment rejected by the database")
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if root == 0 {
			root = id
		}
		if err := w.countStatus(c.AuthorID, "", c.Status); err != nil {
			return err
		}
		return w.events(parley.StatusEvents(site, c.PageID, id, "", c.Status))
	}()
	if err != nil {
		return err
	}
	c.ID, c.RootID, c.Number, c.Created, c.Score = id, root, number, roundTrip(created), 0
	c.Edited = roundTrip(c.Edited)
	return nil
}

// touch bumps the revision of a page whose comments changed, which
// invalidates the page in every process's cache (see PageComments). Every
// write that changes a row of comments must touch its page in the same
// transaction, or readers keep being served the old row.
func (w *wtx) touch(page int64) error {
	if _, err := w.exec(`UPDATE pages SET rev = rev + 1 WHERE id = ?`, page); err != nil {
		return fmt.Errorf("touch page: %w", err)
	}
	return nil
}

// countStatus moves one comment of author from status old ("" for a new
// comment) to new in the per-author counters History reads.
func (w *wtx) countStatus(author, old, new string) error {
	if old == new {
		return nil
	}
	delta := func(status string) int {
		d := 0
		if new == status {
			d++
		}
		if old == status {
			d--
		}
		return d
	}
	_, err := w.exec(`INSERT INTO author_stats (author_id, approved, rejected, pending) VALUES (?, ?, ?, ?)
		ON CONFLICT (author_id) DO UPDATE SET approved = approved + excluded.approved,
			rejected = rejected + excluded.rejected, pending = pending + excluded.pending`,
		author, delta(parley.StatusApproved), delta(parley.StatusRejected), delta(parley.StatusPending))
	if err != nil {
		return fmt.Errorf("count author's comments: %w", err)
	}
	return nil
}

// textHash is the FNV-1a hash of a comment's text, never 0 (which marks rows
// stored before texts were hashed), for the duplicate search of Activity.
func textHash(text string) int64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	if v := int64(h.Sum64()); v != 0 {
		return v
	}
	return 1
}

// Comment returns one comment. ENotFound.
func (db *DB) Comment(ctx context.Context, id int64) (*parley.Comment, error) {
	var c parley.Comment
	err := scanComment(db.queryRow(ctx, `SELECT `+commentCols+` FROM comments WHERE id = ?`, id), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read comment: %w", err)
	}
	return &c, nil
}

// Comment is DB.Comment in the unit of w: it sees the unit's own writes.
func (w *wtx) Comment(id int64) (*parley.Comment, error) {
	var c parley.Comment
	err := scanComment(w.queryRow(`SELECT `+commentCols+` FROM comments WHERE id = ?`, id), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("read comment: %w", err)
	}
	return &c, nil
}

// PageComments returns every comment of a page, in any status, ordered by
// number. A page read before at the same revision comes from the thread
// cache; otherwise the rows are scanned into one slice of comments allocated
// up front from the page's last number. ENotFound when the page does not
// exist.
func (db *DB) PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error) {
	conn, err := db.rdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	defer conn.Close()
	var out []*parley.Comment
	err = conn.Raw(func(dc any) error {
		var err error
		out, err = db.pageComments(ctx, dc, pageID)
		return err
	})
	if errors.Is(err, driver.ErrBadConn) {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	return out, err
}

// pageComments reads a page's comments on one reader connection through the
// driver's own interfaces. database/sql would convert each of the 19
// columns of each row through reflection and take its locks once per row;
// on a 1,000-comment page that is a third of the time of the scan.
func (db *DB) pageComments(ctx context.Context, dc any, pageID int64) (out []*parley.Comment, err error) {
	ex, ok := dc.(driver.ExecerContext)
	if !ok {
		return nil, fmt.Errorf("read comments: the sqlite driver lacks ExecerContext")
	}
	// The revision and the rows come from one snapshot.
	if _, err := ex.ExecContext(ctx, "BEGIN", nil); err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	defer func() {
		if _, rerr := ex.ExecContext(context.Background(), "ROLLBACK", nil); rerr != nil && err == nil {
			// A connection left inside a transaction must not go back
			// to the pool: ErrBadConn makes database/sql close it.
			out, err = nil, driver.ErrBadConn
		}
	}()
	return db.readPageComments(ctx, dc, pageID)
}

// readPageComments is pageComments inside the read transaction that the
// driver connection dc is in: pageComments' own, or a Snapshot's.
func (db *DB) readPageComments(ctx context.Context, dc any, pageID int64) ([]*parley.Comment, error) {
	qr, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("read comments: the sqlite driver lacks QueryerContext")
	}
	arg := []driver.NamedValue{{Ordinal: 1, Value: pageID}}
	rows, err := qr.QueryContext(ctx, `SELECT last_number, rev FROM pages WHERE id = ?`, arg)
	if err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	head := make([]driver.Value, 2)
	err = rows.Next(head)
	rows.Close()
	if err == io.EOF {
		return nil, parley.Errorf(parley.ENotFound, "page %d not found", pageID)
	} else if err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	n, _ := head[0].(int64)
	rev, _ := head[1].(int64)
	if cs, ok := db.cache.get(pageID, rev); ok {
		return cs, nil
	}
	rows, err = qr.QueryContext(ctx, `SELECT `+commentCols+` FROM comments WHERE page_id = ? ORDER BY number`, arg)
	if err != nil {
		return nil, fmt.Errorf("read comments: %w", err)
	}
	defer rows.Close()
	backing := make([]parley.Comment, n)
	out := make([]*parley.Comment, 0, n)
	v := make([]driver.Value, numCommentCols)
	for i := 0; ; i++ {
		if err := rows.Next(v); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read comments: %w", err)
		}
		var c *parley.Comment
		if i < len(backing) {
			c = &backing[i]
		} else {
			c = new(parley.Comment)
		}
		if err := commentFromValues(v, c); err != nil {
			return nil, fmt.Errorf("read comments: %w", err)
		}
		out = append(out, c)
	}
	db.cache.put(pageID, rev, out)
	return out, nil
}

// commentFromValues fills c from one row of commentCols as the driver
// returns it: int64, float64, string, []byte or nil.
func commentFromValues(v []driver.Value, c *parley.Comment) error {
	i64 := func(k int) int64 { x, _ := v[k].(int64); return x }
	str := func(k int) string {
		switch x := v[k].(type) {
		case string:
			return x
		case []byte:
			return string(x)
		}
		return ""
	}
	c.ID, c.PageID, c.ParentID, c.RootID, c.QuoteID = i64(0), i64(1), i64(2), i64(3), i64(4)
	c.Number = int(i64(5))
	c.AuthorID, c.AuthorName, c.IPHash = str(6), str(7), str(8)
	c.Featured, c.Seen = i64(9) != 0, i64(10) != 0
	c.Text, c.HTML, c.Status = str(11), str(12), str(13)
	if c.RootID == 0 {
		c.RootID = c.ID
	}
	var reasons []byte
	switch x := v[14].(type) {
	case string:
		reasons = []byte(x)
	case []byte:
		reasons = x
	}
	var err error
	if c.Reasons, err = decodeReasons(reasons); err != nil {
		return fmt.Errorf("comment %d: %w", c.ID, err)
	}
	switch x := v[15].(type) {
	case float64:
		c.Toxicity = x
	case int64:
		c.Toxicity = float64(x)
	}
	c.Created, c.Edited = fromMillis(i64(16)), fromMillis(i64(17))
	c.Score = int(i64(18))
	return nil
}

// scanComment reads one row of commentCols into c. Integers are scanned
// into int64 and converted here: database/sql converts an int64 into an int
// or a bool through strconv, which costs more than the rest of the row.
func scanComment(sc scanner, c *parley.Comment) error {
	var reasons []byte
	var number, featured, seen, created, edited, score int64
	if err := sc.Scan(&c.ID, &c.PageID, &c.ParentID, &c.RootID, &c.QuoteID, &number,
		&c.AuthorID, &c.AuthorName, &c.IPHash, &featured, &seen, &c.Text, &c.HTML, &c.Status,
		&reasons, &c.Toxicity, &created, &edited, &score); err != nil {
		return err
	}
	c.Number, c.Featured, c.Seen, c.Score = int(number), featured != 0, seen != 0, int(score)
	if c.RootID == 0 {
		c.RootID = c.ID
	}
	c.Created, c.Edited = fromMillis(created), fromMillis(edited)
	var err error
	c.Reasons, err = decodeReasons(reasons)
	if err != nil {
		return fmt.Errorf("comment %d: %w", c.ID, err)
	}
	return nil
}

// EditComment replaces a comment's text and HTML and sets Edited to at,
// recording comment.updated. ENotFound.
func (db *DB) EditComment(ctx context.Context, id int64, text, html string, at time.Time) error {
	return db.write(ctx, func(w *wtx) error { return w.EditComment(id, text, html, at) })
}

// EditComment is DB.EditComment in the unit of w.
func (w *wtx) EditComment(id int64, text, html string, at time.Time) error {
	var site string
	var page int64
	err := w.queryRow(`UPDATE comments SET text = ?, text_hash = ?, html = ?, edited = ? WHERE id = ? RETURNING site_id, page_id`,
		text, textHash(text), html, millis(at), id).Scan(&site, &page)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return fmt.Errorf("edit comment: %w", err)
	}
	if err := w.touch(page); err != nil {
		return err
	}
	return w.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
}

// SetStatus changes a comment's status and reasons, keeps the page count
// right, resolves the open reports when seen is true, and records the events
// of the change. ENotFound.
func (db *DB) SetStatus(ctx context.Context, id int64, status string, reasons []parley.Reason, seen bool) (old string, err error) {
	err = db.write(ctx, func(w *wtx) error {
		var err error
		old, err = w.SetStatus(id, status, reasons, seen)
		return err
	})
	if err != nil {
		return "", err
	}
	return old, nil
}

// SetStatus is DB.SetStatus in the unit of w.
func (w *wtx) SetStatus(id int64, status string, reasons []parley.Reason, seen bool) (string, error) {
	if !parley.ValidStatus(status) {
		return "", parley.Errorf(parley.EInvalid, "unknown comment status %q", status)
	}
	enc, err := encodeReasons(reasons)
	if err != nil {
		return "", err
	}
	var old string
	err = func() error {
		var site, author string
		var page int64
		var wasSeen bool
		err := w.queryRow(`SELECT site_id, page_id, author_id, status, seen FROM comments WHERE id = ?`, id).
			Scan(&site, &page, &author, &old, &wasSeen)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return fmt.Errorf("read comment: %w", err)
		}
		if _, err := w.exec(`UPDATE comments SET status = ?, reasons = ?, seen = seen OR ? WHERE id = ?`,
			status, enc, seen, id); err != nil {
			return fmt.Errorf("set status: %w", err)
		}
		if _, err := w.exec(`UPDATE pages SET count = count + ?, rev = rev + 1 WHERE id = ?`,
			parley.ApprovedDelta(old, status), page); err != nil {
			return fmt.Errorf("count comments: %w", err)
		}
		var resolved int64
		if outcome := parley.ReportOutcome(status); seen && outcome != "" {
			res, err := w.exec(`UPDATE reports SET outcome = ? WHERE comment_id = ? AND outcome = ''`, outcome, id)
			if err != nil {
				return fmt.Errorf("resolve reports: %w", err)
			}
			if resolved, err = res.RowsAffected(); err != nil {
				return err
			}
			if outcome == parley.ReportUpheld && resolved > 0 {
				if _, err := w.exec(`UPDATE author_stats SET upheld = upheld + ? WHERE author_id = ?`, resolved, author); err != nil {
					return fmt.Errorf("count upheld reports: %w", err)
				}
			}
		}
		if err := w.countStatus(author, old, status); err != nil {
			return err
		}
		evs := parley.StatusEvents(site, page, id, old, status)
		if old == status && ((seen && !wasSeen) || resolved > 0) {
			// The status stays, but the comment leaves the unmoderated
			// or the reported queue.
			evs = append(evs, parley.Event{Type: parley.EventQueueChanged, SiteID: site, PageID: page, CommentID: id})
		}
		return w.events(evs)
	}()
	if err != nil {
		return "", err
	}
	return old, nil
}

// SetFeatured pins or unpins a comment, recording comment.updated. ENotFound.
func (db *DB) SetFeatured(ctx context.Context, id int64, featured bool) error {
	return db.write(ctx, func(w *wtx) error { return w.SetFeatured(id, featured) })
}

// SetFeatured is DB.SetFeatured in the unit of w.
func (w *wtx) SetFeatured(id int64, featured bool) error {
	var site string
	var page int64
	err := w.queryRow(`UPDATE comments SET featured = ? WHERE id = ? RETURNING site_id, page_id`, featured, id).
		Scan(&site, &page)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return fmt.Errorf("feature comment: %w", err)
	}
	if err := w.touch(page); err != nil {
		return err
	}
	return w.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
}

// encodeReasons returns the stored JSON of reasons (the form every backend
// shares) as a TEXT value, nil (NULL) for none.
func encodeReasons(rs []parley.Reason) (any, error) {
	b, err := store.EncodeReasons(rs)
	if b == nil || err != nil {
		return nil, err
	}
	return string(b), nil
}

func decodeReasons(b []byte) ([]parley.Reason, error) { return store.DecodeReasons(b) }
