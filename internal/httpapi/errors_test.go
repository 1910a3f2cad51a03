package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/store/sqlite"

	_ "modernc.org/sqlite"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDriverErrorsStayInTheLog makes the database refuse a comment, once
// with a failure that has no domain meaning (a trigger's abort: 500) and
// once with one that has (a unique index: 409), each message naming the
// database's internals. The reader's JSON never carries the driver's text;
// the log keeps it, as the cause of the 500.
func TestDriverErrorsStayInTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var log syncBuffer
	e := newEnvOn(t, db, envOpts{logger: slog.New(slog.NewTextHandler(&log, nil))})
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	r := e.reader("Ann")
	if res := r.post("The first comment.", nil); res.status != 201 {
		t.Fatalf("first post: %d %s", res.status, res.body)
	}

	for _, tc := range []struct {
		name, ddl, undo, secret string
		status                  int
		code                    string
		logged                  bool
	}{
		{"internal failure", `CREATE TRIGGER zz_guard BEFORE INSERT ON comments BEGIN SELECT RAISE(ABORT, 'zz-secret-trigger-text'); END`,
			`DROP TRIGGER zz_guard`, "zz-secret-trigger-text", 500, parley.EInternal, true},
		{"classified failure", `CREATE UNIQUE INDEX zz_secret_index ON comments (author_id)`,
			`DROP INDEX zz_secret_index`, "zz_secret_index", 409, parley.EConflict, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := raw.Exec(tc.ddl); err != nil {
				t.Fatal(err)
			}
			defer raw.Exec(tc.undo)
			res := r.post("Another comment, refused by the database.", nil)
			if res.status != tc.status || errCode(t, res) != tc.code {
				t.Fatalf("post: %d %s, want %d %s", res.status, res.body, tc.status, tc.code)
			}
			for _, leak := range []string{tc.secret, "sqlite", "SQL", "constraint", "comments."} {
				if strings.Contains(string(res.body), leak) {
					t.Errorf("the reader's JSON carries %q: %s", leak, res.body)
				}
			}
			if got := strings.Contains(log.String(), tc.secret); got != tc.logged {
				t.Errorf("the log has the driver's text: %v, want %v; log:\n%s", got, tc.logged, log.String())
			}
		})
	}
}

// TestReadYourWrites: readers post at once, each reading the thread right
// after its POST returns; each sees its comment, although the thread's
// cached response is dropped only by the dispatcher, from the event log
// (the service waits for it before the POST returns).
func TestReadYourWrites(t *testing.T) {
	e := newEnv(t, envOpts{})
	warm := e.reader("Warm")
	if res := warm.post("The first comment.", nil); res.status != 201 {
		t.Fatalf("post: %d %s", res.status, res.body)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r := e.reader(fmt.Sprintf("Reader %d", i))
			for j := range 5 {
				r.thread("") // the thread as cached before the post
				res := r.post(fmt.Sprintf("Comment %d of reader %d.", j, i), nil)
				if res.status != 201 {
					t.Errorf("post: %d %s", res.status, res.body)
					return
				}
				id := res.json(t)["comment"].(map[string]any)["id"].(float64)
				found := false
				for _, c := range commentsOf(r.thread("")) {
					found = found || c["id"].(float64) == id
				}
				if !found {
					t.Errorf("reader %d's thread read after the POST returned lacks comment %v", i, id)
				}
			}
		})
	}
	wg.Wait()
}
