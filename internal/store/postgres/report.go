package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

const reportCols = `id, comment_id, reporter_id, reason, note, outcome, created`

// AddReport stores a report and fills its ID and Created (when zero); a
// reader's repeated report of the same comment is not stored again and
// returns created=false: the unique (comment_id, reporter_id) constraint
// decides, with ON CONFLICT DO NOTHING, so two instances receiving the same
// reader's report at once store it once. ENotFound when the comment does not
// exist. A new report records queue.changed; a repeated one records nothing.
func (db *DB) AddReport(ctx context.Context, r *parley.Report) (created bool, err error) {
	_, err = db.unit(ctx, func(t *ptx) error {
		var err error
		created, err = t.AddReport(r)
		return err
	})
	return created && err == nil, err
}

// AddReport is DB.AddReport in the unit of t.
func (t *ptx) AddReport(r *parley.Report) (bool, error) {
	ctx := t.ctx
	created := r.Created
	if created.IsZero() {
		created = t.db.now()
	}
	var id int64
	err := func() error {
		id = 0
		var site string
		var page int64
		err := t.QueryRow(ctx, `SELECT site_id, page_id FROM comments WHERE id = $1`, r.CommentID).Scan(&site, &page)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENotFound, "comment %d not found", r.CommentID)
		} else if err != nil {
			return wrap(err, "read comment")
		}
		err = t.QueryRow(ctx, `INSERT INTO reports (comment_id, reporter_id, reason, note, outcome, created)
			VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (comment_id, reporter_id) DO NOTHING RETURNING id`,
			r.CommentID, r.ReporterID, r.Reason, r.Note, created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the reader has reported it before
		} else if err != nil {
			return domainError(err, "insert report", "report of comment %d rejected by the database", r.CommentID)
		}
		return t.events([]parley.Event{{Type: parley.EventQueueChanged, SiteID: site, PageID: page, CommentID: r.CommentID}})
	}()
	if err != nil || id == 0 {
		return false, err
	}
	r.ID, r.Created, r.Outcome = id, roundTrip(created), ""
	return true, nil
}

// Reports returns a comment's reports, oldest first.
func (db *DB) Reports(ctx context.Context, commentID int64) ([]*parley.Report, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+reportCols+` FROM reports WHERE comment_id = $1 ORDER BY created, id`, commentID)
	if err != nil {
		return nil, wrap(err, "read reports")
	}
	return scanReports(rows)
}

// PageReports returns the reports of every comment of a page in one
// query, keyed by comment id, each comment's reports oldest first.
func (db *DB) PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error) {
	return reader{db.pool}.PageReports(ctx, pageID)
}

// PageReports is DB.PageReports on r's querier.
func (r reader) PageReports(ctx context.Context, pageID int64) (map[int64][]*parley.Report, error) {
	cols := "r." + strings.ReplaceAll(reportCols, ", ", ", r.")
	rows, err := r.q.Query(ctx, `SELECT `+cols+` FROM reports r JOIN comments c ON c.id = r.comment_id
		WHERE c.page_id = $1 ORDER BY r.comment_id, r.created, r.id`, pageID)
	if err != nil {
		return nil, wrap(err, "read reports of page")
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
func scanReports(rows pgx.Rows) ([]*parley.Report, error) {
	defer rows.Close()
	var out []*parley.Report
	for rows.Next() {
		var r parley.Report
		if err := rows.Scan(&r.ID, &r.CommentID, &r.ReporterID, &r.Reason, &r.Note, &r.Outcome, &r.Created); err != nil {
			return nil, wrap(err, "read reports")
		}
		r.Created = r.Created.UTC()
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "read reports")
	}
	return out, nil
}
