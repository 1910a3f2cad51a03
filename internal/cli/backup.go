package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/parleyhq/parley/internal/store/sqlite"
)

const backupUsage = `Usage:
  parley backup --out FILE

Writes a consistent copy of the SQLite database to FILE while the server
runs (SQLite's VACUUM INTO: one snapshot, checked before it is renamed into
place). Restore by stopping the server and putting the copy in place of
DATA/parley.db. On PostgreSQL use pg_dump, PostgreSQL's own tool for a
consistent online backup.
`

// errPostgresBackup is the answer of "parley backup" on PostgreSQL.
var errPostgresBackup = errors.New("backup: the database is PostgreSQL; back it up with pg_dump (e.g. pg_dump --format=custom --file=parley.dump \"$PARLEY_DATABASE_URL\") and restore with pg_restore")

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage); fs.PrintDefaults() }
	cfg := configFlags(fs)
	var out string
	fs.StringVar(&out, "out", "", "file to write the backup to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || out == "" {
		fs.Usage()
		return errUsage
	}
	if cfg.DatabaseURL != "" {
		return errPostgresBackup
	}
	start := time.Now()
	if err := sqlite.Backup(ctx, cfg.DBPath(), out); err != nil {
		return fmt.Errorf("backup: %s", importError(err))
	}
	size := int64(0)
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "Backed up %s to %s (%.1f MB) in %.2fs.\n", cfg.DBPath(), out, float64(size)/1e6, time.Since(start).Seconds())
	return nil
}
