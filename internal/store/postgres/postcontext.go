package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// PostContext makes the reads of a new comment in one round trip: the page,
// the poster's sanction, history and activity go in one pipeline, the
// statements those methods make alone. Only a page that is missing, or whose
// title is to change, costs a second one (EnsurePage's upsert). The pipeline
// runs with sorting off for the reason queryInOrder gives; the page and
// sanction reads are single-row index lookups, which never sort.
func (db *DB) PostContext(ctx context.Context, q store.PostQuery) (store.PostContext, error) {
	var pc store.PostContext
	if q.URL == "" {
		return pc, parley.Errorf(parley.EInvalid, "a page needs a url")
	}
	b := &pgx.Batch{}
	b.Queue(sortOff)
	b.Queue(`SELECT `+pageCols+` FROM pages WHERE site_id = $1 AND url = $2`, q.SiteID, q.URL).QueryRow(func(row pgx.Row) error {
		p, err := scanPage(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		pc.Page = p
		return err
	})
	if q.UserID != "" {
		pc.Sanction = store.Sanction{UserID: q.UserID, SiteID: q.SiteID}
		b.Queue(sanctionSQL, q.UserID, q.SiteID).QueryRow(func(row pgx.Row) error { return scanSanction(row, &pc.Sanction) })
		b.Queue(historySQL(q.Recent), q.UserID).QueryRow(func(row pgx.Row) error { return scanHistory(row, &pc.History) })
	}
	if sql, args := db.activityQuery(q.Activity); sql != "" {
		a := &pc.Activity
		b.Queue(sql, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&a.ByAuthor, &a.ByIP, &a.Duplicate) })
	}
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return pc, wrap(err, "read the context of a post")
	}
	if pc.Page == nil || (q.Title != "" && q.Title != pc.Page.Title) {
		p, err := db.EnsurePage(ctx, q.SiteID, q.URL, q.Title)
		if err != nil {
			return pc, err
		}
		pc.Page = p
	}
	return pc, nil
}
