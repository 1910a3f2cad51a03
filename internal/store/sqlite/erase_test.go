package sqlite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/store/storetest"
)

// TestEraseEveryColumn: after a reader is erased, none of their personal
// data is left in any column of any table of the file.
func TestEraseEveryColumn(t *testing.T) {
	db, path := open(t, nil)
	storetest.EraseScenario(t, db)
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	cells := 0
	for _, table := range tables {
		rs, err := raw.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for i, v := range vals {
				cells++
				s := fmt.Sprintf("%s", v)
				for _, m := range storetest.ErasedMarkers {
					if strings.Contains(s, m) {
						t.Errorf("%s.%s still holds %q: %q", table, cols[i], m, s)
					}
				}
			}
		}
		rs.Close()
	}
	t.Logf("%d tables, %d cells checked", len(tables), cells)
}
