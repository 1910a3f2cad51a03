package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// benchDB opens a fresh database with one site and one page.
func benchDB(b *testing.B, configure func(*sqlite.DB)) (*sqlite.DB, *parley.Page) {
	b.Helper()
	ctx := context.Background()
	db := sqlite.New(filepath.Join(b.TempDir(), "bench.db"))
	if configure != nil {
		configure(db)
	}
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		b.Fatal(err)
	}
	p, err := db.EnsurePage(ctx, "news", "https://news.example.com/a", "A")
	if err != nil {
		b.Fatal(err)
	}
	return db, p
}

// benchText is a 400-character comment body.
var benchText = strings.Repeat("Lorem ipsum dolor sit amet, consectetur. ", 10)

func newComment(p *parley.Page, i int) *parley.Comment {
	return &parley.Comment{
		PageID: p.ID, AuthorID: fmt.Sprintf("u%d", i%97), AuthorName: "Reader", IPHash: "ip",
		Text: benchText, HTML: "<p>" + benchText + "</p>", Status: parley.StatusApproved,
	}
}

// BenchmarkCreateCommentSerial measures one writer at a time: every comment
// waits for its own fsync.
func BenchmarkCreateCommentSerial(b *testing.B) {
	db, p := benchDB(b, nil)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := db.CreateComment(ctx, newComment(p, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comments/s")
}

// BenchmarkCreateCommentParallel measures 8 concurrent writers, which share
// fsyncs through group commit.
func BenchmarkCreateCommentParallel(b *testing.B) {
	db, p := benchDB(b, nil)
	ctx := context.Background()
	// 8 writers whatever GOMAXPROCS is (SetParallelism multiplies by it).
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if err := db.CreateComment(ctx, newComment(p, i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comments/s")
	st := db.Stats()
	b.ReportMetric(float64(st.Ops)/float64(max(1, st.Batches)), "ops/batch")
}

// BenchmarkPageComments1000 reads a page of 1,000 comments (30% replies):
// "scan" with the thread cache off, every call reading the rows; "cached"
// with it on, every call checking the page's revision and copying.
func BenchmarkPageComments1000(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"scan", -1}, {"cached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			db, p := benchDB(b, func(db *sqlite.DB) { db.CacheComments = bc.cache })
			ctx := context.Background()
			var tops []int64
			for i := range 1000 {
				c := newComment(p, i)
				if i%10 < 3 && len(tops) > 0 {
					c.ParentID = tops[i%len(tops)]
				}
				if err := db.CreateComment(ctx, c); err != nil {
					b.Fatal(err)
				}
				if c.ParentID == 0 {
					tops = append(tops, c.ID)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				cs, err := db.PageComments(ctx, p.ID)
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) != 1000 {
					b.Fatalf("got %d comments, want 1000", len(cs))
				}
			}
		})
	}
}

// BenchmarkLoadThread1000 builds a reader's first page of that thread.
func BenchmarkLoadThread1000(b *testing.B) {
	db, p := benchDB(b, nil)
	ctx := context.Background()
	for i := range 1000 {
		if err := db.CreateComment(ctx, newComment(p, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := store.LoadThread(ctx, db, store.ThreadQuery{PageID: p.ID, Limit: store.MaxLimit}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPosterRecord measures what the moderation pipeline reads on every
// post, History and Activity, for a reader with 2,000 comments, 500 of them
// in the duplicate window.
func BenchmarkPosterRecord(b *testing.B) {
	db, p := benchDB(b, nil)
	ctx := context.Background()
	now := time.Now()
	for i := range 2000 {
		c := newComment(p, 0)
		c.Text = fmt.Sprintf("%d %s", i, benchText)
		c.Created = now.Add(time.Duration(i-2000) * time.Minute / 4)
		if err := db.CreateComment(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	author := newComment(p, 0).AuthorID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.History(ctx, author, 10); err != nil {
			b.Fatal(err)
		}
		a, err := db.Activity(ctx, store.ActivityQuery{AuthorID: author, IPHash: "ip", Since: now.Add(-time.Minute),
			Text: "new " + benchText, TextSince: now.Add(-2 * time.Hour)})
		if err != nil || a.Duplicate {
			b.Fatal(a, err)
		}
	}
}
