package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// queueSQL is the condition and order of each moderation queue. Work queues
// (pending, reported, unmoderated) list by priority, the weight of the open
// reports and then the toxicity score, and among equals the oldest first, so
// that nothing waits forever; the others list the newest first. The reported
// queue starts from the open reports, which the partial index reports_open
// keeps small.
var queueSQL = map[string]struct{ where, order string }{
	store.QueuePending:  {`c.status = 'pending'`, byPriority},
	store.QueueReported: {`c.status <> 'deleted' AND c.id IN (SELECT comment_id FROM reports WHERE outcome = '')`, byPriority},
	store.QueueRejected: {`c.status = 'rejected'`, `c.created DESC, c.id DESC`},
	store.QueueApproved: {`c.status = 'approved'`, `c.created DESC, c.id DESC`},
	store.QueueUnseen:   {`c.status = 'approved' AND NOT c.seen`, byPriority},
}

const byPriority = `weight DESC, c.toxicity DESC, c.created, c.id`

// weightSQL is the weight of a comment's open reports: the sum over its
// reporters of store.ReporterWeight of their decided reports.
const weightSQL = `(SELECT coalesce(sum(
		(1.0 + (SELECT count(*) FROM reports u WHERE u.reporter_id = r.reporter_id AND u.outcome = 'upheld')) /
		(2.0 + (SELECT count(*) FROM reports d WHERE d.reporter_id = r.reporter_id AND d.outcome IN ('upheld', 'dismissed')))), 0)::double precision
	FROM reports r WHERE r.comment_id = c.id AND r.outcome = '')`

// Queue lists comments for moderators with their pages and open reports, from
// one snapshot of the database. EInvalid for an unknown queue name.
func (db *DB) Queue(ctx context.Context, q store.QueueQuery) ([]*store.QueueItem, error) {
	qs, ok := queueSQL[q.Queue]
	if !ok {
		return nil, parley.Errorf(parley.EInvalid, "unknown moderation queue %q", q.Queue)
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Offset < 0 {
		q.Offset = 0
	}
	where := []string{qs.where}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.SiteID != "" {
		where = append(where, `c.site_id = `+arg(q.SiteID))
	}
	if q.PageID != 0 {
		where = append(where, `c.page_id = `+arg(q.PageID))
	}
	if q.AuthorID != "" {
		where = append(where, `c.author_id = `+arg(q.AuthorID))
	}
	cols := "c." + strings.ReplaceAll(commentCols, ", ", ", c.")
	query := `SELECT ` + cols + `, p.id, p.site_id, p.url, p.title, p.closed, p.count, p.policy, p.created, ` + weightSQL + ` AS weight
		FROM comments c JOIN pages p ON p.id = c.page_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + qs.order + ` LIMIT ` + arg(q.Limit) + ` OFFSET ` + arg(q.Offset)

	var items []*store.QueueItem
	err := db.snapshot(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return wrap(err, "read queue")
		}
		defer rows.Close()
		pages := make(map[int64]*parley.Page)
		byID := make(map[int64]*store.QueueItem)
		var ids []int64
		for rows.Next() {
			var c parley.Comment
			var p parley.Page
			var weight float64
			if err := scanComment(queueRow{rows, &p, &weight}, &c); err != nil {
				return wrap(err, "read queue")
			}
			p.Created = p.Created.UTC()
			// Comments of one page share one Page value.
			pp, ok := pages[p.ID]
			if !ok {
				pp = &p
				pages[p.ID] = pp
			}
			it := &store.QueueItem{Comment: &c, Page: pp, ReportWeight: weight}
			items = append(items, it)
			byID[c.ID] = it
			ids = append(ids, c.ID)
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "read queue")
		}
		if len(items) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT `+reportCols+` FROM reports
			WHERE outcome = '' AND comment_id = ANY($1) ORDER BY created, id`, ids)
		if err != nil {
			return wrap(err, "read queue reports")
		}
		reports, err := scanReports(rows)
		if err != nil {
			return err
		}
		reporters := make(map[int64]map[string]bool)
		for _, r := range reports {
			it := byID[r.CommentID]
			it.Reports = append(it.Reports, r)
			if reporters[r.CommentID] == nil {
				reporters[r.CommentID] = make(map[string]bool)
			}
			reporters[r.CommentID][r.ReporterID] = true
		}
		for id, set := range reporters {
			byID[id].Reporters = len(set)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// queueRow scans a queue row: the comment's columns through scanComment,
// then the page's into p and the report weight.
type queueRow struct {
	rows   pgx.Rows
	p      *parley.Page
	weight *float64
}

// Scan implements pgx.Row.
func (r queueRow) Scan(dest ...any) error {
	p := r.p
	return r.rows.Scan(append(dest, &p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &p.Created, r.weight)...)
}
