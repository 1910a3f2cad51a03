package postgres

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// TestDumpFromSQLite: an instance dumped from SQLite restores into
// PostgreSQL, whose dump is the same bytes; that dump restores into another
// PostgreSQL database with the same result; and the restored database
// goes on numbering after the restored rows.
func TestDumpFromSQLite(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	storetest.PopulateInstance(t, lite)
	var fromSQLite bytes.Buffer
	counts, err := store.WriteDump(ctx, lite, &fromSQLite)
	if err != nil {
		t.Fatalf("WriteDump (SQLite): %v", err)
	}
	for _, tb := range store.DumpTables {
		if counts[tb.Name] == 0 {
			t.Errorf("the SQLite dump has no row of %s", tb.Name)
		}
	}

	pg := open(t)
	if _, err := store.ReadDump(ctx, pg, bytes.NewReader(fromSQLite.Bytes())); err != nil {
		t.Fatalf("ReadDump into PostgreSQL: %v", err)
	}
	var fromPG bytes.Buffer
	if _, err := store.WriteDump(ctx, pg, &fromPG); err != nil {
		t.Fatalf("WriteDump (PostgreSQL): %v", err)
	}
	if !bytes.Equal(fromSQLite.Bytes(), fromPG.Bytes()) {
		t.Errorf("PostgreSQL dumps the restored instance differently:\n%s", firstDiff(fromSQLite.String(), fromPG.String()))
	}

	pg2 := open(t)
	if _, err := store.ReadDump(ctx, pg2, bytes.NewReader(fromPG.Bytes())); err != nil {
		t.Fatalf("ReadDump PostgreSQL → PostgreSQL: %v", err)
	}
	var again bytes.Buffer
	if _, err := store.WriteDump(ctx, pg2, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromPG.Bytes(), again.Bytes()) {
		t.Errorf("PostgreSQL → PostgreSQL differs:\n%s", firstDiff(fromPG.String(), again.String()))
	}

	// Identity sequences continue after the restored ids.
	p, err := pg.Page(ctx, "news", "https://news.example.com/2026/court")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := pg.PageComments(ctx, p.ID)
	c := &parley.Comment{PageID: p.ID, AuthorID: "reader-1", AuthorName: "Rita Reader", Text: "after", HTML: "<p>after</p>", Status: parley.StatusApproved}
	if err := pg.CreateComment(ctx, c); err != nil {
		t.Fatalf("CreateComment after restore: %v", err)
	}
	for _, o := range before {
		if o.ID >= c.ID || o.Number >= c.Number {
			t.Errorf("new comment id %d number %d; a restored one has id %d number %d", c.ID, c.Number, o.ID, o.Number)
		}
	}
	np, err := pg.EnsurePage(ctx, "news", "https://news.example.com/new", "New")
	if err != nil || np.ID <= p.ID+1 {
		t.Errorf("a new page after restore: %+v %v", np, err)
	}
	if err := pg.AddNote(ctx, &store.Note{UserID: "reader-1", SiteID: "news", Text: "n"}); err != nil {
		t.Errorf("AddNote after restore: %v", err)
	}
	if _, err := store.ReadDump(ctx, pg, bytes.NewReader(fromSQLite.Bytes())); parley.ErrorCode(err) != parley.EConflict {
		t.Errorf("restore into a database in use: %v, want EConflict", err)
	}
}

// TestDumpCoversSchema: every table of the schema is dumped or listed as
// skipped, and a dumped table's columns are the schema's.
func TestDumpCoversSchema(t *testing.T) {
	db := open(t)
	rows, err := db.pool.Query(context.Background(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	schema := map[string][]string{}
	for rows.Next() {
		var tb, col string
		if err := rows.Scan(&tb, &col); err != nil {
			t.Fatal(err)
		}
		schema[tb] = append(schema[tb], col)
	}
	rows.Close()
	if len(schema) < 20 {
		t.Fatalf("only %d tables", len(schema))
	}
	for tb, cols := range schema {
		d, ok := store.DumpTableByName(tb)
		if !ok {
			if _, skipped := store.DumpSkipped[tb]; !skipped {
				t.Errorf("table %s is neither dumped nor in store.DumpSkipped", tb)
			}
			continue
		}
		var got []string
		for _, c := range d.Columns {
			got = append(got, c.Name)
		}
		slices.Sort(got)
		slices.Sort(cols)
		if !slices.Equal(got, cols) {
			t.Errorf("%s: the dump has columns %v, the schema %v", tb, got, cols)
		}
	}
	for _, d := range store.DumpTables {
		if schema[d.Name] == nil {
			t.Errorf("the dumped table %s is not in the schema", d.Name)
		}
	}
}

// firstDiff shows the first line where two dumps differ.
func firstDiff(a, b string) string {
	la, lb := bytes.Split([]byte(a), []byte("\n")), bytes.Split([]byte(b), []byte("\n"))
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y []byte
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if !bytes.Equal(x, y) {
			return "- " + string(x) + "\n+ " + string(y)
		}
	}
	return "(same lines)"
}
