package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store/sqlite"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// TestScheduledBackups: each scheduled backup is a working copy of the
// database named by its time; the oldest beyond Keep go, files of other
// names in the directory stay; Run writes them at its interval until its
// context ends.
func TestScheduledBackups(t *testing.T) {
	db, path := open(t, nil)
	storetest.PopulateInstance(t, db)
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "parley-by-hand.db")
	if err := os.WriteFile(mine, []byte("not a scheduled backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	b := &sqlite.Backups{DB: path, Dir: dir, Keep: 3, Now: func() time.Time { return at }}
	var written []string
	for i := 0; i < 5; i++ {
		p, err := b.Once(t.Context())
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		written = append(written, filepath.Base(p))
		at = at.Add(24 * time.Hour)
	}
	got, err := b.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := written[2:]; !slices.Equal(got, want) {
		t.Errorf("kept %v, want the newest three %v", got, want)
	}
	if got[0] != "parley-20261203T030000Z.db" {
		t.Errorf("named %q", got[0])
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file the schedule did not write was deleted: %v", err)
	}
	copyDB, err := sqlite.Open(t.Context(), filepath.Join(dir, got[2]))
	if err != nil {
		t.Fatal(err)
	}
	sites, err := copyDB.Sites(t.Context())
	copyDB.Close()
	if err != nil || len(sites) != 2 {
		t.Errorf("the newest backup holds %d sites, %v; want 2", len(sites), err)
	}

	// Run, on a short interval, until cancelled.
	runDir := filepath.Join(t.TempDir(), "run")
	var n atomic.Int64
	clock := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	r := &sqlite.Backups{DB: path, Dir: runDir, Keep: 2, Now: func() time.Time { return clock.Add(time.Duration(n.Add(1)) * time.Hour) }}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx, 20*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, _ := r.List()
		if len(l) == 2 && n.Load() >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run wrote %v", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}
