package postgres

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// seedBulk fills the site "news" with pages × perPage comments in a few
// statements, the way a busy site looks after a while: 90 % of comments
// approved, a third of them replies, votes on a fifth, an open report on
// 1 %, one event per comment, and the authors' counters. It bypasses CreateComment for speed but keeps
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
			featured, seen, text, text_hash, html, status, toxicity, created, score)
			SELECT i.cid, 'news', p.id, CASE WHEN n % 3 = 0 THEN i.cid - 1 ELSE 0 END, CASE WHEN n % 3 = 0 THEN i.cid - 1 ELSE i.cid END,
				0, n, 'user' || (hashint4(i.cid::int) & 4095), 'Reader', 'ip' || (hashint4(i.cid::int + 1) & 2047),
				false, n % 4 = 0,
				repeat('A reasonably long comment about the article. ', 6),
				hashint8(i.cid) | 1, -- stands for the hashes of distinct texts: never 0
				'<p>' || repeat('A reasonably long comment about the article. ', 6) || '</p>',
				CASE WHEN n % 50 = 7 THEN 'pending' WHEN n % 50 = 8 THEN 'rejected' WHEN n % 50 = 9 THEN 'deleted'
					WHEN n % 20 = 3 THEN 'pending' ELSE 'approved' END,
				(n % 100) / 100.0, p.created + n * interval '1 second', CASE WHEN i.cid % 5 = 0 THEN 1 ELSE 0 END
			FROM pages p, generate_series(1, $1) n, LATERAL (SELECT (p.id - 1) * $1 + n AS cid) i`, []any{perPage}},
		{`SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT max(id) FROM comments))`, nil},
		// The authors' counters, as the writes would have kept them (no
		// report is upheld yet).
		{`INSERT INTO author_stats (author_id, approved, rejected, pending)
			SELECT author_id, count(*) FILTER (WHERE status = 'approved'), count(*) FILTER (WHERE status = 'rejected'),
				count(*) FILTER (WHERE status = 'pending')
			FROM comments GROUP BY author_id`, nil},
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

// BenchmarkPostPath runs the store calls behind one post of a signed-in
// reader, in the order service.Post makes them (the reader, the page, the
// sanction, the history, the flood and duplicate counts, the insert), from
// 8 writers on one page, each writer an author who has posted prior
// comments within the hour already. Besides ns/op it reports the CPU time
// per post of the PostgreSQL backends that served it ("pg-cpu-µs/op", when
// the server runs on this machine) and of this process ("go-cpu-µs/op"):
// on a machine whose cores are full, their sum is what bounds the rate.
//
// With one writer the calls never wait for each other's locks, but each
// commit flushes the WAL on its own.
func BenchmarkPostPath(b *testing.B) {
	for _, bc := range []struct{ writers, prior int }{{8, 0}, {8, 2000}, {1, 0}} {
		b.Run(fmt.Sprintf("writers=%d/prior=%d", bc.writers, bc.prior), func(b *testing.B) {
			db, app, home := seedPostPath(b, bc.writers, bc.prior)
			ctx := context.Background()
			var seq atomic.Int64
			post := func(w int) error {
				return postPath(ctx, db, fmt.Sprintf("writer%d", w), home.URL, benchPostText(w, int(seq.Add(1))))
			}
			cpu := startCPU(b, db, app)
			if bc.writers == 1 {
				for b.Loop() {
					if err := post(0); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report("comments/s")
				return
			}
			var writer atomic.Int64
			b.SetParallelism(max(1, bc.writers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				w := int(writer.Add(1)-1) % bc.writers
				for pb.Next() {
					if err := post(w); err != nil {
						b.Error(err)
						return
					}
				}
			})
			cpu.report("comments/s")
		})
	}
}

// BenchmarkPostPathSteps runs each store call of BenchmarkPostPath on its
// own, one at a time, for an author with 2,000 comments within the hour:
// what each costs the database (pg-cpu-µs/op) and this process.
func BenchmarkPostPathSteps(b *testing.B) {
	const prior = 2000
	db, app, home := seedPostPath(b, 1, prior)
	ctx := context.Background()
	now := db.now()
	var seq atomic.Int64
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"User", func() error { _, err := db.User(ctx, "writer0"); return err }},
		{"EnsurePage", func() error { _, err := db.EnsurePage(ctx, "news", home.URL, ""); return err }},
		{"Sanction", func() error { _, err := db.Sanction(ctx, "writer0", "news"); return err }},
		{"History", func() error { _, err := db.History(ctx, "writer0", 10); return err }},
		{"Activity", func() error {
			_, err := db.Activity(ctx, store.ActivityQuery{AuthorID: "writer0", IPHash: "ipwriter0", Since: now.Add(-time.Minute),
				Text: benchPostText(0, -1), TextSince: now.Add(-time.Hour), Cap: 11})
			return err
		}},
		{"Activity/duplicate only", func() error {
			_, err := db.Activity(ctx, store.ActivityQuery{AuthorID: "writer0", IPHash: "ipwriter0", Since: now.Add(-time.Minute),
				Text: benchPostText(0, 1_000_000), TextSince: now.Add(-time.Hour), Cap: -1})
			return err
		}},
		{"CreateComment", func() error {
			return db.CreateComment(ctx, &parley.Comment{PageID: home.ID, AuthorID: "writer0", AuthorName: "Writer", IPHash: "ipwriter0",
				Text: benchPostText(0, int(seq.Add(1))), HTML: "<p>…</p>", Status: parley.StatusApproved, Created: db.now()})
		}},
	} {
		b.Run(step.name, func(b *testing.B) {
			cpu := startCPU(b, db, app)
			for b.Loop() {
				if err := step.run(); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report("")
		})
	}
}

// seedPostPath makes the site "news" with one page and the readers
// writer0…writer{writers-1}, each the author of prior approved comments of
// the last half hour on that page. The DB it returns names its connections
// app, which pgBackendCPU finds them by.
func seedPostPath(b *testing.B, writers, prior int) (db *DB, app string, home *parley.Page) {
	b.Helper()
	dsn, schema := newSchema(b)
	app = "parley_bench_" + schema[len(schema)-8:]
	db = openIn(b, withParam(dsn, "application_name", app), schema, nil)
	ctx := context.Background()
	home = seed(b, db)
	now := time.Now().UTC()
	batch := &store.ImportBatch{SiteID: "news"}
	flush := func() {
		if _, err := db.Import(ctx, batch); err != nil {
			b.Fatalf("Import: %v", err)
		}
		batch.Users, batch.Comments = nil, nil
	}
	for w := range writers {
		id := fmt.Sprintf("writer%d", w)
		batch.Users = append(batch.Users, &parley.User{ID: id, Name: "Writer", Role: parley.RoleReader, Created: now})
		for i := range prior {
			c := &parley.Comment{PageID: home.ID, AuthorID: id, AuthorName: "Writer", IPHash: "ip" + id,
				Text: benchPostText(w, -1-i), HTML: "<p>…</p>", Status: parley.StatusApproved,
				Created: now.Add(-30 * time.Minute).Add(time.Duration(i) * time.Millisecond)}
			batch.Comments = append(batch.Comments, &store.ImportedComment{Comment: c, Source: "bench", SourceID: fmt.Sprintf("%s-%d", id, i)})
			if len(batch.Comments) == 500 {
				flush()
			}
		}
	}
	flush()
	if _, err := db.pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return db, app, home
}

// cpuMeter measures the CPU time of a benchmark's operations.
type cpuMeter struct {
	b     *testing.B
	db    *DB
	app   string
	pg    map[int]time.Duration
	pgOK  bool
	proc  time.Duration
	start time.Time
}

// startCPU resets b's timer and starts measuring.
func startCPU(b *testing.B, db *DB, app string) *cpuMeter {
	m := &cpuMeter{b: b, db: db, app: app}
	m.pg, m.pgOK = pgBackendCPU(context.Background(), db, app)
	m.proc = processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	m.start = time.Now()
	return m
}

// report stops b's timer and reports the CPU time per operation, and the
// rate of operations in unit when unit is not "".
func (m *cpuMeter) report(unit string) {
	elapsed := time.Since(m.start)
	m.b.StopTimer()
	n := float64(m.b.N)
	if unit != "" {
		m.b.ReportMetric(n/elapsed.Seconds(), unit)
	}
	m.b.ReportMetric(float64((processCPU()-m.proc).Microseconds())/n, "go-cpu-µs/op")
	if pg, ok := pgBackendCPU(context.Background(), m.db, m.app); ok && m.pgOK {
		var d time.Duration
		for pid, t := range pg {
			d += t - m.pg[pid]
		}
		m.b.ReportMetric(float64(d.Microseconds())/n, "pg-cpu-µs/op")
	}
}

// postPath makes the store calls of one post by the reader userID on the
// page at url, as service.Post does.
func postPath(ctx context.Context, db *DB, userID, url, text string) error {
	u, err := db.User(ctx, userID)
	if err != nil {
		return err
	}
	p, err := db.EnsurePage(ctx, "news", url, "")
	if err != nil {
		return err
	}
	if _, err := db.Sanction(ctx, u.ID, "news"); err != nil {
		return err
	}
	if _, err := db.History(ctx, u.ID, 10); err != nil {
		return err
	}
	now := db.now()
	act, err := db.Activity(ctx, store.ActivityQuery{AuthorID: u.ID, IPHash: "ip" + u.ID, Since: now.Add(-time.Minute),
		Text: text, TextSince: now.Add(-time.Hour), Cap: 11})
	if err != nil {
		return err
	}
	if act.Duplicate {
		return fmt.Errorf("%q reported a duplicate", text)
	}
	return db.CreateComment(ctx, &parley.Comment{PageID: p.ID, AuthorID: u.ID, AuthorName: u.Name, IPHash: "ip" + u.ID,
		Text: text, HTML: "<p>" + text + "</p>", Status: parley.StatusApproved, Created: now})
}

// benchPostText is writer w's i-th text, of 200-odd characters like a
// short comment, distinct from every other.
func benchPostText(w, i int) string {
	return fmt.Sprintf("Writer %d, comment %d. %s", w, i, strings.Repeat("A reasonably long comment about the article. ", 5))
}

// processCPU returns the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgBackendCPU returns the CPU time used so far by each PostgreSQL backend
// whose application_name is app, read from /proc: false when the server is
// not on this machine (or /proc cannot be read).
func pgBackendCPU(ctx context.Context, db *DB, app string) (map[int]time.Duration, bool) {
	rows, err := db.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return nil, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, false
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil, false
		}
		// The fields after the command's closing parenthesis; utime and
		// stime are the 12th and 13th of them, in clock ticks (1/100 s).
		_, rest, _ := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			return nil, false
		}
		ut, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out[int(pid)] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out, len(out) > 0
}
