package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store/sqlite"
)

// TestKillDuringWrites starts a process that writes comments from 8
// goroutines and prints each acknowledged one, kills it with SIGKILL in the
// middle of the load, and checks that every acknowledged comment is in the
// database when it is opened again.
func TestKillDuringWrites(t *testing.T) {
	if os.Getenv("PARLEY_SQLITE_WRITER") != "" {
		t.Skip("running as the writer process")
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	p := seed(t, db, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestWriterProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_SQLITE_WRITER="+path, fmt.Sprintf("PARLEY_SQLITE_PAGE=%d", p.ID))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[int64]int{} // id → number
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(60 * time.Second)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			continue
		}
		id, _ := strconv.ParseInt(f[1], 10, 64)
		num, _ := strconv.Atoi(f[2])
		acked[id] = num
		if len(acked) == 300 || time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	for sc.Scan() { // acknowledgements printed before the kill landed
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ack" {
			id, _ := strconv.ParseInt(f[1], 10, 64)
			acked[id], _ = strconv.Atoi(f[2])
		}
	}
	cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("the writer acknowledged only %d comments", len(acked))
	}

	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer db.Close()
	all, err := db.PageComments(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]int{}
	for _, c := range all {
		stored[c.ID] = c.Number
	}
	for id, num := range acked {
		if got, ok := stored[id]; !ok || got != num {
			t.Errorf("acknowledged comment %d (#%d): stored %v (#%d)", id, num, ok, got)
		}
	}
	t.Logf("%d acknowledged, %d stored", len(acked), len(all))
}

// TestWriterProcess is the writer of TestKillDuringWrites; it runs only in
// the process that test starts, and writes until it is killed.
func TestWriterProcess(t *testing.T) {
	path := os.Getenv("PARLEY_SQLITE_WRITER")
	if path == "" {
		t.Skip("started by TestKillDuringWrites only")
	}
	page, _ := strconv.ParseInt(os.Getenv("PARLEY_SQLITE_PAGE"), 10, 64)
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				c := &parley.Comment{PageID: page, AuthorID: fmt.Sprint("g", g), Text: fmt.Sprint(i), Status: parley.StatusApproved}
				if err := db.CreateComment(context.Background(), c); err != nil {
					fmt.Fprintln(os.Stderr, "CreateComment:", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(w, "ack %d %d\n", c.ID, c.Number)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
