package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/store/storetest"
	"github.com/parleyhq/parley/internal/testenv"
)

// TestExportAllRestore runs the commands a publisher runs to move an
// instance: export --all on SQLite, restore into an empty SQLite data
// directory and into an empty PostgreSQL database, export --all again:
// the same file each time.
func TestExportAllRestore(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.PopulateInstance(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "instance.jsonl")
	code, msg := cliRun(t, dir, "", "export", "--all", "--out", dump)
	if code != 0 || !strings.Contains(msg, "Exported the instance: 2 sites") || !strings.Contains(msg, "4 comments") {
		t.Fatalf("export --all: %d %s", code, msg)
	}
	first, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dump); fi.Mode().Perm() != 0o600 {
		t.Errorf("the dump, which holds secrets, has mode %v", fi.Mode().Perm())
	}

	t.Run("sqlite", func(t *testing.T) {
		empty := t.TempDir()
		code, msg := cliRun(t, empty, "", "restore", dump)
		if code != 0 || !strings.Contains(msg, "Restored the instance: 2 sites") {
			t.Fatalf("restore: %d %s", code, msg)
		}
		var out, errb bytes.Buffer
		if code := Run(context.Background(), []string{"export", "--all", "--data", empty}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("export --all of the restored instance: %d %s", code, errb.String())
		}
		if !bytes.Equal(out.Bytes(), first) {
			t.Errorf("the restored instance exports differently (%d bytes, %d before)", out.Len(), len(first))
		}
		if code, msg := cliRun(t, empty, "", "restore", dump); code != 1 || !strings.Contains(msg, "empty database") {
			t.Errorf("a second restore: %d %s", code, msg)
		}
		if code, msg := cliRun(t, empty, "", "site", "list"); code != 0 || !strings.Contains(msg, "news") || !strings.Contains(msg, "blog") {
			t.Errorf("site list after restore: %d %s", code, msg)
		}
	})

	t.Run("sqlite to postgres", func(t *testing.T) {
		dsn, schema := testenv.PostgresSchema(t, "parley_restore_")
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(context.Background(), `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		url := dsn + sep + "search_path=" + schema
		code, msg := cliRun(t, t.TempDir(), "", "restore", "--database", url, dump)
		if code != 0 || !strings.Contains(msg, "Restored the instance") {
			t.Fatalf("restore into PostgreSQL: %d %s", code, msg)
		}
		again := filepath.Join(t.TempDir(), "again.jsonl")
		if code, msg := cliRun(t, t.TempDir(), "", "export", "--all", "--database", url, "--out", again); code != 0 {
			t.Fatalf("export --all on PostgreSQL: %d %s", code, msg)
		}
		second, err := os.ReadFile(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(second, first) {
			t.Errorf("PostgreSQL exports the restored instance differently (%d bytes, %d from SQLite)", len(second), len(first))
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"export", "--all", "--site", "news"}, 1, "takes no --site"},
			{[]string{"export"}, 1, "--site or --all is required"},
			{[]string{"restore"}, 2, "Usage"},
			{[]string{"restore", "/nonexistent/dump.jsonl"}, 1, "no such file"},
			{[]string{"restore", filepath.Join("..", "importer", "testdata", "disqus.xml")}, 1, "not a Parley instance dump"},
		} {
			code, msg := cliRun(t, t.TempDir(), "", tc.args...)
			if code != tc.code || !strings.Contains(msg, tc.want) {
				t.Errorf("%v: %d %q, want %d with %q", tc.args, code, msg, tc.code, tc.want)
			}
		}
	})
}
