package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store/storetest"
)

// TestEraseEveryColumn: after a reader is erased, none of their personal
// data is left in any column of any table of the schema (each row read
// as text, all its columns in it).
func TestEraseEveryColumn(t *testing.T) {
	db := open(t)
	storetest.EraseScenario(t, db)
	ctx := t.Context()
	rows, err := db.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1`, db.Schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 20 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	n := 0
	for _, table := range tables {
		rows, err := db.pool.Query(ctx, `SELECT x::text FROM `+pgx.Identifier{db.Schema, table}.Sanitize()+` x`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for _, s := range texts {
			n++
			for _, m := range storetest.ErasedMarkers {
				if strings.Contains(s, m) {
					t.Errorf("%s still holds %q: %s", table, m, s)
				}
			}
		}
	}
	t.Logf("%d tables, %d rows checked", len(tables), n)
}
