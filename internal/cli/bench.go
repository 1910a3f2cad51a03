package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parleyhq/parley/internal/bench"
)

// runBench runs `parley bench`, or its hidden helper `parley bench static`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "static" {
		return runBenchStatic(ctx, args[1:], stdout, stderr)
	}
	cfg := bench.Config{Version: version()}
	fs := newFlagSet("bench", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, bench.Usage)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Runs, "runs", 3, "how many times to run the whole suite; the median is reported")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long each measurement runs")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before each measurement, not counted")
	fs.IntVar(&cfg.Comments, "comments", 1000, "comments on the page that is read (at most 1000, one response)")
	fs.IntVar(&cfg.Clients, "clients", 50, "concurrent readers in the many-client read measurements")
	fs.IntVar(&cfg.PostClients, "post-clients", 8, "concurrent writers in the many-client posting measurement")
	fs.IntVar(&cfg.PeakClients, "peak-clients", 200, "concurrent readers in the peak-memory measurement")
	fs.BoolVar(&cfg.NoModel, "no-model", false, "run the server with --no-model (no toxicity model in the pipeline)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&cfg.Database, "database", "", "PostgreSQL admin URL: run on a fresh database per run, created and dropped through it")
	fs.BoolVar(&cfg.Uncached, "uncached", false, "run the server with --thread-cache=false (every read misses the page cache)")
	fs.StringVar(&cfg.Exe, "server", "", "the parley binary to start as the server (default: this one): another build measured by this one's load generator")
	fs.IntVar(&cfg.SSE, "sse", 0, "measure live updates to this many concurrent event streams instead of the suite")
	fs.IntVar(&cfg.SSEComments, "sse-comments", 20, "with --sse: comments posted while the streams are open")
	fs.DurationVar(&cfg.SSEInterval, "sse-interval", 200*time.Millisecond, "with --sse: time between those comments")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	return bench.Run(ctx, cfg, stdout, stderr)
}

// runBenchStatic runs `parley bench static`: the minimal server the bench
// compares Parley's reads with, started by the bench as its child.
func runBenchStatic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench static", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	file := fs.String("file", "", "the recorded response (written by parley bench)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return bench.Static(ctx, *addr, *file, stdout, stderr)
}
