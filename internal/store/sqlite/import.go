package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// Import stores a batch of imported comments and their authors as one
// operation of the writer, so the batch commits in one transaction (with
// whatever else the writer is committing at that moment).
func (db *DB) Import(ctx context.Context, b *store.ImportBatch) (store.ImportResult, error) {
	type row struct {
		reasons any
		created int64
		edited  int64
	}
	rows := make([]row, len(b.Comments))
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
		rows[i] = row{reasons, millis(created), millis(c.Edited)}
	}
	type outcome struct {
		id, root, parent, quote int64
		number                  int
		existing                bool
	}
	var res store.ImportResult
	outs := make([]outcome, len(b.Comments))
	err := db.write(ctx, func(w *wtx) error {
		res = store.ImportResult{}
		now := millis(db.now())
		for _, u := range b.Users {
			created := millis(u.Created)
			if u.Created.IsZero() {
				created = now
			}
			r, err := w.exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				u.ID, u.Name, u.Email, u.Role, u.SiteID, millis(u.BannedUntil), created, u.Picture, millis(u.SessionsAfter), u.OwnName)
			if err != nil {
				return domainError(fmt.Errorf("insert user: %w", err), "user %q conflicts with a staff member's e-mail address", u.ID)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.UsersCreated++
			}
		}
		touched := map[int64]bool{}
		queue := false
		for i, ic := range b.Comments {
			c := ic.Comment
			o := outcome{}
			// Imported before: report the stored comment.
			err := w.queryRow(`SELECT c.id, c.root_id, c.parent_id, c.quote_id, c.number FROM imports i
				JOIN comments c ON c.id = i.comment_id WHERE i.site_id = ? AND i.source = ? AND i.source_id = ?`,
				b.SiteID, ic.Source, ic.SourceID).Scan(&o.id, &o.root, &o.parent, &o.quote, &o.number)
			if err == nil {
				if o.root == 0 {
					o.root = o.id
				}
				o.existing = true
				outs[i] = o
				res.Existing++
				continue
			} else if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read import: %w", err)
			}
			// The parent and quoted comment, by source id, on the same page.
			lookup := func(src string) (id, root int64, err error) {
				if src == "" {
					return 0, 0, nil
				}
				err = w.queryRow(`SELECT c.id, CASE c.root_id WHEN 0 THEN c.id ELSE c.root_id END FROM imports i
					JOIN comments c ON c.id = i.comment_id
					WHERE i.site_id = ? AND i.source = ? AND i.source_id = ? AND c.page_id = ?`,
					b.SiteID, ic.Source, src, c.PageID).Scan(&id, &root)
				if errors.Is(err, sql.ErrNoRows) {
					return 0, 0, nil
				}
				return id, root, err
			}
			var parentRoot int64
			if o.parent, parentRoot, err = lookup(ic.ParentSourceID); err != nil {
				return fmt.Errorf("read parent: %w", err)
			}
			if o.quote, _, err = lookup(ic.QuoteSourceID); err != nil {
				return fmt.Errorf("read quoted comment: %w", err)
			}
			err = w.queryRow(`UPDATE pages SET last_number = last_number + 1, rev = rev + 1, count = count + ?
				WHERE id = ? AND site_id = ? RETURNING last_number`,
				parley.ApprovedDelta("", c.Status), c.PageID, b.SiteID).Scan(&o.number)
			if errors.Is(err, sql.ErrNoRows) {
				return parley.Errorf(parley.ENotFound, "page %d is not a page of site %s", c.PageID, b.SiteID)
			} else if err != nil {
				return fmt.Errorf("number comment: %w", err)
			}
			r, err := w.exec(`INSERT INTO comments (site_id, page_id, parent_id, root_id, quote_id, number,
				author_id, author_name, ip_hash, featured, seen, text, text_hash, html, status, reasons, toxicity, created, edited, score)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				b.SiteID, c.PageID, o.parent, parentRoot, o.quote, o.number,
				c.AuthorID, c.AuthorName, c.IPHash, c.Featured, c.Seen, c.Text, textHash(c.Text), c.HTML, c.Status,
				rows[i].reasons, c.Toxicity, rows[i].created, rows[i].edited, c.Score)
			if err != nil {
				return domainError(fmt.Errorf("insert comment: %w", err), "comment rejected by the database")
			}
			if o.id, err = r.LastInsertId(); err != nil {
				return err
			}
			o.root = parentRoot
			if o.root == 0 {
				o.root = o.id
			}
			if _, err := w.exec(`INSERT INTO imports (site_id, source, source_id, comment_id) VALUES (?, ?, ?, ?)`,
				b.SiteID, ic.Source, ic.SourceID, o.id); err != nil {
				return fmt.Errorf("record import: %w", err)
			}
			if err := w.countStatus(c.AuthorID, "", c.Status); err != nil {
				return err
			}
			touched[c.PageID] = true
			queue = queue || c.Status != parley.StatusApproved
			outs[i] = o
			res.Created++
		}
		var evs []parley.Event
		for page := range touched {
			evs = append(evs, parley.Event{Type: parley.EventPageUpdated, SiteID: b.SiteID, PageID: page})
		}
		if queue {
			evs = append(evs, parley.Event{Type: parley.EventQueueChanged, SiteID: b.SiteID})
		}
		return w.events(evs)
	})
	if err != nil {
		return store.ImportResult{}, err
	}
	for i, ic := range b.Comments {
		o, c := outs[i], ic.Comment
		c.ID, c.RootID, c.ParentID, c.QuoteID, c.Number = o.id, o.root, o.parent, o.quote, o.number
		ic.Existing = o.existing
		if !o.existing {
			c.Created = fromMillis(rows[i].created)
			c.Edited = fromMillis(rows[i].edited)
		}
	}
	return res, nil
}
