package service_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/importer"
	"github.com/parleyhq/parley/internal/moderation"
	"github.com/parleyhq/parley/internal/render"
	"github.com/parleyhq/parley/internal/service"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/postgres"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/testenv"
)

// openSQLite opens a store on a new SQLite file, closed when the test ends.
func openSQLite(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a store in a schema of its own on the test server
// (PARLEY_TEST_POSTGRES), closed and dropped when the test ends.
func openPostgres(t *testing.T) store.Store {
	t.Helper()
	dsn, schema := testenv.PostgresSchema(t, "parley_service_")
	db := postgres.New(dsn)
	db.Schema = schema
	if err := db.Open(t.Context()); err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestExportWhileReadersPost exports a site again and again while new
// readers post, reply and report on it. Every export must be one moment of
// the site: each comment's author and each report's reporter has a user
// line, each reply's parent is in it, each page's comments are numbered
// 1…n, and the counts it reports are the lines it wrote. Each export
// imports into an empty server with every comment stored and no warning.
func TestExportWhileReadersPost(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", openPostgres},
	} {
		t.Run(tc.name, func(t *testing.T) { exportWhilePosting(t, tc.open(t)) })
	}
}

func exportWhilePosting(t *testing.T, db store.Store) {
	ctx := t.Context()
	svc := service.New(db, render.New())
	if err := svc.CreateSite(ctx, &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	p := moderation.DefaultPolicy()
	p.FloodPerMinute, p.FloodPerMinuteIP, p.FloodDuplicateWindow = 0, 0, 0
	if _, err := svc.SetPolicy(ctx, admin, "news", p); err != nil {
		t.Fatalf("SetPolicy: %v", err)
	}

	// Writers: each step is a reader who has never written before, so
	// their user is created just before their comment or report.
	const writers, pages, rounds, stepsPerRound = 4, 6, 5, 20
	type posted struct {
		id  int64
		url string
	}
	var (
		mu    sync.Mutex
		all   []posted
		steps atomic.Int64
		pause sync.RWMutex // held by the test while it checks an export
		stop  = make(chan struct{})
		tick  = make(chan struct{}, 1024) // a step done
		wg    sync.WaitGroup
	)
	step := func(w, i int) error {
		a := service.Actor{IP: fmt.Sprintf("10.%d.%d.%d", w, i/250, i%250)}
		mu.Lock()
		var target posted
		if len(all) > 0 {
			target = all[(i*7+w)%len(all)]
		}
		mu.Unlock()
		if i%4 == 3 && target.id != 0 {
			_, err := svc.Report(ctx, a, target.id, service.ReportInput{Reason: "abuse"})
			if parley.ErrorCode(err) == parley.EInvalid { // held and hidden meanwhile
				return nil
			}
			return err
		}
		in := service.PostInput{SiteID: "news", URL: fmt.Sprintf("https://news.example.com/2026/story-%d", (i+w)%pages),
			Title: "Story", Name: fmt.Sprintf("Reader %d-%d", w, i), Text: fmt.Sprintf("Comment %d by writer %d, on the council's budget.", i, w)}
		if i%3 == 1 && target.id != 0 {
			in.URL, in.ParentID = target.url, target.id
		}
		res, err := svc.Post(ctx, a, in)
		if err != nil {
			return err
		}
		mu.Lock()
		all = append(all, posted{res.Comment.ID, in.URL})
		mu.Unlock()
		return nil
	}
	for w := range writers {
		wg.Add(1)
		go func() { // exits when stop is closed, or at its first error
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				pause.RLock()
				err := step(w, i)
				pause.RUnlock()
				if err != nil {
					t.Errorf("writer %d, step %d: %v", w, i, err)
					return
				}
				steps.Add(1)
				select {
				case tick <- struct{}{}:
				default:
				}
			}
		}()
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()
	defer func() { close(stop); <-writing }()

	for round := range rounds {
		// Let the writers get ahead, then export while they go on.
		for range stepsPerRound {
			select {
			case <-tick:
			case <-writing:
				t.Fatalf("round %d: the writers stopped", round)
			}
		}
		var buf bytes.Buffer
		before := steps.Load()
		rep, err := svc.Export(ctx, &buf, service.ExportOptions{SiteID: "news"})
		if err != nil {
			t.Fatalf("round %d: Export: %v", round, err)
		}
		t.Logf("round %d: %+v, %d steps of the writers during the export", round, *rep, steps.Load()-before)
		// The writers wait while the export is checked, so that each
		// round adds about as much as the one before.
		func() {
			pause.Lock()
			defer pause.Unlock()
			checkExport(t, fmt.Sprintf("round %d", round), buf.Bytes(), rep)
			checkReimport(t, fmt.Sprintf("round %d", round), buf.Bytes(), rep)
			for len(tick) > 0 {
				<-tick
			}
		}()
	}
}

// checkExport checks that an export is whole: every line in its place and
// every id it names written in it.
func checkExport(t *testing.T, what string, export []byte, rep *service.ExportReport) {
	t.Helper()
	users := map[string]bool{}
	pages := map[string]bool{}
	comments := map[int64]bool{}
	numbers := map[string]int{} // page → the last number seen
	var got service.ExportReport
	phase := 0 // header, pages, users, comments
	sc := bufio.NewScanner(bytes.NewReader(export))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: line %d: %v", what, n, err)
		}
		order := map[string]int{"header": 0, "page": 1, "user": 2, "comment": 3}[l.Type]
		if order < phase || (n == 1) != (l.Type == "header") {
			t.Fatalf("%s: line %d: a %s line after the %d-th part of the file", what, n, l.Type, phase)
		}
		phase = order
		switch l.Type {
		case "page":
			var p importer.PageLine
			json.Unmarshal(sc.Bytes(), &p)
			pages[p.URL] = true
			got.Pages++
		case "user":
			var u importer.UserLine
			json.Unmarshal(sc.Bytes(), &u)
			users[u.ID] = true
			got.Users++
		case "comment":
			var c importer.CommentLine
			json.Unmarshal(sc.Bytes(), &c)
			got.Comments++
			if !users[c.Author] {
				t.Errorf("%s: comment %d: its author %s has no user line", what, c.ID, c.Author)
			}
			if !pages[c.Page] {
				t.Errorf("%s: comment %d: its page %s has no page line", what, c.ID, c.Page)
			}
			if c.Parent != 0 && !comments[c.Parent] {
				t.Errorf("%s: comment %d: its parent %d is not before it", what, c.ID, c.Parent)
			}
			if c.Number != numbers[c.Page]+1 {
				t.Errorf("%s: comment %d is #%d of %s, after #%d", what, c.ID, c.Number, c.Page, numbers[c.Page])
			}
			numbers[c.Page] = c.Number
			comments[c.ID] = true
			for _, r := range c.Reports {
				got.Reports++
				if !users[r.Reporter] {
					t.Errorf("%s: comment %d: its reporter %s has no user line", what, c.ID, r.Reporter)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != *rep {
		t.Errorf("%s: the export holds %+v, and reports %+v", what, got, *rep)
	}
}

// checkReimport imports an export into a new server and checks that it
// stores every comment, with a reader for each author and reporter, and
// warns of nothing.
func checkReimport(t *testing.T, what string, export []byte, rep *service.ExportReport) {
	t.Helper()
	svc := service.New(openSQLite(t), render.New())
	if err := svc.CreateSite(t.Context(), &parley.Site{ID: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	rd, err := importer.NewReader(importer.FormatParley, bytes.NewReader(export))
	if err != nil {
		t.Fatalf("%s: read the export: %v", what, err)
	}
	got, err := svc.Import(t.Context(), rd, service.ImportOptions{SiteID: "news", Source: importer.FormatParley, TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%s: import: %v", what, err)
	}
	skipped := 0
	for _, n := range got.Skipped {
		skipped += n
	}
	if got.Read != rep.Comments || got.Imported != rep.Comments || skipped != 0 || got.WarningCount != 0 || got.UsersCreated != rep.Users {
		t.Errorf("%s: import of an export of %d comments and %d users: read %d, imported %d, skipped %v, %d users created, warnings %q",
			what, rep.Comments, rep.Users, got.Read, got.Imported, got.Skipped, got.UsersCreated, got.Warnings)
	}
}
