package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

const reportCols = `id, comment_id, reporter_id, reason, note, outcome, created`

// AddReport stores a report and fills its ID and Created (when zero); a
// reader's repeated report of the same comment is not stored again and
// returns created=false. ENotFound when the comment does not exist. A new
// report records queue.changed; a repeated one records nothing.
func (db *DB) AddReport(ctx context.Context, r *parley.Report) (created bool, err error) {
	err = db.write(ctx, func(w *wtx) error {
		var err error
		created, err = w.AddReport(r)
		return err
	})
	return created && err == nil, err
}

// AddReport is DB.AddReport in the unit of w.
func (w *wtx) AddReport(r *parley.Report) (bool, error) {
	created := r.Created
	if created.IsZero() {
		created = w.db.now()
	}
	var id int64
	err := func() error {
		var site string
		var page int64
		err := w.queryRow(`SELECT site_id, page_id FROM comments WHERE id = ?`, r.CommentID).Scan(&site, &page)
		if errors.Is(err, sql.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", r.CommentID)
		} else if err != nil {
			return fmt.Errorf("read comment: %w", err)
		}
		err = w.queryRow(`INSERT INTO reports (comment_id, reporter_id, reason, note, outcome, created)
			VALUES (?, ?, ?, ?, '', ?) ON CONFLICT (comment_id, reporter_id) DO NOTHING RETURNING id`,
			r.CommentID, r.ReporterID, r.Reason, r.Note, millis(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = 0 // the reader has reported it before
			return nil
		} else if err != nil {
			return fmt.Errorf("insert report: %w", err)
		}
		return w.events([]parley.Event{{Type: parley.EventQueueChanged, SiteID: site, PageID: page, CommentID: r.CommentID}})
	}()
	if err != nil || id == 0 {
		return false, err
	}
	r.ID, r.Created, r.Outcome = id, roundTrip(created), ""
	return true, nil
}

// Reports returns a comment's reports, oldest first.
func (db *DB) Reports(ctx context.Context, commentID int64) ([]*parley.Report, error) {
	rows, err := db.query(ctx, `SELECT `+reportCols+` FROM reports WHERE comment_id = ? ORDER BY created, id`, commentID)
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return scanReports(rows)
}

// PageReports returns the reports of every comment of a page in one
// query, keyed by comment id, each comment's reports oldest first.
func (db *DB) PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error) {
	return pageReports(ctx, db.query, pageID)
}

// pageReportsSQL reads the reports of a page's comments, grouped by comment.
var pageReportsSQL = `SELECT r.` + strings.ReplaceAll(reportCols, ", ", ", r.") + ` FROM reports r JOIN comments c ON c.id = r.comment_id
	WHERE c.page_id = ? ORDER BY r.comment_id, r.created, r.id`

// pageReports runs PageReports with query: on the reader pool, or in a snapshot.
func pageReports(ctx context.Context, query queryFunc, pageID int64) (map[int64][]*parley.Report, error) {
	rows, err := query(ctx, pageReportsSQL, pageID)
	if err != nil {
		return nil, fmt.Errorf("read reports of page %d: %w", pageID, err)
	}
	rs, err := scanReports(rows)
	if err != nil {
		return nil, err
	}
	out := map[int64][]*parley.Report{}
	for _, r := range rs {
		out[r.CommentID] = append(out[r.CommentID], r)
	}
	return out, nil
}

// scanReports reads and closes rows of reportCols.
func scanReports(rows *sql.Rows) ([]*parley.Report, error) {
	defer rows.Close()
	var out []*parley.Report
	for rows.Next() {
		var r parley.Report
		var created int64
		if err := rows.Scan(&r.ID, &r.CommentID, &r.ReporterID, &r.Reason, &r.Note, &r.Outcome, &created); err != nil {
			return nil, fmt.Errorf("read reports: %w", err)
		}
		r.Created = fromMillis(created)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return out, nil
}
