package postgres

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// seedBulk fills the site "news" with pages × perPage comments in a few
// statements, the way a busy site looks after a while: 90 % of comments
// approved, a third of them replies, votes on a fifth, an open report on
// 1 %, one event per comment. It bypasses CreateComment for speed but keeps
// the same invariants (numbers, counts, roots, scores). It returns the page
// ids.
func seedBulk(tb testing.TB, db *DB, pages, perPage int) []int64 {
	tb.Helper()
	ctx := context.Background()
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		tb.Fatalf("CreateSite: %v", err)
	}
	type stmt struct {
		sql  string
		args []any
	}
	// Comment ids are given, (page - 1) × perPage + number, so that a
	// reply can name the comment before it as parent and root.
	for _, st := range []stmt{
		{`INSERT INTO pages (site_id, url, title, created, last_number)
			SELECT 'news', 'https://news.example.com/p' || i, 'Page ' || i, now() - interval '30 days', $2
			FROM generate_series(1, $1) i`, []any{pages, perPage}},
		{`INSERT INTO comments (id, site_id, page_id, parent_id, root_id, quote_id, number, author_id, author_name, ip_hash,
			featured, seen, text, html, status, toxicity, created, score)
			SELECT i.cid, 'news', p.id, CASE WHEN n % 3 = 0 THEN i.cid - 1 ELSE 0 END, CASE WHEN n % 3 = 0 THEN i.cid - 1 ELSE i.cid END,
				0, n, 'user' || (hashint4(i.cid::int) & 4095), 'Reader', 'ip' || (hashint4(i.cid::int + 1) & 2047),
				false, n % 4 = 0,
				repeat('A reasonably long comment about the article. ', 6),
				'<p>' || repeat('A reasonably long comment about the article. ', 6) || '</p>',
				CASE WHEN n % 50 = 7 THEN 'pending' WHEN n % 50 = 8 THEN 'rejected' WHEN n % 50 = 9 THEN 'deleted'
					WHEN n % 20 = 3 THEN 'pending' ELSE 'approved' END,
				(n % 100) / 100.0, p.created + n * interval '1 second', CASE WHEN i.cid % 5 = 0 THEN 1 ELSE 0 END
			FROM pages p, generate_series(1, $1) n, LATERAL (SELECT (p.id - 1) * $1 + n AS cid) i`, []any{perPage}},
		{`SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT max(id) FROM comments))`, nil},
		{`INSERT INTO votes (comment_id, user_id, value)
			SELECT id, 'voter' || v, CASE WHEN v = 3 THEN -1 ELSE 1 END
			FROM comments, generate_series(1, 3) v WHERE id % 5 = 0`, nil},
		{`INSERT INTO reports (comment_id, reporter_id, reason, note, outcome, created)
			SELECT id, 'reporter' || (id % 97), 'spam', '', '', created + interval '1 hour'
			FROM comments WHERE id % 100 = 1`, nil},
		{`UPDATE pages p SET count = c.n FROM (SELECT page_id, count(*) AS n FROM comments
			WHERE status = 'approved' GROUP BY page_id) c WHERE c.page_id = p.id`, nil},
		{`INSERT INTO events (type, site_id, page_id, comment_id)
			SELECT 'comment.created', site_id, page_id, id FROM comments ORDER BY id`, nil},
		{`VACUUM ANALYZE`, nil},
	} {
		if _, err := db.pool.Exec(ctx, st.sql, st.args...); err != nil {
			tb.Fatalf("seed: %v\n%s", err, st.sql)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT id FROM pages ORDER BY id`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// BenchmarkCreateCommentParallel posts comments from 8 goroutines at once,
// all on one page (every writer waits for the page's row lock) and each on a
// page of its own (writers meet only at the event-id lock).
func BenchmarkCreateCommentParallel(b *testing.B) {
	for _, bc := range []struct {
		name     string
		samePage bool
	}{{"one page", true}, {"a page each", false}} {
		b.Run(bc.name, func(b *testing.B) {
			db := open(b)
			home := seed(b, db)
			var writer atomic.Int64
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				w := writer.Add(1)
				page := home
				if !bc.samePage {
					p, err := db.EnsurePage(context.Background(), "news", fmt.Sprintf("https://news.example.com/w%d", w), "")
					if err != nil {
						b.Error(err)
						return
					}
					page = p
				}
				for i := 0; pb.Next(); i++ {
					c := &parley.Comment{PageID: page.ID, AuthorID: "alice", AuthorName: "Alice",
						Text: "A comment", HTML: "<p>A comment</p>", Status: parley.StatusApproved}
					if err := db.CreateComment(context.Background(), c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "comments/s")
		})
	}
}

// BenchmarkPageComments1000 reads the 1,000 comments of a page, the query
// behind every uncached thread view.
func BenchmarkPageComments1000(b *testing.B) {
	dsn, schema := newSchema(b)
	db := openIn(b, dsn, schema, nil)
	pages := seedBulk(b, db, 10, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		cs, err := db.PageComments(ctx, pages[i%len(pages)])
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != 1000 {
			b.Fatalf("got %d comments, want 1000", len(cs))
		}
	}
}
