package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// importComment stores one imported comment unless its source id was
// imported before, in one statement: the existing comment (ex), the parent
// and quoted comment by source id on the same page (par, quo), the page's
// next number taken under its row lock (p), the insert and its source id.
// It returns the stored row and whether it existed; no row when the page
// is not a page of the site.
const importComment = `WITH ex AS (
		SELECT c.id, c.root_id, c.parent_id, c.quote_id, c.number FROM imports i JOIN comments c ON c.id = i.comment_id
		WHERE i.site_id = $1 AND i.source = $2 AND i.source_id = $3
	), par AS (
		SELECT c.id, c.root_id FROM imports i JOIN comments c ON c.id = i.comment_id
		WHERE i.site_id = $1 AND i.source = $2 AND i.source_id = $4 AND c.page_id = $5
	), quo AS (
		SELECT c.id FROM imports i JOIN comments c ON c.id = i.comment_id
		WHERE i.site_id = $1 AND i.source = $2 AND i.source_id = $6 AND c.page_id = $5
	), p AS (
		UPDATE pages SET last_number = last_number + 1, count = count + $7::integer
		WHERE id = $5 AND site_id = $1 AND NOT EXISTS (SELECT 1 FROM ex)
		RETURNING last_number
	), n AS (
		SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id, last_number FROM p
	), ins AS (
		INSERT INTO comments (id, site_id, page_id, parent_id, root_id, quote_id, number, author_id, author_name, ip_hash,
			featured, seen, text, text_hash, html, status, reasons, toxicity, created, edited, score)
		SELECT n.id, $1, $5, coalesce((SELECT id FROM par), 0), coalesce((SELECT root_id FROM par), n.id),
			coalesce((SELECT id FROM quo), 0), n.last_number, $8::text, $9::text, $10::text, $11::boolean, $12::boolean,
			$13::text, $21::bigint, $14::text, $15::text, $16::jsonb, $17::double precision, $18::timestamptz, $19::timestamptz, $20::integer
		FROM n
		RETURNING id, root_id, parent_id, quote_id, number
	), imp AS (
		INSERT INTO imports (site_id, source, source_id, comment_id) SELECT $1, $2, $3, id FROM ins
	)
	SELECT id, root_id, parent_id, quote_id, number, false FROM ins
	UNION ALL
	SELECT id, root_id, parent_id, quote_id, number, true FROM ex`

// Import stores a batch of imported comments and their authors in one
// transaction, sent as one pipelined batch of statements: one round trip
// for the whole batch, however many comments it holds.
func (db *DB) Import(ctx context.Context, b *store.ImportBatch) (store.ImportResult, error) {
	type args struct {
		reasons []byte
		created time.Time
	}
	prepared := make([]args, len(b.Comments))
	for i, ic := range b.Comments {
		c := ic.Comment
		if !parley.ValidStatus(c.Status) {
			return store.ImportResult{}, parley.Errorf(parley.EInvalid, "unknown comment status %q", c.Status)
		}
		reasons, err := encodeReasons(c.Reasons)
		if err != nil {
			return store.ImportResult{}, err
		}
		created := c.Created
		if created.IsZero() {
			created = db.now()
		}
		prepared[i] = args{reasons, created}
	}
	type outcome struct {
		id, root, parent, quote int64
		number                  int
		existing                bool
	}
	outs := make([]outcome, len(b.Comments))
	var res store.ImportResult
	err := db.write(ctx, func(tx pgx.Tx) error {
		res = store.ImportResult{}
		batch := &pgx.Batch{}
		now := db.now()
		for _, u := range b.Users {
			created := u.Created
			if created.IsZero() {
				created = now
			}
			batch.Queue(`INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
				u.ID, u.Name, u.Email, u.Role, u.SiteID, nullTime(u.BannedUntil), created, u.Picture, nullTime(u.SessionsAfter), u.OwnName).Exec(func(tag pgconn.CommandTag) error {
				res.UsersCreated += int(tag.RowsAffected())
				return nil
			})
		}
		touched := map[int64]bool{}
		queue := false
		for i, ic := range b.Comments {
			c := ic.Comment
			batch.Queue(importComment, b.SiteID, ic.Source, ic.SourceID, ic.ParentSourceID, c.PageID, ic.QuoteSourceID,
				parley.ApprovedDelta("", c.Status), c.AuthorID, c.AuthorName, c.IPHash, c.Featured, c.Seen,
				c.Text, c.HTML, c.Status, prepared[i].reasons, c.Toxicity, prepared[i].created, nullTime(c.Edited), c.Score,
				store.TextHash(c.Text)).
				QueryRow(func(row pgx.Row) error {
					o := &outs[i]
					err := row.Scan(&o.id, &o.root, &o.parent, &o.quote, &o.number, &o.existing)
					if errors.Is(err, pgx.ErrNoRows) {
						return parley.Errorf(parley.ENotFound, "page %d is not a page of site %s", c.PageID, b.SiteID)
					} else if err != nil {
						return domainError(err, "import comment", "comment rejected by the database")
					}
					if o.existing {
						res.Existing++
					} else {
						res.Created++
						touched[c.PageID] = true
						queue = queue || c.Status != parley.StatusApproved
					}
					return nil
				})
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			if parley.ErrorCode(err) != parley.EInternal {
				return err
			}
			return wrap(err, "import")
		}
		created := make([]*parley.Comment, 0, len(b.Comments))
		for i, ic := range b.Comments {
			if !outs[i].existing {
				created = append(created, ic.Comment)
			}
		}
		if err := countImported(ctx, tx, created); err != nil {
			return err
		}
		var evs []parley.Event
		for page := range touched {
			evs = append(evs, parley.Event{Type: parley.EventPageUpdated, SiteID: b.SiteID, PageID: page})
		}
		if queue {
			evs = append(evs, parley.Event{Type: parley.EventQueueChanged, SiteID: b.SiteID})
		}
		return db.events(ctx, tx, evs)
	})
	if err != nil {
		return store.ImportResult{}, err
	}
	for i, ic := range b.Comments {
		o, c := outs[i], ic.Comment
		c.ID, c.RootID, c.ParentID, c.QuoteID, c.Number = o.id, o.root, o.parent, o.quote, o.number
		ic.Existing = o.existing
		if !o.existing {
			c.Created, c.Edited = roundTrip(prepared[i].created), roundTrip(c.Edited)
		}
	}
	return res, nil
}

// countImported counts the comments an import created in their authors'
// counters (see countStatus), in one statement that updates the authors'
// rows in the order of their ids, so that two imports meeting on some
// authors lock them in the same order.
func countImported(ctx context.Context, tx execer, cs []*parley.Comment) error {
	type counts struct{ approved, rejected, pending int }
	by := map[string]*counts{}
	for _, c := range cs {
		n := by[c.AuthorID]
		if n == nil {
			n = &counts{}
			by[c.AuthorID] = n
		}
		switch c.Status {
		case parley.StatusApproved:
			n.approved++
		case parley.StatusRejected:
			n.rejected++
		case parley.StatusPending:
			n.pending++
		}
	}
	if len(by) == 0 {
		return nil
	}
	authors := slices.Sorted(maps.Keys(by))
	approved, rejected, pending := make([]int32, len(authors)), make([]int32, len(authors)), make([]int32, len(authors))
	for i, a := range authors {
		n := by[a]
		approved[i], rejected[i], pending[i] = int32(n.approved), int32(n.rejected), int32(n.pending)
	}
	_, err := tx.Exec(ctx, `INSERT INTO author_stats AS s (author_id, approved, rejected, pending)
		SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[], $4::integer[])
		ON CONFLICT (author_id) DO UPDATE SET approved = s.approved + excluded.approved,
			rejected = s.rejected + excluded.rejected, pending = s.pending + excluded.pending`,
		authors, approved, rejected, pending)
	if err != nil {
		return wrap(err, "count the imported comments")
	}
	return nil
}
