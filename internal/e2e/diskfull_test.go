package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"

	_ "modernc.org/sqlite"
)

// TestDiskFull runs Parley on SQLite in a data directory on a small tmpfs
// and fills the disk: writes then fail cleanly, with a 503 JSON error and
// Retry-After (never a 500, never a lost acknowledged comment), thread
// reads go on, the database passes PRAGMA integrity_check, and once space
// is freed writes succeed again without a restart.
func TestDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, 16<<20)
	srv := startServer(t, dir, "--no-model")
	const page = "https://news.example.com/2026/12/disk-full"
	c := srv.client()
	var acked []int64
	post := func(i int) response {
		t.Helper()
		res, err := c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "title": "Disk full",
			"text": fmt.Sprintf("Comment %d on a nearly full disk. %s", i, strings.Repeat("Padding words. ", 60)), "name": "Filler"})
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		var p apiPosted
		if res.Status == http.StatusCreated && res.decode(&p) == nil {
			acked = append(acked, p.Comment.ID)
		}
		return res
	}
	read := func(what string) {
		t.Helper()
		res, err := c.do("GET", "/api/v1/threads?site=demo&url="+url.QueryEscape(page), nil)
		if err != nil || res.Status != http.StatusOK {
			t.Errorf("thread read %s: %v %d %.300s", what, err, res.Status, res.Body)
		}
	}
	for i := range 20 {
		if res := post(i); res.Status != http.StatusCreated {
			t.Fatalf("post %d before the disk is full: %d %s", i, res.Status, res.Body)
		}
	}

	// Fill the disk: a file takes every free block.
	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	var full response
	n := 0
	for i := 20; i < 5000; i++ {
		res := post(i)
		if res.Status == http.StatusCreated {
			n++
			continue
		}
		full = res
		break
	}
	if full.Status != http.StatusServiceUnavailable && full.Status != http.StatusInsufficientStorage {
		t.Fatalf("on a full disk a write got %d %.300s, want 503 or 507 (after %d more writes succeeded)", full.Status, full.Body, n)
	}
	if full.Header.Get("Retry-After") == "" || !strings.Contains(full.Header.Get("Content-Type"), "json") ||
		!strings.Contains(string(full.Body), `"code"`) {
		t.Errorf("the full disk's answer: %v %s; want a JSON error with Retry-After", full.Header, full.Body)
	}
	t.Logf("disk full after %d more writes: %d %s", n, full.Status, full.Body)
	for i := range 5 {
		if res := post(10000 + i); res.Status == http.StatusCreated {
			// The freed WAL space may take one more.
			continue
		} else if res.Status >= 500 && res.Status != http.StatusServiceUnavailable && res.Status != http.StatusInsufficientStorage {
			t.Errorf("write on a full disk: %d %s", res.Status, res.Body)
		}
	}
	read("on a full disk")
	integrity(t, filepath.Join(dir, "parley.db"), "on a full disk")

	// Space again: writes succeed without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		res := post(20000 + i)
		if res.Status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after space was freed writes still fail: %d %s", res.Status, res.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	read("after space was freed")
	th, err := c.thread("demo", page)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, cm := range th.Comments {
		stored[cm.ID] = true
	}
	for _, id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged comment %d is missing", id)
		}
	}
	integrity(t, filepath.Join(dir, "parley.db"), "after space was freed")
	srv.checkAlive()
}

// fillDisk writes a file at path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	for len(buf) > 1 { // the last blocks, in smaller writes
		buf = buf[:len(buf)/2]
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
}

// integrity runs PRAGMA integrity_check on the database file, read-only,
// beside the running server.
func integrity(t *testing.T, path, when string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&got); err != nil || got != "ok" {
		t.Errorf("integrity check %s: %q, %v", when, got, err)
	}
}
