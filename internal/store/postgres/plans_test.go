package postgres

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// planCases are the queries behind the thread, the queues, the counts and
// flood control, each with the index its plan must use. The parameters are
// those of the database seedBulk makes. The work queues are checked in
// their order by age; their order by report weight has no index (see
// docs/postgres.md).
var planCases = []struct {
	name  string
	sql   string
	args  func(page int64) []any
	index string // the plan must name one of these, separated by '|'
}{
	{"thread: PageComments", `SELECT ` + commentCols + ` FROM comments WHERE page_id = $1 ORDER BY number`,
		func(p int64) []any { return []any{p} }, "comments_page_number"},
	{"page by url", `SELECT ` + pageCols + ` FROM pages WHERE site_id = $1 AND url = $2`,
		func(int64) []any { return []any{"news", "https://news.example.com/p500"} }, "pages_site_id_url_key"},
	{"counts of 50 urls", `SELECT url, count FROM pages WHERE site_id = $1 AND url = ANY($2)`,
		func(int64) []any { return []any{"news", planURLs(50)} },
		// 1,000 pages fit in 27 blocks: reading them all beats 100 probes.
		"pages_site_id_url_key|Seq Scan on pages"},
	{"queue: pending of a site, by age", queueQuery(`c.status = 'pending' AND c.site_id = $1`, `c.created, c.id`),
		func(int64) []any { return []any{"news"} },
		// With one site, the partial index of pending comments is as selective.
		"comments_site_status|comments_pending"},
	{"queue: pending of every site, by age", queueQuery(`c.status = 'pending'`, `c.created, c.id`),
		func(int64) []any { return nil }, "comments_pending"},
	{"queue: approved of a site, newest first", queueQuery(`c.status = 'approved' AND c.site_id = $1`, `c.created DESC, c.id DESC`),
		func(int64) []any { return []any{"news"} }, "comments_site_status"},
	{"queue: unmoderated of a site, by age", queueQuery(`c.status = 'approved' AND NOT c.seen AND c.site_id = $1`, `c.created, c.id`),
		func(int64) []any { return []any{"news"} }, "comments_unseen"},
	{"queue: reported of a site", queueQuery(`c.status <> 'deleted' AND c.id IN (SELECT comment_id FROM reports WHERE outcome = '') AND c.site_id = $1`, `c.created, c.id`),
		func(int64) []any { return []any{"news"} },
		// From the open reports (all of the 1,000 seeded, so read whole) to their comments.
		"reports_open|Seq Scan on reports"},
	{"queue: pending of a page", queueQuery(`c.status = 'pending' AND c.page_id = $1`, `c.created, c.id`),
		func(p int64) []any { return []any{p} }, "comments_page_number"},
	{"activity: by author", `SELECT count(*) FROM comments WHERE author_id = $1 AND created >= $2`,
		func(int64) []any { return []any{"user42", planNow.Add(-24 * time.Hour)} }, "comments_author"},
	{"activity: by address", `SELECT count(*) FROM comments WHERE ip_hash = $1 AND created >= $2`,
		func(int64) []any { return []any{"ip42", planNow.Add(-24 * time.Hour)} }, "comments_ip"},
	{"duplicate", `SELECT EXISTS (SELECT 1 FROM comments WHERE text_hash = $2 AND author_id || '' = $1 AND created >= $3 AND text = $4)`,
		// Over a window that holds every comment of the author: a seek of
		// the hash, where the (author_id, created) index would visit them all.
		func(int64) []any {
			return []any{"user42", store.TextHash("Hello"), planNow.Add(-60 * 24 * time.Hour), "Hello"}
		}, "comments_dup"},
	{"history", `SELECT coalesce(s.approved, 0), coalesce(s.rejected, 0), coalesce(s.pending, 0), coalesce(s.upheld, 0),
		ARRAY(SELECT status FROM comments WHERE author_id = $1 AND status IN ('approved', 'rejected') ORDER BY created DESC, id DESC LIMIT 10)
		FROM (SELECT) one LEFT JOIN author_stats s ON s.author_id = $1`, func(int64) []any { return []any{"user42"} }, "comments_author"},
	{"votes of a reader on a page", `SELECT v.comment_id, v.value FROM votes v JOIN comments c ON c.id = v.comment_id
		WHERE v.user_id = $1 AND c.page_id = $2`, func(p int64) []any { return []any{"voter1", p} }, "comments_page_number"},
	{"events since", `SELECT id, type, site_id, page_id, comment_id FROM events WHERE id > $1 ORDER BY id LIMIT 500`,
		func(int64) []any { return []any{int64(99_000)} }, "events_pkey"},
}

// planNow is a fixed "now" inside the seeded comments' times.
var planNow = time.Now()

func queueQuery(where, order string) string {
	cols := "c." + strings.ReplaceAll(commentCols, ", ", ", c.")
	return `SELECT ` + cols + `, p.id, p.url FROM comments c JOIN pages p ON p.id = c.page_id
		WHERE ` + where + ` ORDER BY ` + order + ` LIMIT 50`
}

// planURLs returns n urls of seeded pages and n of missing ones.
func planURLs(n int) []string {
	var urls []string
	for i := range n {
		urls = append(urls, fmt.Sprintf("https://news.example.com/p%d", 1+i*19), fmt.Sprintf("https://news.example.com/x%d", i))
	}
	return urls
}

// TestQueryPlans seeds 100,000 comments over 1,000 pages and checks that
// each query of planCases uses its index and never scans the comments table
// whole. With PARLEY_EXPLAIN=1 it prints each EXPLAIN (ANALYZE, BUFFERS), as
// quoted in docs/postgres.md.
func TestQueryPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 comments")
	}
	dsn, schema := newSchema(t) // dropped at the end, not reused
	db := openIn(t, dsn, schema, nil)
	start := time.Now()
	pages := seedBulk(t, db, 1000, 100)
	t.Logf("seeded 1,000 pages × 100 comments in %v", time.Since(start).Round(time.Millisecond))
	page := pages[len(pages)/2]
	show := os.Getenv("PARLEY_EXPLAIN") != ""
	ctx := context.Background()
	for _, pc := range planCases {
		t.Run(pc.name, func(t *testing.T) {
			rows, err := db.pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+pc.sql, pc.args(page)...)
			if err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("EXPLAIN: %v", err)
			}
			text := strings.Join(plan, "\n")
			if show {
				t.Logf("%s\n%s", pc.name, text)
			}
			if !slices.ContainsFunc(strings.Split(pc.index, "|"), func(ix string) bool { return strings.Contains(text, ix) }) {
				t.Errorf("the plan does not use %s:\n%s", pc.index, text)
			}
			if strings.Contains(text, "Seq Scan on comments") {
				t.Errorf("the plan scans every comment:\n%s", text)
			}
		})
	}
}

// TestDuplicateSearchOnAFreshDatabase: a database made with migration 0006
// holds no comment without a text hash, so that the duplicate search is
// one seek of the hash however far back its window reaches, and still
// finds a duplicate; a database migrated to 0006 later looks for the
// unhashed rows too while its window reaches back before the migration.
func TestDuplicateSearchOnAFreshDatabase(t *testing.T) {
	db := open(t)
	page := seed(t, db)
	ctx := context.Background()
	now := time.Now()
	q := store.ActivityQuery{AuthorID: "bob", Text: "Hello again", TextSince: now.Add(-7 * 24 * time.Hour), Cap: -1}
	if sql, _ := db.activityQuery(q); strings.Contains(sql, "text_hash = 0") {
		t.Errorf("a fresh database searches unhashed comments:\n%s", sql)
	}
	c := &parley.Comment{PageID: page.ID, AuthorID: "bob", AuthorName: "Bob", Text: "Hello again", HTML: "<p>Hello again</p>", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	if a, err := db.Activity(ctx, q); err != nil || !a.Duplicate {
		t.Errorf("Activity = %+v, %v; want the duplicate found", a, err)
	}
	db.hashedSince = now.Add(-time.Hour) // as if 0006 had come to an older database
	if sql, _ := db.activityQuery(q); !strings.Contains(sql, "text_hash = 0") {
		t.Errorf("a database older than its hashes skips the unhashed comments:\n%s", sql)
	}
}

// TestDuplicateSearchOnAYoungTable plans the duplicate search as a
// connection caches it (a generic plan, sorting off as in PostContext) on
// a table without statistics holding 0 to 500 comments, alone and in
// PostContext's one statement: each plan must seek comments_dup, never
// walk the author's comments by comments_author (see migration 0016),
// which on the bench's young database cost a prolific poster 3-4 ms a
// post, and never sort.
func TestDuplicateSearchOnAYoungTable(t *testing.T) {
	db := open(t)
	page := seed(t, db)
	ctx := context.Background()
	now := time.Now()
	total := 0
	for _, n := range []int{0, 5, 50, 500} {
		for ; total < n; total++ {
			c := &parley.Comment{PageID: page.ID, AuthorID: fmt.Sprintf("w%d", total%4), AuthorName: "W", IPHash: "ip",
				Text: fmt.Sprintf("comment %d", total), HTML: "<p>…</p>", Status: parley.StatusApproved}
			if err := db.CreateComment(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, unhashed := range []bool{false, true} {
			q := store.ActivityQuery{AuthorID: "w3", IPHash: "ip", Since: now.Add(-time.Minute), Cap: -1,
				Text: "a new text", TextSince: now.Add(-7 * 24 * time.Hour)}
			db.hashedSince = time.Time{}
			if unhashed {
				db.hashedSince = now
			}
			sql, args := db.activityQuery(q)
			if unhashed {
				// And as PostContext sends it, with the other reads.
				sql, args = postContextSQL(sql, historyRecentForTest), append(args, "news", page.URL, "w3")
			}
			tx, err := db.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, sortOff); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			rows.Close()
			tx.Rollback(ctx)
			text := strings.Join(plan, "\n")
			// In PostContext's statement, History walks comments_author
			// backward (and nothing else does).
			if want := map[bool]int{false: 1, true: 2}[unhashed]; strings.Count(text, "comments_dup") != want ||
				strings.Count(text, "comments_author") > map[bool]int{false: 0, true: 1}[unhashed] ||
				strings.Contains(text, "Seq Scan") || strings.Contains(text, "Sort") {
				t.Errorf("%d comments, unhashed=%v: the duplicate search does not seek comments_dup:\n%s", n, unhashed, text)
			}
		}
	}
}

// historyRecentForTest is the service's number of recent statuses.
const historyRecentForTest = 10
