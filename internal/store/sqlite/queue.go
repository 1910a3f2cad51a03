package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// queueSQL is the condition and order of each moderation queue. Work queues
// (pending, reported, unmoderated) list by priority, the weight of the open
// reports and then the toxicity score, and among equals the oldest first, so
// that nothing waits forever; the others list the newest first.
var queueSQL = map[string]struct{ where, order string }{
	store.QueuePending:  {`c.status = 'pending'`, byPriority},
	store.QueueReported: {`c.status <> 'deleted' AND EXISTS (SELECT 1 FROM reports r WHERE r.comment_id = c.id AND r.outcome = '')`, byPriority},
	store.QueueRejected: {`c.status = 'rejected'`, `c.created DESC, c.id DESC`},
	store.QueueApproved: {`c.status = 'approved'`, `c.created DESC, c.id DESC`},
	store.QueueUnseen:   {`c.status = 'approved' AND NOT c.seen`, byPriority},
}

const byPriority = `weight DESC, c.toxicity DESC, c.created, c.id`

// weightSQL is the weight of a comment's open reports: the sum over its
// reporters of store.ReporterWeight of their decided reports.
const weightSQL = `(SELECT coalesce(sum(
		(1.0 + (SELECT count(*) FROM reports u WHERE u.reporter_id = r.reporter_id AND u.outcome = 'upheld')) /
		(2.0 + (SELECT count(*) FROM reports d WHERE d.reporter_id = r.reporter_id AND d.outcome IN ('upheld', 'dismissed')))), 0)
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
	if q.SiteID != "" {
		where = append(where, `c.site_id = ?`)
		args = append(args, q.SiteID)
	}
	if q.PageID != 0 {
		where = append(where, `c.page_id = ?`)
		args = append(args, q.PageID)
	}
	if q.AuthorID != "" {
		where = append(where, `c.author_id = ?`)
		args = append(args, q.AuthorID)
	}
	args = append(args, q.Limit, q.Offset)
	cols := "c." + strings.ReplaceAll(commentCols, ", ", ", c.")
	query := `SELECT ` + cols + `, p.id, p.site_id, p.url, p.title, p.closed, p.count, p.policy, p.created, ` + weightSQL + ` AS weight
		FROM comments c JOIN pages p ON p.id = c.page_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + qs.order + ` LIMIT ? OFFSET ?`

	tx, err := db.rdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	var items []*store.QueueItem
	pages := make(map[int64]*parley.Page)
	byID := make(map[int64]*store.QueueItem)
	for rows.Next() {
		var c parley.Comment
		var p parley.Page
		var reasons []byte
		var created, edited, pcreated int64
		var weight float64
		if err := rows.Scan(&c.ID, &c.PageID, &c.ParentID, &c.RootID, &c.QuoteID, &c.Number,
			&c.AuthorID, &c.AuthorName, &c.IPHash, &c.Featured, &c.Seen, &c.Text, &c.HTML, &c.Status,
			&reasons, &c.Toxicity, &created, &edited, &c.Score,
			&p.ID, &p.SiteID, &p.URL, &p.Title, &p.Closed, &p.Count, &p.Policy, &pcreated, &weight); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read queue: %w", err)
		}
		if c.RootID == 0 {
			c.RootID = c.ID
		}
		c.Created, c.Edited, p.Created = fromMillis(created), fromMillis(edited), fromMillis(pcreated)
		if c.Reasons, err = decodeReasons(reasons); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read queue: comment %d: %w", c.ID, err)
		}
		// Comments of one page share one Page value.
		pp, ok := pages[p.ID]
		if !ok {
			pp = &p
			pages[p.ID] = pp
		}
		it := &store.QueueItem{Comment: &c, Page: pp, ReportWeight: weight}
		items = append(items, it)
		byID[c.ID] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read queue: %w", err)
	}
	if len(items) == 0 {
		return items, nil
	}

	ids := make([]any, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.Comment.ID)
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+reportCols+` FROM reports
		WHERE outcome = '' AND comment_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)
		ORDER BY created, id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("read queue reports: %w", err)
	}
	reports, err := scanReports(rows)
	if err != nil {
		return nil, err
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
	return items, nil
}
