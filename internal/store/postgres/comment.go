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

// insertComment numbers and inserts a comment in one statement. The UPDATE
// of the page takes the page's row lock, which concurrent writers on every
// instance wait for in turn, and hands out the next number. When the page
// does not exist the number is NULL and the insert fails on the NOT NULL
// constraint, which aborts the whole transaction, events included. The
// author's counters (see countStatus) are counted in the same statement,
// which saves the round trip and the parsing of one of their own; an
// unreferenced data-modifying CTE runs after the main statement, so their
// row is locked after the page's.
const insertComment = `WITH p AS (
		UPDATE pages SET last_number = last_number + 1, count = count + $2
		WHERE id = $1 RETURNING last_number
	), s AS (
		INSERT INTO author_stats AS s (author_id, approved, rejected, pending)
		SELECT $8, ($15 = 'approved')::integer, ($15 = 'rejected')::integer, ($15 = 'pending')::integer
		WHERE $15 IN ('approved', 'rejected', 'pending')
		ON CONFLICT (author_id) DO UPDATE SET approved = s.approved + excluded.approved,
			rejected = s.rejected + excluded.rejected, pending = s.pending + excluded.pending)
	INSERT INTO comments (id, site_id, page_id, parent_id, root_id, quote_id, number, author_id, author_name, ip_hash,
		featured, seen, text, text_hash, html, status, reasons, toxicity, created, edited)
	VALUES ($3, $4, $1, $5, $6, $7, (SELECT last_number FROM p), $8, $9, $10, $11, $12, $13, $20, $14, $15, $16, $17, $18, $19)
	RETURNING number`

// CreateComment stores a new comment and assigns its ID, RootID, Number and
// Created (when zero). The number comes from pages.last_number, incremented
// under the page's row lock in the comment's transaction, so numbers are
// unique and increasing per page whatever the number of writers and
// instances, and never reused because comment rows are never deleted.
//
// Comments arrive on a breaking story all on one page, where writers take
// turns on that row lock; so the lock is held for one round trip only. What
// can be known before (the page's site, the parent and the quoted comment,
// which never move, and the new comment's id) is read first, and then the
// numbering insert, the events and the commit go as one pipelined batch,
// which PostgreSQL runs as one implicit transaction: all of it or nothing.
func (db *DB) CreateComment(ctx context.Context, c *parley.Comment) error {
	if !parley.ValidStatus(c.Status) {
		return parley.Errorf(parley.EInvalid, "unknown comment status %q", c.Status)
	}
	reasons, err := encodeReasons(c.Reasons)
	if err != nil {
		return err
	}
	created := c.Created
	if created.IsZero() {
		created = db.now()
	}

	var site string
	var id, root int64
	reads := &pgx.Batch{}
	reads.Queue(`SELECT site_id, nextval(pg_get_serial_sequence('comments', 'id')) FROM pages WHERE id = $1`, c.PageID).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&site, &id)
			if errors.Is(err, pgx.ErrNoRows) {
				return parley.Errorf(parley.ENotFound, "page %d not found", c.PageID)
			}
			return err
		})
	sameComment := func(what string, ref int64, root *int64) func(pgx.Row) error {
		return func(row pgx.Row) error {
			var page, r int64
			err := row.Scan(&page, &r)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && page != c.PageID) {
				return parley.Errorf(parley.EInvalid, "the comment %s (%d) is not on this page", what, ref)
			}
			if root != nil {
				*root = r
			}
			return err
		}
	}
	if c.ParentID != 0 {
		reads.Queue(`SELECT page_id, root_id FROM comments WHERE id = $1`, c.ParentID).
			QueryRow(sameComment("replied to", c.ParentID, &root))
	}
	if c.QuoteID != 0 {
		reads.Queue(`SELECT page_id, root_id FROM comments WHERE id = $1`, c.QuoteID).
			QueryRow(sameComment("quoted", c.QuoteID, nil))
	}
	if err := db.pool.SendBatch(ctx, reads).Close(); err != nil {
		if parley.ErrorCode(err) != parley.EInternal {
			return err
		}
		return wrap(err, "read page")
	}
	if root == 0 {
		root = id
	}

	var number int
	write := &pgx.Batch{}
	write.Queue(insertComment, c.PageID, parley.ApprovedDelta("", c.Status), id, site, c.ParentID, root, c.QuoteID,
		c.AuthorID, c.AuthorName, c.IPHash, c.Featured, c.Seen, c.Text, c.HTML, c.Status, reasons, c.Toxicity,
		created, nullTime(c.Edited), store.TextHash(c.Text)).
		QueryRow(func(row pgx.Row) error {
			err := row.Scan(&number)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23502" && pe.ColumnName == "number" {
				return parley.Errorf(parley.ENotFound, "page %d not found", c.PageID)
			} else if err != nil {
				return domainError(err, "insert comment", "comment rejected by the database")
			}
			return nil
		})
	db.queueEvents(write, parley.StatusEvents(site, c.PageID, id, "", c.Status))
	if err := db.pool.SendBatch(ctx, write).Close(); err != nil {
		if parley.ErrorCode(err) != parley.EInternal {
			return err
		}
		return wrap(err, "insert comment")
	}
	c.ID, c.RootID, c.Number, c.Created, c.Score = id, root, number, roundTrip(created), 0
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
	return db.write(ctx, func(tx pgx.Tx) error {
		var site string
		var page int64
		err := tx.QueryRow(ctx, `UPDATE comments SET text = $2, text_hash = $5, html = $3, edited = $4 WHERE id = $1 RETURNING site_id, page_id`,
			id, text, html, nullTime(at), store.TextHash(text)).Scan(&site, &page)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return domainError(err, "edit comment", "comment %d rejected by the database", id)
		}
		return db.events(ctx, tx, []parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
	})
}

// SetStatus changes a comment's status and reasons, keeps the page count
// right, resolves the open reports when seen is true, and records the events
// of the change. ENotFound.
func (db *DB) SetStatus(ctx context.Context, id int64, status string, reasons []parley.Reason, seen bool) (string, error) {
	if !parley.ValidStatus(status) {
		return "", parley.Errorf(parley.EInvalid, "unknown comment status %q", status)
	}
	enc, err := encodeReasons(reasons)
	if err != nil {
		return "", err
	}
	var old string
	err = db.write(ctx, func(tx pgx.Tx) error {
		// The subquery locks the row and reads the status it had, which
		// the UPDATE then replaces: one round trip, and a concurrent
		// change of the same comment waits for this one.
		var site, author string
		var page int64
		var wasSeen bool
		err := tx.QueryRow(ctx, `UPDATE comments c SET status = $2, reasons = $3, seen = c.seen OR $4
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
			if _, err := tx.Exec(ctx, `UPDATE pages SET count = count + $2 WHERE id = $1`, page, d); err != nil {
				return wrap(err, "count comments")
			}
		}
		var resolved int64
		if outcome := parley.ReportOutcome(status); seen && outcome != "" {
			tag, err := tx.Exec(ctx, `UPDATE reports SET outcome = $2 WHERE comment_id = $1 AND outcome = ''`, id, outcome)
			if err != nil {
				return wrap(err, "resolve reports")
			}
			resolved = tag.RowsAffected()
		}
		var upheld int64
		if parley.ReportOutcome(status) == parley.ReportUpheld {
			upheld = resolved
		}
		if err := countStatus(ctx, tx, author, old, status, upheld); err != nil {
			return err
		}
		evs := parley.StatusEvents(site, page, id, old, status)
		if old == status && ((seen && !wasSeen) || resolved > 0) {
			// The status stays, but the comment leaves the unmoderated
			// or the reported queue.
			evs = append(evs, parley.Event{Type: parley.EventQueueChanged, SiteID: site, PageID: page, CommentID: id})
		}
		return db.events(ctx, tx, evs)
	})
	if err != nil {
		return "", err
	}
	return old, nil
}

// countStatus moves one comment of author from status old to new in the
// per-author counters that History reads, and adds upheld to the count of
// upheld reports against them. Call it after every other row lock of the
// write, just before its events: the counters' row is the last row lock a
// write takes (see migration 0006), so it is never part of a deadlock.
func countStatus(ctx context.Context, tx pgx.Tx, author, old, new string, upheld int64) error {
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
	return db.write(ctx, func(tx pgx.Tx) error {
		var site string
		var page int64
		err := tx.QueryRow(ctx, `UPDATE comments SET featured = $2 WHERE id = $1 RETURNING site_id, page_id`, id, featured).
			Scan(&site, &page)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", id)
		} else if err != nil {
			return wrap(err, "feature comment")
		}
		return db.events(ctx, tx, []parley.Event{{Type: parley.EventCommentUpdated, SiteID: site, PageID: page, CommentID: id}})
	})
}

// encodeReasons and decodeReasons use the stored form every backend shares.
func encodeReasons(rs []parley.Reason) ([]byte, error) { return store.EncodeReasons(rs) }

func decodeReasons(b []byte) ([]parley.Reason, error) { return store.DecodeReasons(b) }
