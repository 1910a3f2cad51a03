// Package servertest starts Parley in the test process, through
// server.Open, Serve and Close, as `parley serve` does.
package servertest

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/server"
)

// Config returns the configuration `parley serve ARGS` would run with in a
// clean environment, over these defaults for tests: a free loopback port,
// a data directory of the test's own, rate limits off and warnings logged.
// It fails the test on a flag or validation error.
func Config(tb testing.TB, args ...string) config.Config {
	tb.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = tb.TempDir()
	cfg.RateLimit = false
	cfg.LogLevel = "warn"
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		tb.Fatalf("serve flags %q: %v", args, err)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("serve config: %v", err)
	}
	return cfg
}

// Start opens a server with cfg and opts and serves it until the test ends,
// when it is closed and every goroutine it started has stopped. Unless opts
// has a logger, the server's log at cfg.LogLevel is kept and shown when the
// test fails.
func Start(tb testing.TB, cfg config.Config, opts server.Options) *server.Server {
	tb.Helper()
	if opts.Logger == nil {
		logs := &logBuffer{}
		var level slog.Level
		level.UnmarshalText([]byte(cfg.LogLevel))
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
		tb.Cleanup(func() {
			if tb.Failed() && logs.Len() > 0 {
				tb.Logf("server log:\n%s", logs)
			}
		})
	}
	srv, err := server.Open(context.Background(), cfg, opts)
	if err != nil {
		tb.Fatalf("open server: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background()) }()
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("close server: %v", err)
		}
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return srv
}

// logBuffer keeps a server's log for the failure report: safe for concurrent
// writers, bounded to its first MiB.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < 1<<20 {
		l.buf.Write(p)
	}
	return len(p), nil
}

// Len is the number of bytes kept.
func (l *logBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
