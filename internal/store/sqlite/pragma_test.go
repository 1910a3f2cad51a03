package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings on the connections themselves: pragmas
// are per connection, and a typo in the list would be silently ignored.
func TestPragmas(t *testing.T) {
	db := New(filepath.Join(t.TempDir(), "parley.db"))
	if err := db.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, pool := range []struct {
		name string
		db   *sql.DB
		want map[string]string
	}{
		{"writer", db.wdb, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
			"busy_timeout": "10000", "query_only": "0"}},
		{"reader", db.rdb, map[string]string{"journal_mode": "wal", "foreign_keys": "1",
			"busy_timeout": "10000", "query_only": "1"}},
	} {
		for name, want := range pool.want {
			var got string
			if err := pool.db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", pool.name, name, err)
			}
			if got != want {
				t.Errorf("%s: PRAGMA %s: got %s, want %s", pool.name, name, got, want)
			}
		}
	}
}
