package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// PostContext makes the reads of a new comment in one round trip: for a
// signed-in reader the page, their sanction, history and activity in one
// statement (postContextSQL), otherwise in one pipeline of the statements
// those methods make alone. Only a page that is missing, or whose title is
// to change, costs a second one (EnsurePage's upsert). It runs with sorting
// off for the reason queryInOrder gives; the page and sanction reads are
// single-row index lookups, which never sort.
func (db *DB) PostContext(ctx context.Context, q store.PostQuery) (store.PostContext, error) {
	var pc store.PostContext
	if q.URL == "" {
		return pc, parley.Errorf(parley.EInvalid, "a page needs a url")
	}
	b := &pgx.Batch{}
	b.Queue(sortOff)
	if sql, args := db.activityQuery(q.Activity); sql != "" && q.UserID != "" {
		// A signed-in reader's post, the common case: every read in one
		// statement (see postContextSQL).
		pc.Sanction = store.Sanction{UserID: q.UserID, SiteID: q.SiteID}
		b.Queue(postContextSQL(sql, q.Recent), append(args, q.SiteID, q.URL, q.UserID)...).QueryRow(func(row pgx.Row) error {
			return scanPostContext(row, &pc)
		})
	} else {
		db.queuePostReads(b, q, &pc)
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

// postContextSQL makes the reads of a signed-in reader's post one
// statement: the page, their sanction, their history (historySQL) and
// activity (activitySQL, whose six parameters come first), joined to one
// row; $7 and $8 are the site and url, $9 the reader. As four statements
// of a pipeline they cost PostgreSQL four executions, and Parley four
// results to read, on every post.
func postContextSQL(activity string, recent int) string {
	return `SELECT p.id, p.site_id, p.url, p.title, p.closed, p.count, p.policy, p.created,
		s.user_id IS NOT NULL, s.suspended_until, s.premoderated, s.updated,
		h.*, a.*
	FROM (SELECT) one
	LEFT JOIN pages p ON p.site_id = $7::text AND p.url = $8::text
	LEFT JOIN sanctions s ON s.user_id = $9::text AND s.site_id = $7::text
	CROSS JOIN LATERAL (` + strings.ReplaceAll(historySQL(recent), "$1", "$9::text") + `) h
	CROSS JOIN LATERAL (` + activity + `) a`
}

// scanPostContext reads the row of postContextSQL into pc.
func scanPostContext(row pgx.Row, pc *store.PostContext) error {
	var id *int64
	var site, url, title *string
	var closed *bool
	var count *int
	var policy []byte
	var created *time.Time
	var sanctioned bool
	var until, updated *time.Time
	var premod *bool
	h, a := &pc.History, &pc.Activity
	if err := row.Scan(&id, &site, &url, &title, &closed, &count, &policy, &created,
		&sanctioned, &until, &premod, &updated,
		&h.Approved, &h.Rejected, &h.Pending, &h.ReportsUpheld, &h.Recent,
		&a.ByAuthor, &a.ByIP, &a.Duplicate); err != nil {
		return err
	}
	if len(h.Recent) == 0 {
		h.Recent = nil
	}
	if id != nil {
		pc.Page = &parley.Page{ID: *id, SiteID: *site, URL: *url, Title: *title, Closed: *closed, Count: *count,
			Policy: policy, Created: created.UTC()}
	}
	if sanctioned {
		pc.Sanction.SuspendedUntil, pc.Sanction.Premoderated, pc.Sanction.Updated = fromNull(until), *premod, updated.UTC()
	}
	return nil
}

// queuePostReads queues the reads of PostContext one statement each, for
// a post without a reader yet or without counts to make.
func (db *DB) queuePostReads(b *pgx.Batch, q store.PostQuery, pc *store.PostContext) {
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
}
