package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/testenv"

	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/server/servertest"
	"github.com/parleyhq/parley/internal/store/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}

// TestBenchSuite runs the whole bench machinery — child server, seeding, the
// minimal server, reads, posts, RSS, medians, table and JSON — on a tiny page
// for a fraction of a second, so `parley bench` cannot rot: on SQLite with
// and without the page cache, and on a fresh PostgreSQL database.
func TestBenchSuite(t *testing.T) {
	tests := []struct {
		name     string
		postgres bool
		uncached bool
		header   string
	}{
		{"sqlite", false, false, "server on sqlite, page cache on"},
		{"sqlite uncached", false, true, "server on sqlite, page cache off (--uncached)"},
		{"postgres uncached", true, true, "server on postgres, page cache off (--uncached)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				Runs: 1, Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond,
				Comments: 20, Clients: 4, PostClients: 2, PeakClients: 8, NoModel: true,
				Uncached: tt.uncached, Exe: testenv.Binary(t),
			}
			if tt.postgres {
				cfg.Database = testenv.Postgres(t)
			}
			testBenchSuite(t, cfg, tt.header)
		})
	}
}

func testBenchSuite(t *testing.T, cfg Config, header string) {
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log bytes.Buffer
	rep, err := runBenchSuite(ctx, cfg, &log)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	if rep.Thread.Comments != 20 || rep.Thread.Replies != 6 || rep.Thread.GzipBytes == 0 || rep.Thread.GzipBytes >= rep.Thread.JSONBytes {
		t.Errorf("thread = %+v; want 20 comments, 6 replies, gzip smaller than JSON", rep.Thread)
	}
	want := []struct {
		name, server string
		clients      int
	}{
		{"read thread, anonymous", "parley", 1}, {"read thread, anonymous", "parley", 4},
		{"read thread, signed in", "parley", 1}, {"read thread, signed in", "parley", 4},
		{"read thread", "minimal", 1}, {"read thread", "minimal", 4},
		{"post comment (durable)", "parley", 1}, {"post comment (durable)", "parley", 2},
		{"read thread, anonymous", "parley", 8},
	}
	if len(rep.Median.Phases) != len(want) {
		t.Fatalf("%d phases, want %d: %+v", len(rep.Median.Phases), len(want), rep.Median.Phases)
	}
	for i, p := range rep.Median.Phases {
		w := want[i]
		if p.Name != w.name || p.Server != w.server || p.Clients != w.clients {
			t.Errorf("phase %d = %s/%s/%d, want %s/%s/%d", i, p.Name, p.Server, p.Clients, w.name, w.server, w.clients)
		}
		if p.Rate <= 0 || p.Count == 0 || p.P50ms <= 0 || p.P99ms < p.P50ms || p.Errors != 0 {
			t.Errorf("phase %q (%d clients): rate %.0f, count %d, p50 %.2f, p99 %.2f, errors %d (%s)", p.Name, p.Clients, p.Rate, p.Count, p.P50ms, p.P99ms, p.Errors, p.FirstErr)
		}
		if p.Server == "parley" && p.PeakRSS <= 0 {
			t.Errorf("phase %q: no peak RSS for the server", p.Name)
		}
	}
	if len(rep.Ratios) != 4 {
		t.Errorf("ratios = %+v, want 4", rep.Ratios)
	}
	var table bytes.Buffer
	rep.writeTable(&table)
	for _, s := range []string{header, "post comment (durable)", "comments/s", "minimal", "Parley / minimal server, read, signed in, 4 client(s)"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}

// TestBenchSSE runs the live-update measurement with 50 streams and 2
// comments: every stream must get both, and the server must have inherited
// the open-file limit the bench set.
func TestBenchSSE(t *testing.T) {
	cfg := Config{Runs: 1, Duration: time.Second, Comments: 1, Clients: 1, PostClients: 1, PeakClients: 1,
		NoModel: true, SSE: 50, SSEComments: 2, SSEInterval: 50 * time.Millisecond, Exe: testenv.Binary(t)}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var log bytes.Buffer
	rep, err := runSSEBench(ctx, cfg, &log)
	if err != nil {
		t.Fatalf("bench --sse: %v\n%s", err, log.String())
	}
	r := rep.Median
	if r.Ready != 50 || r.Comments != 2 || r.Expected != 100 || r.Delivered != 100 || r.Share != 1 || r.Dropped != 0 {
		t.Errorf("ready %d, comments %d, delivered %d of %d (share %.3f), dropped %d; want 50 ready, 100 of 100, none dropped",
			r.Ready, r.Comments, r.Delivered, r.Expected, r.Share, r.Dropped)
	}
	if r.P50ms < 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms || r.SentP50ms <= 0 || r.SentP99ms < r.SentP50ms {
		t.Errorf("delays p50 %.2f p99 %.2f max %.2f (from sending: p50 %.2f p99 %.2f) are out of order", r.P50ms, r.P99ms, r.MaxMs, r.SentP50ms, r.SentP99ms)
	}
	if r.RSSBefore <= 0 || r.RSSAfter <= 0 {
		t.Errorf("RSS before %d, after %d: want both measured", r.RSSBefore, r.RSSAfter)
	}
	if r.BenchNoFile < 50+1024 || r.ServerNoFile != r.BenchNoFile {
		t.Errorf("open-file limits: bench %d, server %d; want at least %d, and the server the bench's", r.BenchNoFile, r.ServerNoFile, 50+1024)
	}
	var table bytes.Buffer
	rep.writeTable(&table)
	for _, s := range []string{"50 event streams on one page", "100/100", "100.00%", "KiB/stream", "/proc/PID/limits"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Error(err)
	}
}

// TestThreadCacheOff checks that the server the bench starts with
// --thread-cache=false builds every read (the cache metric counts misses
// only), and that with the cache on, reads of an unchanged page come from it.
// The broker delivers the seeding's events a little later than the writes,
// and each drops the page's cached bytes once more, so with the cache on a
// round of three reads may miss twice: the test reads rounds until one has
// at most its first read missed.
func TestThreadCacheOff(t *testing.T) {
	tests := []struct {
		name string
		args []string
		on   bool
	}{
		{"cache on", nil, true},
		{"cache off", []string{"--thread-cache=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := serveInProcess(t, append([]string{"--no-model"}, tt.args...)...)
			b := &benchTarget{base: base, site: server.DemoSite, page: base + "/bench/thread"}
			ctx := context.Background()
			if _, err := b.seed(ctx, 3); err != nil {
				t.Fatal(err)
			}
			counts := func() map[string]int {
				res, err := http.Get(base + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				got := map[string]int{} // a result never counted has no line
				for _, line := range strings.Split(string(body), "\n") {
					if rest, ok := strings.CutPrefix(line, `parley_thread_cache_total{result="`); ok {
						result, n, _ := strings.Cut(rest, `"} `)
						got[result], _ = strconv.Atoi(n)
					}
				}
				return got
			}
			for round := 1; ; round++ {
				before := counts()
				for range 3 {
					if _, err := b.snapshot(ctx); err != nil {
						t.Fatal(err)
					}
				}
				after := counts()
				hit, miss := after["hit"]-before["hit"], after["miss"]-before["miss"]
				if hit+miss != 3 {
					t.Fatalf("three reads counted %d hits and %d misses", hit, miss)
				}
				if !tt.on {
					if hit != 0 {
						t.Errorf("three reads with the cache off: %d hits, want none", hit)
					}
					return
				}
				if miss <= 1 {
					return
				}
				if round == 10 {
					t.Fatalf("ten rounds of three reads of an unchanged page, the last with %d misses: the cache never served them", miss)
				}
			}
		})
	}
}

func TestRaiseNoFile(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	got, err := raiseNoFile(before.Cur)
	if err != nil {
		t.Fatal(err)
	}
	if got < before.Cur {
		t.Errorf("raiseNoFile(%d) = %d, want at least the limit it had", before.Cur, got)
	}
	if n := processNoFile(os.Getpid()); n != got {
		t.Errorf("/proc/self/limits says %d open files, raiseNoFile said %d", n, got)
	}
}

func TestJSONInt(t *testing.T) {
	tests := []struct {
		name string
		data string
		want int64
		ok   bool
	}{
		{"comment id", `data: {"id":12,"comment_id":345}`, 345, true},
		{"followed by more", `data: {"id":12,"comment_id":7,"page_count":3}`, 7, true},
		{"absent", `data: {}`, 0, false},
		{"not a number", `data: {"comment_id":null}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := jsonInt([]byte(tt.data), `"comment_id":`)
			if got != tt.want || ok != tt.ok {
				t.Errorf("jsonInt(%q) = %d, %v; want %d, %v", tt.data, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestBenchText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for i := range 2000 {
		s := benchText(rng, i)
		if n := len([]rune(s)); n < 200 || n > 600 {
			t.Fatalf("text %d has %d characters, want 200-600: %q", i, n, s)
		}
		if seen[s] {
			t.Fatalf("text %d repeats an earlier one: %q", i, s)
		}
		seen[s] = true
	}
}

func TestBenchSummarise(t *testing.T) {
	run := func(rates ...float64) benchRun {
		var r benchRun
		for i, rate := range rates {
			server := "parley"
			name := []string{"read thread, anonymous", "read thread, signed in", "read thread"}[i]
			if i == 2 {
				server = "minimal"
			}
			r.Phases = append(r.Phases, benchPhase{Name: name, Server: server, Clients: 1, Rate: rate, P50ms: rate / 100, P99ms: rate / 10, PeakRSS: int64(rate)})
		}
		return r
	}
	tests := []struct {
		name       string
		runs       []benchRun
		median     []float64
		anonToMini float64
	}{
		{"one run", []benchRun{run(100, 200, 400)}, []float64{100, 200, 400}, 0.25},
		{"odd runs take the middle", []benchRun{run(100, 200, 400), run(300, 100, 200), run(200, 300, 300)}, []float64{200, 200, 300}, 200.0 / 300},
		{"even runs average the middle two", []benchRun{run(100, 100, 100), run(300, 300, 300)}, []float64{200, 200, 200}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &benchReport{Runs: tt.runs}
			rep.Config.Clients = 1
			rep.summarise()
			for i, want := range tt.median {
				p := rep.Median.Phases[i]
				if p.Rate != want || p.P50ms != want/100 || p.PeakRSS != int64(want) {
					t.Errorf("phase %d: median rate %.1f p50 %.2f rss %d, want %.1f", i, p.Rate, p.P50ms, p.PeakRSS, want)
				}
			}
			if len(rep.Ratios) == 0 || rep.Ratios[0].Ratio != tt.anonToMini {
				t.Errorf("ratios = %+v, want anonymous/minimal %.3f first", rep.Ratios, tt.anonToMini)
			}
		})
	}
}

func TestBenchConfigValidate(t *testing.T) {
	ok := Config{Runs: 3, Duration: 5 * time.Second, Warmup: time.Second, Comments: 1000, Clients: 50, PostClients: 8, PeakClients: 200}
	tests := []struct {
		name   string
		change func(*Config)
		valid  bool
	}{
		{"defaults", func(*Config) {}, true},
		{"no runs", func(c *Config) { c.Runs = 0 }, false},
		{"zero duration", func(c *Config) { c.Duration = 0 }, false},
		{"endless duration", func(c *Config) { c.Duration = time.Hour }, false},
		{"more than one response", func(c *Config) { c.Comments = 1001 }, false},
		{"no clients", func(c *Config) { c.Clients = 0 }, false},
		{"too many clients", func(c *Config) { c.PeakClients = 5000 }, false},
		{"postgres", func(c *Config) { c.Database = "postgres://postgres@127.0.0.1/test" }, true},
		{"not a postgres url", func(c *Config) { c.Database = "mysql://127.0.0.1/test" }, false},
		{"10,000 streams", func(c *Config) { c.SSE, c.SSEComments, c.SSEInterval = 10_000, 20, 200*time.Millisecond }, true},
		{"streams without comments", func(c *Config) { c.SSE, c.SSEComments = 10, 0 }, false},
		{"too many streams", func(c *Config) { c.SSE, c.SSEComments = 200_000, 20 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			if err := c.validate(); (err == nil) != tt.valid {
				t.Errorf("validate() = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}

// serveInProcess runs `parley serve --demo --demo-data=false ARGS` inside
// the test process (so that `go test -cpuprofile` sees the server's own
// code) until the test ends, and returns its base URL.
func serveInProcess(tb testing.TB, args ...string) string {
	tb.Helper()
	cfg := servertest.Config(tb, append([]string{"--demo", "--demo-data=false"}, args...)...)
	return servertest.Start(tb, cfg, server.Options{}).URL()
}

// BenchmarkServePost posts comments with the durable commit from 8
// goroutines (4 per CPU on 2 CPUs), each its own reader, to a server in
// this process. Profile where a post's time goes with
//
//	go test ./internal/bench -run '^$' -bench ServePost/sqlite -benchtime 5s -cpuprofile post.prof
//
// ServePost/postgres runs the same on PostgreSQL (PARLEY_TEST_POSTGRES, a
// schema of its own).
func BenchmarkServePost(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchServePost(b, serveInProcess(b))
	})
	b.Run("postgres", func(b *testing.B) {
		dsn, schema := testenv.PostgresSchema(b, "parley_bench_")
		// The pool's backends carry the schema's name, for the CPU probe.
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		db := postgres.New(dsn + sep + "application_name=" + schema)
		db.Schema = schema
		var sc statementCounter
		if os.Getenv("PARLEY_BENCH_STATEMENTS") != "" {
			db.Tracer = &sc
		}
		if err := db.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		cfg := servertest.Config(b, "--demo", "--demo-data=false")
		sc.mu.Lock()
		sc.trips, sc.byQuery = 0, nil
		sc.mu.Unlock()
		probe := newDBProbe(context.Background(), dsn, schema, true)
		defer probe.Close()
		url := servertest.Start(b, cfg, server.Options{Store: db}).URL()
		before, pg0, self0 := db.Stats(), probe.sample(context.Background()), selfCPU()
		benchServePost(b, url)
		after, pg1, self1 := db.Stats(), probe.sample(context.Background()), selfCPU()
		if pg := used(pg0, pg1); pg > 0 {
			b.ReportMetric(ms(pg)/float64(b.N), "pg-cpu-ms/op")
		}
		// Parley and the load generator: this process.
		b.ReportMetric(ms(self1-self0)/float64(b.N), "go-cpu-ms/op")
		if n := after.Batches - before.Batches; n > 0 {
			b.ReportMetric(float64(after.Units-before.Units)/float64(b.N), "units/op")
			b.ReportMetric(float64(after.Units-before.Units)/float64(n), "units/batch")
			b.ReportMetric(float64(after.Busy-before.Busy)/float64(n)/1e6, "ms/batch")
		}
		if db.Tracer != nil && b.N > 100 {
			b.ReportMetric(float64(sc.trips)/float64(b.N), "trips/op")
			var lines []string
			for q, n := range sc.byQuery {
				lines = append(lines, fmt.Sprintf("%8.3f/op %s\n", float64(n)/float64(b.N), q))
			}
			slices.Sort(lines)
			os.WriteFile(os.Getenv("PARLEY_BENCH_STATEMENTS"), []byte(strings.Join(lines, "")), 0o644)
		}
	})
}

func benchServePost(b *testing.B, base string) {
	t := &benchTarget{base: base, site: server.DemoSite, page: base + "/bench/thread"}
	var seq, writers atomic.Int64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		op := t.postOp(&seq, &writers)
		for pb.Next() {
			if err := op(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comments/s")
}

// BenchmarkServeRead reads a seeded 1,000-comment thread with gzip from 8
// goroutines, as anonymous readers, from a server in this process: with
// the page cache, and without it (every read queries, renders and
// compresses). Profile the uncached path with
//
//	go test ./internal/bench -run '^$' -bench 'ServeRead/uncached' -benchtime 5s -cpuprofile read.prof
func BenchmarkServeRead(b *testing.B) {
	for _, bb := range []struct {
		name string
		args []string
	}{
		{"cached", nil},
		{"uncached", []string{"--thread-cache=false"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			base := serveInProcess(b, append([]string{"--no-model"}, bb.args...)...)
			t := &benchTarget{base: base, site: server.DemoSite, page: base + "/bench/thread"}
			ctx := context.Background()
			if _, err := t.seed(ctx, 1000); err != nil {
				b.Fatal(err)
			}
			snap, err := t.snapshot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				op := getOp(t.threadURL(), "", len(snap.body))
				for pb.Next() {
					if err := op(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// BenchmarkServeStreams posts comments to a page that 5,000 event streams
// follow, on a server in this process, and times each comment until every
// stream has its comment.created event. Profile the fan-out with
//
//	go test ./internal/bench -run '^$' -bench ServeStreams -benchtime 40x -cpuprofile sse.prof
//
// Both ends of every stream are in this process, so it needs twice the
// descriptors of `parley bench --sse`.
func BenchmarkServeStreams(b *testing.B) {
	const streams = 5000
	if _, err := raiseNoFile(2*streams + 1024); err != nil {
		b.Skip(err)
	}
	base := serveInProcess(b, "--no-model")
	t := &benchTarget{base: base, site: server.DemoSite, page: base + "/bench/live"}
	ctx := context.Background()
	c := benchClient()
	rng := rand.New(rand.NewPCG(5, 5))
	if _, err := t.post(ctx, c, t.page, benchText(rng, 0), "Live reader", 0); err != nil {
		b.Fatal(err)
	}
	openCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	target := "/api/v1/stream?site=" + server.DemoSite + "&url=" + url.QueryEscape(t.page)
	set := openStreams(openCtx, strings.TrimPrefix(base, "http://"), target, streams)
	defer set.close()
	if n := set.ready.Load(); n != streams {
		set.close()
		b.Fatalf("%d of %d streams ready: %v", n, streams, set.firstErr())
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := t.post(ctx, c, t.page, benchText(rng, i+1), "Live reader", 0); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for set.delivered.Load() < int64(i+1)*streams {
			if time.Now().After(deadline) {
				b.Fatalf("comment %d: %d of %d events delivered after 30 s", i+1, set.delivered.Load(), int64(i+1)*streams)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/comment")
}

// statementCounter counts, by the first words of their SQL, the statements
// and round trips of a PostgreSQL store (its Tracer).
type statementCounter struct {
	mu      sync.Mutex
	trips   int
	byQuery map[string]int
}

func (c *statementCounter) count(sql string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byQuery == nil {
		c.byQuery = map[string]int{}
	}
	f := strings.Fields(sql)
	c.byQuery[strings.Join(f[:min(len(f), 6)], " ")]++
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.count(d.SQL)
	c.mu.Lock()
	c.trips++
	c.mu.Unlock()
	return ctx
}
func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	c.trips++
	c.mu.Unlock()
	for _, q := range d.Batch.QueuedQueries {
		c.count(q.SQL)
	}
	return ctx
}
func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
