package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
)

// TestMigrateAuthorStats writes comments, a status change and an upheld
// report, takes migration 0006 back out of the schema and applies it again:
// the counters it fills from the rows give the History the writes had kept,
// and a text stored without its hash is still found as a duplicate.
func TestMigrateAuthorStats(t *testing.T) {
	dsn, schema := newSchema(t)
	db := openIn(t, dsn, schema, nil)
	ctx := context.Background()
	page := seed(t, db)
	var cs []*parley.Comment
	for i, st := range []string{parley.StatusApproved, parley.StatusRejected, parley.StatusPending, parley.StatusApproved, parley.StatusDeleted} {
		c := &parley.Comment{PageID: page.ID, AuthorID: "bob", AuthorName: "Bob", Text: fmt.Sprintf("text %d", i), HTML: "<p>…</p>", Status: st}
		if err := db.CreateComment(ctx, c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	other := &parley.Comment{PageID: page.ID, AuthorID: "carol", AuthorName: "Carol", Text: "hers", HTML: "<p>…</p>", Status: parley.StatusApproved}
	if err := db.CreateComment(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"x", "y"} {
		if _, err := db.AddReport(ctx, &parley.Report{CommentID: cs[3].ID, ReporterID: r, Reason: "spam"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SetStatus(ctx, cs[3].ID, parley.StatusRejected, nil, true); err != nil {
		t.Fatal(err)
	}
	want, err := db.History(ctx, "bob", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want.Approved != 1 || want.Rejected != 2 || want.Pending != 1 || want.ReportsUpheld != 2 || len(want.Recent) != 3 {
		t.Fatalf("History before: got %+v", want)
	}
	// Migration 0006 out again; migrations numbered after it would go too.
	for _, q := range []string{
		`DROP TABLE author_stats`,
		`ALTER TABLE comments DROP COLUMN text_hash`, // and its indexes, 0016_duplicate_index's too
		`DROP TABLE sso_tokens`,                      // 0007_sso
		`DROP TABLE ban_marks`,                       // 0012_ban_marks
		`DROP TABLE reader_session_revocations`,      // 0015_reader_sessions
		`ALTER TABLE users DROP COLUMN picture`,      // 0013_reader_profile
		`ALTER TABLE users DROP COLUMN sessions_after`,
		`ALTER TABLE users DROP COLUMN own_name`,
		`DROP TABLE site_sso`,
		`DROP TABLE idempotency_keys`,   // 0011_idempotency
		`DROP TABLE webhook_deliveries`, // 0010_webhooks
		`DROP TABLE webhooks`,
		`ALTER TABLE events DROP COLUMN user_id`,
		`DROP TABLE mail_queue`, // 0009_mail
		`DROP TABLE mail_prefs`,
		`DROP TABLE mail_tokens`,
		`DROP TABLE oidc_logins`, // 0008_oidc
		`DROP TABLE site_oidc`,
		`DROP TABLE site_privacy`,
		`DELETE FROM schema_migrations WHERE version >= 6`,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(ctx, db.pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	// As Open does after migrating: the database now has comments older
	// than its hashes.
	if err := db.readHashedSince(ctx); err != nil {
		t.Fatal(err)
	}
	if db.hashedSince.IsZero() {
		t.Fatal("a database migrated to 0006 with comments is taken for one made hashed")
	}
	got, err := db.History(ctx, "bob", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got.Approved != want.Approved || got.Rejected != want.Rejected || got.Pending != want.Pending ||
		got.ReportsUpheld != want.ReportsUpheld || fmt.Sprint(got.Recent) != fmt.Sprint(want.Recent) {
		t.Errorf("History after the migration: got %+v, want %+v", got, want)
	}
	if h, err := db.History(ctx, "carol", 10); err != nil || h.Approved != 1 || h.Rejected+h.Pending+h.ReportsUpheld != 0 {
		t.Errorf("carol's History after the migration: got %+v, %v; want 1 approved", h, err)
	}
	for _, tc := range []struct {
		text string
		want bool
	}{{"text 2", true}, {"text 9", false}, {"hers", false}} {
		a, err := db.Activity(ctx, store.ActivityQuery{AuthorID: "bob", Since: time.Now(), Text: tc.text, TextSince: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if a.Duplicate != tc.want {
			t.Errorf("duplicate of %q stored before hashing: got %v, want %v", tc.text, a.Duplicate, tc.want)
		}
	}
}

// TestPosterReadsOnStaleStatistics writes 3,000 comments of one new poster,
// all in the same second as an import may, to a table whose statistics
// predate them, and checks that History's and Activity's statements, run
// as queryInOrder runs them, read the poster's newest rows in index order
// (a Limit over an index scan, no sort of everything the poster wrote).
func TestPosterReadsOnStaleStatistics(t *testing.T) {
	dsn, schema := newSchema(t)
	db := openIn(t, dsn, schema, nil)
	ctx := context.Background()
	page := seed(t, db)
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil { // statistics of an empty table
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	batch := &store.ImportBatch{SiteID: "news"}
	for i := range 3000 {
		text := fmt.Sprintf("comment %d", i)
		batch.Comments = append(batch.Comments, &store.ImportedComment{Source: "test", SourceID: fmt.Sprint(i),
			Comment: &parley.Comment{PageID: page.ID, AuthorID: "bot", AuthorName: "Bot", IPHash: "ip", Text: text,
				HTML: "<p>" + text + "</p>", Status: parley.StatusApproved, Created: now}})
	}
	if _, err := db.Import(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sql  string
		args []any
	}{
		{"History", historySQL(10), []any{"bot"}},
		{"Activity", activitySQL(true, true, true, false, 11),
			[]any{"bot", "ip", now.Add(-time.Minute), "new text", now.Add(-time.Hour), store.TextHash("new text")}},
	} {
		// As queryInOrder runs them: sorting off in their transaction.
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sortOff); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE) `+tc.sql, tc.args...)
		if err != nil {
			t.Fatalf("%s: EXPLAIN: %v", tc.name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		tx.Rollback(ctx)
		if err != nil {
			t.Fatalf("%s: EXPLAIN: %v", tc.name, err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "Index") || strings.Contains(text, "Sort") || strings.Contains(text, "Bitmap") ||
			strings.Contains(text, "rows=3000") {
			t.Errorf("%s reads every row of the poster:\n%s", tc.name, text)
		}
	}
}

// TestMigrateFillsAGap: a migration numbered below the newest applied one
// but never applied (made on a branch beside it, landed after it) is
// applied at the next Open; the ones applied are not run again.
func TestMigrateFillsAGap(t *testing.T) {
	dsn, schema := newSchema(t)
	db := openIn(t, dsn, schema, nil)
	ctx := context.Background()
	for _, q := range []string{
		`DROP INDEX comments_dup`, // 0016_duplicate_index, as if it never ran
		`CREATE INDEX comments_author_text ON comments (author_id, text_hash, created)`,
		`DELETE FROM schema_migrations WHERE version = 16`,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(ctx, db.pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var idx, row int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'comments_dup'`).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 16`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	if idx != 1 || row != 1 {
		t.Errorf("after migrate: comments_dup %d, schema_migrations row 16 %d; want the gap filled (1 and 1)", idx, row)
	}
}
