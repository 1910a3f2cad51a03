package cli

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
)

// TestServeBanner runs `parley serve --demo` twice on one data directory and
// compares what it prints with testdata/serve-banner.golden (the README and
// the e2e harness read these lines): the generated admin token, the demo
// discussion and moderator on the first start, the URLs on both. The
// cancelled context (SIGTERM) then stops serve with nil and leaves no
// goroutine behind, the per-site models' auto-tune loop included.
func TestServeBanner(t *testing.T) {
	t.Setenv("PARLEY_RATE_LIMIT", "off")
	t.Setenv("PARLEY_LOG_LEVEL", "warn")
	dir := t.TempDir()
	var got strings.Builder
	for start := range 2 {
		before := testenv.RunningGoroutines()
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		args := []string{"--demo", "--addr", "127.0.0.1:0", "--data", dir, "--auto-tune", "1h"}
		go func() { done <- runServe(ctx, args, pw, io.Discard); pw.Close() }()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			got.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Moderation: ") {
				break
			}
		}
		go io.Copy(io.Discard, pr) // exits when serve returns
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("start %d: serve: %v", start+1, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("start %d: serve did not return within 30 s of its context", start+1)
		}
		before.CheckStopped(t)
	}
	// What varies from run to run is replaced by its name.
	token, _ := os.ReadFile(filepath.Join(dir, "admin-token"))
	login, _ := os.ReadFile(filepath.Join(dir, "demo-login"))
	_, password, _ := strings.Cut(strings.TrimSpace(string(login)), "\n")
	out := got.String()
	for _, r := range []struct{ old, new string }{
		{dir, "DATA"}, {strings.TrimSpace(string(token)), "TOKEN"}, {password, "PASSWORD"}, {" " + version() + " ", " VERSION "},
	} {
		if r.old == "" {
			t.Fatalf("nothing to replace by %s in:\n%s", r.new, out)
		}
		out = strings.ReplaceAll(out, r.old, r.new)
	}
	out = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(out, "127.0.0.1:PORT")
	golden := filepath.Join("testdata", "serve-banner.golden")
	if *update {
		os.WriteFile(golden, []byte(out), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("serve printed:\n%s\nwant (%s):\n%s", out, golden, want)
	}
}
