package sqlite_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// TestDumpRoundTrip: the dump of an instance, restored into an empty
// database, dumps to the same bytes; the restored database goes on
// numbering after the restored rows; a second restore is refused.
func TestDumpRoundTrip(t *testing.T) {
	src, _ := open(t, nil)
	storetest.PopulateInstance(t, src)
	var first bytes.Buffer
	counts, err := store.WriteDump(t.Context(), src, &first)
	if err != nil {
		t.Fatalf("WriteDump: %v", err)
	}
	for _, tb := range store.DumpTables {
		if counts[tb.Name] == 0 {
			t.Errorf("the dump has no row of %s: PopulateInstance must fill every dumped table", tb.Name)
		}
	}
	dst, _ := open(t, nil)
	restored, err := store.ReadDump(t.Context(), dst, bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatalf("ReadDump: %v", err)
	}
	if !equalCounts(counts, restored) {
		t.Errorf("restored %v, dumped %v", restored, counts)
	}
	var second bytes.Buffer
	if _, err := store.WriteDump(t.Context(), dst, &second); err != nil {
		t.Fatalf("WriteDump of the restored database: %v", err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("the restored database dumps differently:\n%s", firstDiff(first.String(), second.String()))
	}

	// The restored database is a working one: ids and numbers continue.
	p, err := dst.Page(t.Context(), "news", "https://news.example.com/2026/court")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := dst.PageComments(t.Context(), p.ID)
	c := &parley.Comment{PageID: p.ID, AuthorID: "reader-1", AuthorName: "Rita Reader", Text: "after", HTML: "<p>after</p>", Status: parley.StatusApproved}
	if err := dst.CreateComment(t.Context(), c); err != nil {
		t.Fatalf("CreateComment after restore: %v", err)
	}
	for _, o := range before {
		if o.ID >= c.ID || o.Number >= c.Number {
			t.Errorf("new comment id %d number %d; a restored one has id %d number %d", c.ID, c.Number, o.ID, o.Number)
		}
	}
	if _, err := store.ReadDump(t.Context(), dst, bytes.NewReader(first.Bytes())); parley.ErrorCode(err) != parley.EConflict {
		t.Errorf("restore into a database in use: %v, want EConflict", err)
	}
}

func equalCounts(a, b store.DumpCounts) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// firstDiff shows the first line where two dumps differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return "(same lines)"
}

// TestDumpRefusesBadInput: a file that is not a dump of this schema is
// refused before anything is stored, and a bad row rolls the whole
// restore back.
func TestDumpRefusesBadInput(t *testing.T) {
	src, _ := open(t, nil)
	storetest.PopulateInstance(t, src)
	var good bytes.Buffer
	if _, err := store.WriteDump(t.Context(), src, &good); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(good.String()), "\n")
	header, body := lines[0], strings.Join(lines[1:], "\n")
	for _, tc := range []struct{ name, file string }{
		{"empty", ""},
		{"not JSON", "hello\n"},
		{"another format", `{"type":"header","format":"parley","version":1}` + "\n"},
		{"a later version", strings.Replace(header, `"version":1`, `"version":2`, 1) + "\n"},
		{"a column missing", strings.Replace(header, `"text_hash"`, `"text_hash_x"`, 1) + "\n" + body},
		{"an unknown table", header + "\n" + `{"t":"nonsense","r":[]}` + "\n"},
		{"a value of the wrong type", header + "\n" + strings.Replace(body, `{"t":"users","r":["admin-1"`, `{"t":"users","r":[7`, 1)},
		{"a row too short", header + "\n" + `{"t":"sites","r":["x"]}` + "\n"},
		{"a child before its parent", header + "\n" + lines[len(lines)-1] + "\n" + body},
		{"a duplicate row at the end", good.String() + lines[1] + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := open(t, nil)
			_, err := store.ReadDump(t.Context(), dst, strings.NewReader(tc.file))
			if err == nil {
				t.Fatal("restored")
			}
			sites, err2 := dst.Sites(t.Context())
			if err2 != nil || len(sites) != 0 {
				t.Errorf("after the failed restore (%v): %d sites, %v", err, len(sites), err2)
			}
		})
	}
}

// TestDumpCoversSchema: every table of the schema is dumped or listed as
// skipped, and a dumped table's columns are the schema's, so that a new
// migration cannot leave data out of a restore unnoticed.
func TestDumpCoversSchema(t *testing.T) {
	_, path := open(t, nil)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`)
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
	derived := map[string]bool{"pages.rev": true} // a cache revision of this backend, 0 in a new database
	for tb, cols := range schema {
		d, ok := store.DumpTableByName(tb)
		if !ok {
			if _, skipped := store.DumpSkipped[tb]; !skipped {
				t.Errorf("table %s is neither dumped nor in store.DumpSkipped", tb)
			}
			continue
		}
		var want []string
		for _, c := range cols {
			if !derived[tb+"."+c] {
				want = append(want, c)
			}
		}
		var got []string
		for _, c := range d.Columns {
			got = append(got, c.Name)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the dump has columns %v, the schema %v", tb, got, want)
		}
	}
	for _, d := range store.DumpTables {
		if schema[d.Name] == nil {
			t.Errorf("the dumped table %s is not in the schema", d.Name)
		}
	}
}
