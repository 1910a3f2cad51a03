package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// commentCols are read by scanComment, in this order.
const commentCols = `id, page_id, parent_id, root_id, quote_id, number, author_id, author_name, ip_hash,
	featured, seen, text, html, status, reasons, toxicity, created, edited, score`

// insertComment checks, numbers and inserts a comment in one statement,
// one round trip. The parent and the quoted comment must be on the page
// (they never move); the UPDATE of the page takes the page's row lock, which
// concurrent writers on every instance wait for in turn, and hands out the
// next number. The checks come back with the new row, which is missing when
// one of them failed. The author's counters (see countStatus) are counted
// in the same statement, only when the row was inserted; a data-modifying
// CTE runs after the ones it reads, so their row is locked after the
// page's. The id's sequence is named (the identity column's, from 0001),
// resolved once when the statement is planned: pg_get_serial_sequence
// looked it up in the catalog on every post (4 us).
const insertComment = `WITH par AS (SELECT page_id, root_id FROM comments WHERE id = $3::bigint),
		quo AS (SELECT page_id FROM comments WHERE id = $4::bigint),
		chk AS (SELECT EXISTS (SELECT 1 FROM pages WHERE id = $1) AS page_ok,
			($3::bigint = 0 OR coalesce((SELECT page_id = $1 FROM par), false)) AS parent_ok,
			($4::bigint = 0 OR coalesce((SELECT page_id = $1 FROM quo), false)) AS quote_ok),
		p AS (UPDATE pages SET last_number = last_number + 1, count = count + $2
			WHERE id = $1 AND (SELECT parent_ok AND quote_ok FROM chk)
			RETURNING site_id, last_number),
		n AS (SELECT nextval('comments_id_seq') AS id FROM p),
		ins AS (INSERT INTO comments (id, site_id, page_id, parent_id, root_id, quote_id, number, author_id, author_name,
				ip_hash, featured, seen, text, text_hash, html, status, reasons, toxicity, created, edited)
			SELECT n.id, p.site_id, $1, $3, coalesce((SELECT root_id FROM par), n.id), $4, p.last_number, $5, $6,
				$7, $8, $9, $10, $17, $11, $12, $13, $14, $15, $16
			FROM p, n
			RETURNING id, site_id, root_id, number),
		s AS (INSERT INTO author_stats AS s (author_id, approved, rejected, pending)
			SELECT $5, ($12 = 'approved')::integer, ($12 = 'rejected')::integer, ($12 = 'pending')::integer
			FROM ins WHERE $12 IN ('approved', 'rejected', 'pending')
			ON CONFLICT (author_id) DO UPDATE SET approved = s.approved + excluded.approved,
				rejected = s.rejected + excluded.rejected, pending = s.pending + excluded.pending)
	SELECT chk.page_ok, chk.parent_ok, chk.quote_ok, ins.id, ins.site_id, ins.root_id, ins.number
	FROM chk LEFT JOIN ins ON true`

// CreateComment stores a new comment and assigns its ID, RootID, Number and
// Created (when zero). The number comes from pages.last_number, incremented
// under the page's row lock in the comment's transaction, so numbers are
// unique and increasing per page whatever the number of writers and
// instances, and never reused because comment rows are never deleted. The
// events are recorded and committed with the rest of the unit's batch (see
// unit.go).
func (db *DB) CreateComment(ctx context.Context, c *parley.Comment) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.CreateComment(c) })
	return err
}

// CreateComment is DB.CreateComment in the unit of t: one statement.
func (t *ptx) CreateComment(c *parley.Comment) error {
	defer t.interleavable()() // one statement (see pipeline.go)
	if !parley.ValidStatus(c.Status) {
		return parley.Errorf(parley.EInvalid, "unknown comment status %q", c.Status)
	}
	reasons, err := encodeReasons(c.Reasons)
	if err != nil {
		return err
	}
	created := c.Created
	if created.IsZero() {
		created = t.db.now()
	}
	var pageOK, parentOK, quoteOK bool
	var id, root *int64
	var site *string
	var number *int
	err = t.QueryRow(t.ctx, insertComment, c.PageID, parley.ApprovedDelta("", c.Status), c.ParentID, c.QuoteID,
		c.AuthorID, c.AuthorName, c.IPHash, c.Featured, c.Seen, c.Text, c.HTML, c.Status, reasons, c.Toxicity,
		created, nullTime(c.Edited), store.TextHash(c.Text)).Scan(&pageOK, &parentOK, &quoteOK, &id, &site, &root, &number)
	switch {
	case err != nil:
		return domainError(err, "insert comment", "comment rejected by the database")
	case !pageOK:
		return parley.Errorf(parley.ENotFound, "page %d not found", c.PageID)
	case !parentOK:
		return parley.Errorf(parley.EInvalid, "the comment replied to (%d) is not on this page", c.ParentID)
	case !quoteOK:
		return parley.Errorf(parley.EInvalid, "the comment quoted (%d) is not on this page", c.QuoteID)
	case id == nil:
		return parley.Errorf(parley.ENotFound, "page %d not found", c.PageID)
	}
	t.record(parley.StatusEvents(*site, c.PageID, *id, "", c.Status))
	c.ID, c.RootID, c.Number, c.Created, c.Score = *id, *root, *number, roundTrip(created), 0
	c.Edited = roundTrip(c.Edited)
	return nil
}

// Comment returns one comment. ENotFound.
func (db *DB) Comment(ctx context.Context, id int64) (*parley.Comment, error) {
	var c parley.Comment
	err := scanComment(db.pool.QueryRow(ctx, `SELECT `+commentCols+` FROM comments WHERE id = $1`, id), &c)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return nil, wrap(err, "read comment")
	}
	return &c, nil
}

// Comment is DB.Comment in the unit of t: it sees the unit's own writes.
func (t *ptx) Comment(id int64) (*parley.Comment, error) {
	var c parley.Comment
	err := scanComment(t.QueryRow(t.ctx, `SELECT `+commentCols+` FROM comments WHERE id = $1`, id), &c)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "comment %d not found", id)
	} else if err != nil {
		return nil, wrap(err, "read comment")
	}
	return &c, nil
}

// PageComments returns every comment of a page, in any status, ordered by
// number: one range scan of the (page_id, number) index. The page's last
// number, sent in the same round trip, sizes one slice of comments allocated
// up front. ENotFound when the page does not exist.
func (db *DB) PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error) {
	return reader{db.pool}.PageComments(ctx, pageID)
}

// PageComments is DB.PageComments on r's querier.
func (r reader) PageComments(ctx context.Context, pageID int64) ([]*parley.Comment, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT last_number FROM pages WHERE id = $1`, pageID)
	b.Queue(`SELECT `+commentCols+` FROM comments WHERE page_id = $1 ORDER BY number`, pageID)
	br := r.q.SendBatch(ctx, b)
	defer br.Close()
	var n int
	if err := br.QueryRow().Scan(&n); errors.Is(err, pgx.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "page %d not found", pageID)
	} else if err != nil {
		return nil, wrap(err, "read comments")
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrap(err, "read comments")
	}
	defer rows.Close()
	backing := make([]parley.Comment, n)
	out := make([]*parley.Comment, 0, n)
	for i := 0; rows.Next(); i++ {
		var c *parley.Comment
		if i < len(backing) {
			c = &backing[i]
		} else { // written since the page was read
			c = new(parley.Comment)
		}
		if err := scanComment(rows, c); err != nil {
			return nil, wrap(err, "read comments")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read comments")
	}
	return out, nil
}

// scanComment reads one row of commentCols into c.
func scanComment(row pgx.Row, c *parley.Comment) error {
	var reasons []byte
	var edited *time.Time
	if err := row.Scan(&c.ID, &c.PageID, &c.ParentID, &c.RootID, &c.QuoteID, &c.Number,
		&c.AuthorID, &c.AuthorName, &c.IPHash, &c.Featured, &c.Seen, &c.Text, &c.HTML, &c.Status,
		&reasons, &c.Toxicity, &c.Created, &edited, &c.Score); err != nil {
		return err
	}
	c.Created, c.Edited = c.Created.UTC(), fromNull(edited)
	var err error
	if c.Reasons, err = decodeReasons(reasons); err != nil {
		return fmt.Errorf("comment %d: %w", c.ID, err)
	}
	return nil
}

// EditComment replaces a comment's text and HTML and sets Edited to at,
// recording comment.updated. ENotFound.
func (db *DB) EditComment(ctx context.Context, id int64, text, html string, at time.Time) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.EditComment(id, text, html, at) })
	return err
}

// EditComment is DB.EditComment in the unit of t.
func (t *ptx) EditComment(id int64, text, html string, at time.Time) error {
	ctx := t.ctx
	{
		var site string
		var page int64
		err := t.QueryRow(ctx, `UPDATE comments SET text = $2, text_hash = $5, html = $3, edited = $4 WHERE id = $1 RETURNING site_id, page_id`,
			id, text, html, nullTime(at), store.TextHash(text)).Scan(&site, &page)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return domainError(err, "edit comment", "comment %d rejected by the database", id)
		}
		return t.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
	}
}

// SetStatus changes a comment's status and reasons, keeps the page count
// right, resolves the open reports when seen is true, and records the events
// of the change. ENotFound.
func (db *DB) SetStatus(ctx context.Context, id int64, status string, reasons []parley.Reason, seen bool) (old string, err error) {
	_, err = db.unit(ctx, func(t *ptx) error {
		var err error
		old, err = t.SetStatus(id, status, reasons, seen)
		return err
	})
	if err != nil {
		return "", err
	}
	return old, nil
}

// SetStatus is DB.SetStatus in the unit of t.
func (t *ptx) SetStatus(id int64, status string, reasons []parley.Reason, seen bool) (string, error) {
	ctx := t.ctx
	if !parley.ValidStatus(status) {
		return "", parley.Errorf(parley.EInvalid, "unknown comment status %q", status)
	}
	enc, err := encodeReasons(reasons)
	if err != nil {
		return "", err
	}
	var old string
	err = func() error {
		// The subquery locks the row and reads the status it had, which
		// the UPDATE then replaces: one round trip, and a concurrent
		// change of the same comment waits for this one.
		var site, author string
		var page int64
		var wasSeen bool
		err := t.QueryRow(ctx, `UPDATE comments c SET status = $2, reasons = $3, seen = c.seen OR $4
			FROM (SELECT id, status, seen FROM comments WHERE id = $1 FOR UPDATE) old
			WHERE c.id = old.id
			RETURNING c.site_id, c.page_id, c.author_id, old.status, old.seen`, id, status, enc, seen).
			Scan(&site, &page, &author, &old, &wasSeen)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return wrap(err, "set status")
		}
		if d := parley.ApprovedDelta(old, status); d != 0 {
			if _, err := t.Exec(ctx, `UPDATE pages SET count = count + $2 WHERE id = $1`, page, d); err != nil {
				return wrap(err, "count comments")
			}
		}
		var resolved int64
		if outcome := parley.ReportOutcome(status); seen && outcome != "" {
			tag, err := t.Exec(ctx, `UPDATE reports SET outcome = $2 WHERE comment_id = $1 AND outcome = ''`, id, outcome)
			if err != nil {
				return wrap(err, "resolve reports")
			}
			resolved = tag.RowsAffected()
		}
		var upheld int64
		if parley.ReportOutcome(status) == parley.ReportUpheld {
			upheld = resolved
		}
		if err := countStatus(ctx, t, author, old, status, upheld); err != nil {
			return err
		}
		evs := parley.StatusEvents(site, page, id, old, status)
		if old == status && ((seen && !wasSeen) || resolved > 0) {
			// The status stays, but the comment leaves the unmoderated
			// or the reported queue.
			evs = append(evs, parley.Event{Type: parley.EventQueueChanged, SiteID: site, PageID: page, CommentID: id})
		}
		return t.events(evs)
	}()
	if err != nil {
		return "", err
	}
	return old, nil
}

// execer runs a statement: a pgx.Tx, or a unit's ptx.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// countStatus moves one comment of author from status old to new in the
// per-author counters that History reads, and adds upheld to the count of
// upheld reports against them. Call it after every other row lock of the
// write, just before its events: the counters' row is the last row lock a
// write takes (see migration 0006), so it is never part of a deadlock.
func countStatus(ctx context.Context, tx execer, author, old, new string, upheld int64) error {
	if old == new && upheld == 0 {
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
	_, err := tx.Exec(ctx, `INSERT INTO author_stats AS s (author_id, approved, rejected, pending, upheld) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (author_id) DO UPDATE SET approved = s.approved + excluded.approved,
			rejected = s.rejected + excluded.rejected, pending = s.pending + excluded.pending, upheld = s.upheld + excluded.upheld`,
		author, delta(parley.StatusApproved), delta(parley.StatusRejected), delta(parley.StatusPending), upheld)
	if err != nil {
		return wrap(err, "count the author's comments")
	}
	return nil
}

// SetFeatured pins or unpins a comment, recording comment.updated. ENotFound.
func (db *DB) SetFeatured(ctx context.Context, id int64, featured bool) error {
	_, err := db.unit(ctx, func(t *ptx) error { return t.SetFeatured(id, featured) })
	return err
}

// SetFeatured is DB.SetFeatured in the unit of t.
func (t *ptx) SetFeatured(id int64, featured bool) error {
	ctx := t.ctx
	{
		var site string
		var page int64
		err := t.QueryRow(ctx, `UPDATE comments SET featured = $2 WHERE id = $1 RETURNING site_id, page_id`, id, featured).
			Scan(&site, &page)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return wrap(err, "feature comment")
		}
		return t.events([]parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
	}
}

// encodeReasons and decodeReasons use the stored form every backend shares.
func encodeReasons(rs []parley.Reason) ([]byte, error) { return store.EncodeReasons(rs) }

func decodeReasons(b []byte) ([]parley.Reason, error) { return store.DecodeReasons(b) }
