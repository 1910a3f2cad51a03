// Package testenv finds the real components tests run against: the shared
// data folder, a PostgreSQL server, a Chromium binary and the parley binary
// itself; and it checks that code under test stopped its goroutines. Each finder skips the
// test when the component is absent on a developer's machine and fails it in
// CI (CI=true), where every component must be proven.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InCI reports whether the tests run in CI, where skipping is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// skip skips the test, or fails it in CI.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but "+format, args...)
	}
	t.Skipf(format, args...)
}

// Root returns the repository root (the directory holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SharedData returns the path of ../shared/data/<sub> beside the repository
// (or $PARLEY_SHARED_DATA/<sub>), skipping the test when it is absent.
func SharedData(t testing.TB, sub string) string {
	t.Helper()
	base := os.Getenv("PARLEY_SHARED_DATA")
	if base == "" {
		base = filepath.Join(Root(), "..", "shared", "data")
	}
	dir := filepath.Join(base, sub)
	if _, err := os.Stat(dir); err != nil {
		skip(t, "shared data %s not found: %v", dir, err)
	}
	return dir
}

// Vectors returns the path in PARLEY_VECTORS (the word vectors of the
// toxicity model's recipe 10, which .ci/run fetches with npm pack),
// skipping the test when it is unset or absent.
func Vectors(t testing.TB) string {
	t.Helper()
	p := os.Getenv("PARLEY_VECTORS")
	if p == "" {
		skip(t, "PARLEY_VECTORS is not set")
	}
	if _, err := os.Stat(p); err != nil {
		skip(t, "word vectors %s not found: %v", p, err)
	}
	return p
}

// Postgres returns the DSN in PARLEY_TEST_POSTGRES, skipping the test when it
// is unset.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PARLEY_TEST_POSTGRES")
	if dsn == "" {
		skip(t, "PARLEY_TEST_POSTGRES is not set")
	}
	return dsn
}

// PostgresSchema returns the DSN of Postgres and a new schema name made of
// prefix and random hex digits. The schema, and everything a test creates
// in it, is dropped when the test ends (after the clean-ups registered later,
// such as closing the stores opened on it).
func PostgresSchema(t testing.TB, prefix string) (dsn, schema string) {
	t.Helper()
	dsn = Postgres(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema = prefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// Chromium returns the path of a Chromium binary ($PARLEY_CHROMIUM, or
// chromium / chromium-browser / google-chrome on PATH), skipping the test when
// none is installed.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	skip(t, "no Chromium found (apt-get install -y chromium)")
	return ""
}

var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of the parley executable, built from ./cmd/parley
// once per test binary, for tests whose subject is the process (see
// server.StartProcess). It skips the test with -short. A TestMain that uses
// it calls RemoveBinary after the tests have run.
func Binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts the real binary")
	}
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "parley-test-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "parley")
		build := exec.Command("go", "build", "-o", binary.path, "./cmd/parley")
		build.Dir = Root()
		if out, err := build.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build ./cmd/parley: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// RemoveBinary removes what Binary built, if anything.
func RemoveBinary() {
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
}

// Axe returns the path of axe-core's axe.min.js ($PARLEY_AXE, or the npm
// package installed under $HOME/.cache/parley-axe by
// `npm install --prefix ~/.cache/parley-axe axe-core@4`), skipping the test
// when it is absent. It is never vendored into the repository.
func Axe(t testing.TB) string {
	t.Helper()
	p := os.Getenv("PARLEY_AXE")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "parley-axe", "node_modules", "axe-core", "axe.min.js")
	}
	if _, err := os.Stat(p); err != nil {
		skip(t, "axe-core not found at %s (npm install --prefix ~/.cache/parley-axe axe-core@4)", p)
	}
	return p
}
