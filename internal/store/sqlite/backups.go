package sqlite

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Backups writes scheduled backups of a database file ("parley serve
// --backup-every 24h --backup-keep 7"): each one is a Backup (a consistent
// snapshot while the server writes, checked, synced and renamed into
// place, so a backup file is complete or absent) named by its time, and
// the oldest beyond Keep are deleted after a backup succeeds.
type Backups struct {
	DB     string // the database file
	Dir    string // where the backups go; created when missing
	Keep   int    // how many to keep (at least 1)
	Logger *slog.Logger
	Now    func() time.Time
}

// backupPrefix and backupSuffix frame a scheduled backup's name; files in
// Dir named otherwise are never deleted.
const (
	backupPrefix = "parley-"
	backupSuffix = ".db"
	backupStamp  = "20060102T150405Z"
)

// Run writes a backup every interval until ctx ends. A failed backup is
// logged and tried again at the next interval.
func (b *Backups) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if path, err := b.Once(ctx); err != nil {
				if ctx.Err() == nil {
					b.logger().Error("scheduled backup failed", "err", err.Error())
				}
			} else {
				b.logger().Info("scheduled backup written", "file", path)
			}
		}
	}
}

func (b *Backups) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// Once writes one backup now and prunes the old ones; it returns the new
// backup's path.
func (b *Backups) Once(ctx context.Context) (string, error) {
	if b.Keep < 1 {
		return "", fmt.Errorf("backups: keep must be at least 1")
	}
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return "", fmt.Errorf("backups: %w", err)
	}
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	name := backupPrefix + now().UTC().Format(backupStamp) + backupSuffix
	path := filepath.Join(b.Dir, name)
	if err := Backup(ctx, b.DB, path); err != nil {
		return "", err
	}
	return path, b.prune()
}

// List returns the scheduled backups in Dir, oldest first.
func (b *Backups) List() ([]string, error) {
	entries, err := os.ReadDir(b.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		stamp, ok := strings.CutPrefix(n, backupPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		stamp, ok = strings.CutSuffix(stamp, backupSuffix)
		if _, err := time.Parse(backupStamp, stamp); !ok || err != nil {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names) // the stamp sorts by time
	return names, nil
}

func (b *Backups) prune() error {
	names, err := b.List()
	if err != nil {
		return fmt.Errorf("backups: %w", err)
	}
	for len(names) > b.Keep {
		if err := os.Remove(filepath.Join(b.Dir, names[0])); err != nil {
			return fmt.Errorf("backups: %w", err)
		}
		names = names[1:]
	}
	return nil
}
