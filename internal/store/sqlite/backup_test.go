package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestBackupUnderWrites takes a backup while writers keep adding comments
// and restores it: every comment acknowledged before the backup began is
// in it, and its page count agrees with its comments (one snapshot).
func TestBackupUnderWrites(t *testing.T) {
	db, _ := open(t, nil)
	page := seed(t, db, 10)
	ctx, stop := context.WithCancel(t.Context())
	var mu sync.Mutex
	var acked []int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() { // exits when stop is called
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				c := &parley.Comment{PageID: page.ID, AuthorID: "bob", Text: fmt.Sprintf("w%d-%d", w, i), Status: parley.StatusApproved}
				if err := db.CreateComment(ctx, c); err != nil {
					if ctx.Err() == nil {
						t.Errorf("CreateComment: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, c.ID)
				mu.Unlock()
			}
		}()
	}
	// Let the writers get going, then take the backup in the middle of them.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(t.Context(), out); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	stop()
	wg.Wait()
	if err := db.Backup(t.Context(), out); parley.ErrorCode(err) != parley.EConflict {
		t.Errorf("a backup over an existing file: got %v, want a conflict", err)
	}

	restored, err := sqlite.Open(t.Context(), out)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer restored.Close()
	all, err := restored.PageComments(t.Context(), page.ID)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, c := range all {
		have[c.ID] = true
	}
	for _, id := range before {
		if !have[id] {
			t.Fatalf("comment %d was acknowledged before the backup began and is not in it (%d comments in the backup)", id, len(all))
		}
	}
	p, err := restored.PageByID(t.Context(), page.ID)
	if err != nil || p.Count != len(all) {
		t.Errorf("backup's page count: got %d (%v), want %d, the comments in it", p.Count, err, len(all))
	}
	t.Logf("%d comments acknowledged before the backup, %d in it, %d acknowledged in all", len(before), len(all), len(acked))
}
