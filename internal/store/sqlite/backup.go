package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
)

// Backup writes a consistent copy of the database file at path to out,
// while the database is in use by this or another process. VACUUM INTO
// reads one snapshot of the database in a read transaction — in WAL mode
// writers go on meanwhile, and what they commit after the snapshot began is
// not in the copy — and writes a compact database to a temporary file
// beside out, which is checked (quick_check), synced and renamed into
// place, so out is either absent or a complete backup. EConflict when out
// exists.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(out); err == nil {
		return parley.Errorf(parley.EConflict, "%s exists: choose a new file for the backup", out)
	}
	if _, err := os.Stat(path); err != nil {
		return parley.Errorf(parley.ENotFound, "no database at %s", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpName)

	src, err := sql.Open("sqlite", dsn(path, []string{"busy_timeout(10000)"}, "deferred"))
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return fmt.Errorf("backup: vacuum into: %w", err)
	}
	if err := check(ctx, tmpName); err != nil {
		return err
	}
	f, err := os.Open(tmpName)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("backup: sync: %w", err)
	}
	if err := os.Rename(tmpName, out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Backup writes a consistent copy of the open database to out (see the
// package's Backup).
func (db *DB) Backup(ctx context.Context, out string) error {
	return Backup(ctx, db.Path, out)
}

// check runs SQLite's quick_check on a database file.
func check(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", dsn(path, nil, "deferred"))
	if err != nil {
		return fmt.Errorf("backup: check: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("backup: check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("backup: the copy fails its check: %s", res)
	}
	return nil
}
