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
	diskFull(t, srv, dir, func(when string) { integrity(t, filepath.Join(dir, "parley.db"), when) })
}

// TestDiskFullPostgres is TestDiskFull on PostgreSQL: Parley's database
// lives in a tablespace on a small tmpfs (the cluster's own WAL and
// catalogue on the ordinary disk, as a data volume apart from the WAL
// volume is laid out), and the tmpfs is filled. PostgreSQL refuses to
// extend a table or index with SQLSTATE 53100 (disk_full), which Parley
// answers as it answers SQLite's full disk: 503 with Retry-After, reads go
// on, pg_amcheck finds every heap page and B-tree index sound (and every
// row in its indexes), and writes resume when space returns. A full WAL
// volume is not this test's: PostgreSQL stops itself on it (a PANIC), and
// Parley's answer to a database that is away is TestDatabaseOutage's.
func TestDiskFullPostgres(t *testing.T) {
	dir := testenv.Tmpfs(t, 24<<20) // first, so that it is unmounted after the cluster stops
	cluster := testenv.NewCluster(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := filepath.Join(dir, "tablespace")
	if err := os.Mkdir(ts, 0o700); err != nil {
		t.Fatal(err)
	}
	cluster.Own(ts)
	cluster.SQL("postgres", "CREATE TABLESPACE small LOCATION '"+ts+"'")
	cluster.SQL("postgres", "CREATE DATABASE parley TABLESPACE small")
	srv := startServer(t, t.TempDir(), "--no-model", "--database="+cluster.DBDSN("parley"))
	diskFull(t, srv, dir, func(string) { cluster.Amcheck("parley") })
}

// diskFull is the disk-full scenario on a running server whose database
// is on the file system at dir: posts until dir is filled, then checks the
// answers, reads and integrity (check) while it is full and after space is
// freed.
func diskFull(t *testing.T, srv *instance, dir string, check func(when string)) {
	t.Helper()
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
	if strings.Contains(string(full.Body), "No space") || strings.Contains(string(full.Body), "SQLSTATE") {
		t.Errorf("the full disk's answer shows the database's own words to a reader: %s", full.Body)
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
	check("on a full disk")

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
	if len(th.Comments) != len(acked) {
		t.Errorf("the thread holds %d comments, %d were acknowledged: a failed write left a row behind", len(th.Comments), len(acked))
	}
	check("after space was freed")
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
