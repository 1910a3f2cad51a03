// Package bench is Parley's load generator, run as `parley bench`: it starts
// `parley serve` as a child process (server.StartProcess) so that the
// server's CPU time and memory can be read from /proc, seeds a page,
// measures reads, posts and live updates over loopback, and compares the
// reads with a minimal net/http server serving the same bytes.
package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/server"
)

// Usage is the help text of `parley bench`, printed above its flags.
const Usage = `Usage:
  parley bench [flags]

Starts "parley serve" as a child process on a loopback port with a fresh data
directory and PARLEY_RATE_LIMIT=off, seeds one page with --comments comments
(30% replies, bodies of 200-600 characters), and measures with a built-in
keep-alive load generator (Accept-Encoding: gzip, whole bodies read):

  - reads of the whole thread (limit=1000) by 1 and --clients concurrent
    readers, anonymous and signed in: requests/s, p50 and p99 latency;
  - the same reads against a minimal net/http server (a second child process)
    answering with the very same bytes and headers from memory;
  - posting with the durable commit, 1 and --post-clients writers: comments/s;
  - the server's CPU time per operation over each measured window, and its
    peak RSS (VmHWM) after each phase, the last phase being --peak-clients
    concurrent readers.

Each measurement runs --duration after --warmup. The six read measurements
are interleaved: in up to five rounds (one per second of --duration) each
runs a slice of --duration, in an order that rotates per round, so that
load from elsewhere on a shared machine falls on Parley and the minimal
server alike. The whole suite runs --runs times on a fresh server; the table
shows the median of the runs, and the Parley / minimal ratios the median of
each run's ratio. All traffic goes to 127.0.0.1 and every loop is bounded by
its duration.

  --database postgres://USER@HOST/DB   runs the server on PostgreSQL: each run
      creates a fresh database through this admin connection and drops it
      afterwards (the user needs CREATEDB). SQLite otherwise.
  --uncached   runs the server with --thread-cache=false: every thread read
      queries, renders and compresses the page instead of using the cache.
  --sse N      measures live updates instead of the suite: raises the open-file
      limit (inherited by the server), opens N event streams on one page,
      posts --sse-comments comments --sse-interval apart, and reports the
      delay from each POST's 201 to each stream's comment.created event
      (p50, p99, max, share delivered), the server's memory per stream and
      its CPU time.

Flags:
`

// Config is what one `parley bench` measures.
type Config struct {
	Runs        int
	Duration    time.Duration
	Warmup      time.Duration
	Comments    int
	Clients     int
	PostClients int
	PeakClients int
	NoModel     bool
	JSON        bool
	Database    string // PostgreSQL admin URL: each run gets a fresh database; "" is SQLite
	Uncached    bool   // serve with --thread-cache=false

	SSE         int           // streams to open; not 0 selects the live-update measurement
	SSEComments int           // comments posted while the streams are open
	SSEInterval time.Duration // between those posts

	Exe     string // the parley binary to start; default: this executable
	Version string // the version of Parley the report names
}

// Run runs `parley bench` as cfg says, printing progress to stderr and the
// report to stdout. It fails when cfg is not valid or any request failed.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.SSE > 0 {
		return runSSEBenchCommand(ctx, cfg, stdout, stderr)
	}
	rep, err := runBenchSuite(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if err := printReport(stdout, cfg.JSON, rep); err != nil {
		return err
	}
	if n := rep.failed(); n > 0 {
		return fmt.Errorf("bench: %d requests failed (see the errors column)", n)
	}
	return nil
}

// printReport writes a bench report as indented JSON or as its table.
func printReport(w io.Writer, asJSON bool, rep interface{ writeTable(io.Writer) }) error {
	if !asJSON {
		rep.writeTable(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func (c *Config) validate() error {
	switch {
	case c.Runs < 1:
		return fmt.Errorf("bench: --runs must be at least 1")
	case c.Duration <= 0 || c.Warmup < 0:
		return fmt.Errorf("bench: --duration must be positive and --warmup not negative")
	case c.Duration > 10*time.Minute:
		return fmt.Errorf("bench: --duration is at most 10m")
	case c.Comments < 1 || c.Comments > 1000:
		return fmt.Errorf("bench: --comments must be between 1 and 1000 (one thread response)")
	case c.Clients < 1 || c.PostClients < 1 || c.PeakClients < 1 || c.Clients > 1000 || c.PeakClients > 1000 || c.PostClients > 1000:
		return fmt.Errorf("bench: client counts must be between 1 and 1000")
	case c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://"):
		return fmt.Errorf("bench: --database must be a postgres:// URL")
	case c.SSE < 0 || c.SSE > 100_000:
		return fmt.Errorf("bench: --sse must be between 0 and 100000 streams")
	case c.SSE > 0 && (c.SSEComments < 1 || c.SSEComments > 1000):
		return fmt.Errorf("bench: --sse-comments must be between 1 and 1000")
	case c.SSE > 0 && (c.SSEInterval < 0 || c.SSEInterval > time.Minute):
		return fmt.Errorf("bench: --sse-interval must be between 0 and 1m")
	}
	return nil
}

// findExe sets Exe to this executable when it is empty: `parley bench`
// starts the very binary it runs in.
func (c *Config) findExe() error {
	if c.Exe != "" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench: find the parley executable: %w", err)
	}
	c.Exe = exe
	return nil
}

// storeName names the backend the bench runs the server on.
func (c *Config) storeName() string {
	if c.Database != "" {
		return "postgres"
	}
	return "sqlite"
}

// ---- report -------------------------------------------------------------

// benchPhase is one measurement.
type benchPhase struct {
	Name    string  `json:"name"`   // e.g. "read, anonymous"
	Server  string  `json:"server"` // "parley" or "minimal"
	Clients int     `json:"clients"`
	Unit    string  `json:"unit"` // "requests/s" or "comments/s"
	Count   int     `json:"count"`
	Errors  int     `json:"errors"`
	Rate    float64 `json:"rate"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	PeakRSS int64   `json:"peak_rss_bytes"` // the server's VmHWM after the phase; 0 if unknown
	// CPUms is the server process's CPU time (user+system) per completed
	// operation during the measured window, and Cores its CPU time per
	// second of it: unlike the rates, they hardly depend on what else the
	// machine is running.
	CPUms float64 `json:"server_cpu_ms_per_op"`
	Cores float64 `json:"server_cores"`
	// DBCPUms is the same for PostgreSQL's processes (see dbProbe), with
	// --database and for the posting phases; 0 otherwise.
	DBCPUms  float64 `json:"database_cpu_ms_per_op,omitempty"`
	FirstErr string  `json:"first_error,omitempty"`

	lat   []time.Duration // sorted latencies of the completed operations
	dur   time.Duration   // the measured window
	cpu   time.Duration   // the server's CPU time in it; 0 if unknown
	dbcpu time.Duration   // PostgreSQL's; 0 if unknown
}

// benchRounds is how many interleaved rounds the read phases of a run take:
// one slice of at least a second per phase and round, at most five rounds.
func benchRounds(d time.Duration) int {
	return max(1, min(5, int(d/time.Second)))
}

// mergePhases sums the slices of one measurement taken in several rounds.
func mergePhases(parts []benchPhase) benchPhase {
	var p benchPhase
	var all []time.Duration
	for _, q := range parts {
		all = append(all, q.lat...)
		p.dur += q.dur
		p.cpu += q.cpu
		p.dbcpu += q.dbcpu
		p.Errors += q.Errors
		if p.FirstErr == "" {
			p.FirstErr = q.FirstErr
		}
	}
	slices.Sort(all)
	p.summarise(all)
	return p
}

// summarise sets the rate, latencies and CPU figures from the sorted
// latencies all, p.dur and p.cpu.
func (p *benchPhase) summarise(all []time.Duration) {
	p.lat = all
	p.Count = len(all)
	p.Rate = float64(len(all)) / p.dur.Seconds()
	if p.cpu > 0 {
		p.Cores = p.cpu.Seconds() / p.dur.Seconds()
		if p.Count > 0 {
			p.CPUms = ms(p.cpu) / float64(p.Count)
		}
	}
	if p.dbcpu > 0 && p.Count > 0 {
		p.DBCPUms = ms(p.dbcpu) / float64(p.Count)
	}
	if n := len(all); n > 0 {
		p.P50ms = ms(all[n/2])
		p.P99ms = ms(all[min(n-1, n*99/100)])
	}
}

// benchRun is one pass of the whole suite on a fresh server.
type benchRun struct {
	SeedRate float64      `json:"seed_comments_per_s"`
	Held     int64        `json:"held_benign_comments"` // plausible, benign texts the moderation pipeline held
	Phases   []benchPhase `json:"phases"`
}

// machine is the machine a report was measured on.
type machine struct {
	CPUs   int    `json:"cpus"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Go     string `json:"go"`
	Parley string `json:"parley"`
}

// thisMachine describes the machine the bench runs on.
func thisMachine(version string) machine {
	return machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version(), Parley: version}
}

// benchReport is what `parley bench` prints.
type benchReport struct {
	Machine machine `json:"machine"`
	Config  struct {
		Runs        int    `json:"runs"`
		Duration    string `json:"duration"`
		Warmup      string `json:"warmup"`
		Comments    int    `json:"comments"`
		Clients     int    `json:"clients"`
		PostClients int    `json:"post_clients"`
		PeakClients int    `json:"peak_clients"`
		NoModel     bool   `json:"no_model"`
		Store       string `json:"store"`    // "sqlite" or "postgres"
		Uncached    bool   `json:"uncached"` // the server ran with --thread-cache=false
	} `json:"config"`
	Thread struct {
		Comments  int `json:"comments"`
		Replies   int `json:"replies"`
		JSONBytes int `json:"json_bytes"`
		GzipBytes int `json:"gzip_bytes"`
	} `json:"thread"`
	Runs   []benchRun `json:"runs"`
	Median benchRun   `json:"median"`
	Ratios []struct {
		Name  string  `json:"name"`
		Ratio float64 `json:"ratio"`
	} `json:"ratios_parley_to_minimal"`
}

func (r *benchReport) failed() int {
	n := 0
	for _, run := range r.Runs {
		for _, p := range run.Phases {
			n += p.Errors
		}
	}
	return n
}

// summarise fills Median (phase by phase, each figure on its own; Held is
// the total of all runs) and the Parley-to-minimal throughput ratios.
func (r *benchReport) summarise() {
	if len(r.Runs) == 0 {
		return
	}
	med := func(vals []float64) float64 {
		slices.Sort(vals)
		n := len(vals)
		if n%2 == 1 {
			return vals[n/2]
		}
		return (vals[n/2-1] + vals[n/2]) / 2
	}
	seeds := make([]float64, 0, len(r.Runs))
	for _, run := range r.Runs {
		seeds = append(seeds, run.SeedRate)
	}
	r.Median = benchRun{SeedRate: med(seeds)}
	for _, run := range r.Runs {
		r.Median.Held += run.Held
	}
	for i, p := range r.Runs[0].Phases {
		var rate, p50, p99, rss, cpu, cores, dbcpu []float64
		m := p
		m.Count, m.Errors, m.FirstErr = 0, 0, ""
		for _, run := range r.Runs {
			q := run.Phases[i]
			rate = append(rate, q.Rate)
			p50 = append(p50, q.P50ms)
			p99 = append(p99, q.P99ms)
			rss = append(rss, float64(q.PeakRSS))
			cpu = append(cpu, q.CPUms)
			cores = append(cores, q.Cores)
			dbcpu = append(dbcpu, q.DBCPUms)
			m.Count += q.Count
			m.Errors += q.Errors
			if m.FirstErr == "" {
				m.FirstErr = q.FirstErr
			}
		}
		m.Count /= len(r.Runs)
		m.Rate, m.P50ms, m.P99ms, m.PeakRSS = med(rate), med(p50), med(p99), int64(med(rss))
		m.CPUms, m.Cores, m.DBCPUms = med(cpu), med(cores), med(dbcpu)
		r.Median.Phases = append(r.Median.Phases, m)
	}
	// Each run's ratio pairs rates measured side by side (interleaved
	// rounds); the report gives the median of those ratios.
	find := func(run benchRun, name, server string, clients int) float64 {
		for _, p := range run.Phases {
			if p.Name == name && p.Server == server && p.Clients == clients {
				return p.Rate
			}
		}
		return 0
	}
	r.Ratios = r.Ratios[:0]
	for _, c := range []int{1, r.Config.Clients} {
		for _, who := range []string{"anonymous", "signed in"} {
			var ratios []float64
			for _, run := range r.Runs {
				if minimal := find(run, "read thread", "minimal", c); minimal > 0 {
					ratios = append(ratios, find(run, "read thread, "+who, "parley", c)/minimal)
				}
			}
			if len(ratios) == 0 {
				continue
			}
			r.Ratios = append(r.Ratios, struct {
				Name  string  `json:"name"`
				Ratio float64 `json:"ratio"`
			}{fmt.Sprintf("read, %s, %d client(s)", who, c), med(ratios)})
		}
	}
}

func (r *benchReport) writeTable(w io.Writer) {
	model := "with the toxicity model"
	if r.Config.NoModel {
		model = "without the toxicity model (--no-model)"
	}
	cache := "page cache on"
	if r.Config.Uncached {
		cache = "page cache off (--uncached)"
	}
	fmt.Fprintf(w, "Parley %s bench: one page of %d comments (%d replies), %s JSON, %s gzipped; server on %s, %s, %s.\n",
		r.Machine.Parley, r.Thread.Comments, r.Thread.Replies, size(r.Thread.JSONBytes), size(r.Thread.GzipBytes), r.Config.Store, cache, model)
	fmt.Fprintf(w, "%d CPUs, %s/%s, %s. Each figure: the median of %d runs of %s after a %s warm-up.\n\n",
		r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go, r.Config.Runs, r.Config.Duration, r.Config.Warmup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measurement\tserver\tclients\trate\tunit\tp50 ms\tp99 ms\tCPU ms/op\tCPU cores\tDB CPU ms/op\tpeak RSS\terrors\t")
	for _, p := range r.Median.Phases {
		rss := "n/a"
		if p.PeakRSS > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(p.PeakRSS)/(1<<20))
		}
		if p.Server != "parley" {
			rss = "-"
		}
		dbcpu := "-"
		if p.DBCPUms > 0 {
			dbcpu = fmt.Sprintf("%.3f", p.DBCPUms)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%s\t%.2f\t%.2f\t%.3f\t%.2f\t%s\t%s\t%d\t\n", p.Name, p.Server, p.Clients, p.Rate, p.Unit, p.P50ms, p.P99ms, p.CPUms, p.Cores, dbcpu, rss, p.Errors)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, q := range r.Ratios {
		fmt.Fprintf(w, "Parley / minimal server, %s: %.2f (median of the runs' interleaved ratios)\n", q.Name, q.Ratio)
	}
	fmt.Fprintf(w, "Seeding rate (8 writers, median): %.0f comments/s\n", r.Median.SeedRate)
	if r.Median.Held > 0 {
		fmt.Fprintf(w, "Benign bench comments the moderation pipeline held (all runs): %d; they count as posts, and seeding replaced them.\n", r.Median.Held)
	}
	for _, p := range r.Median.Phases {
		if p.FirstErr != "" {
			fmt.Fprintf(w, "First error in %q at %d clients: %s\n", p.Name, p.Clients, p.FirstErr)
		}
	}
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
}

// ---- the suite ----------------------------------------------------------

// runBenchSuite runs cfg.Runs passes and returns the report with medians.
// Progress goes to log.
func runBenchSuite(ctx context.Context, cfg Config, log io.Writer) (*benchReport, error) {
	if err := cfg.findExe(); err != nil {
		return nil, err
	}
	rep := &benchReport{}
	rep.Machine = thisMachine(cfg.Version)
	rep.Config.Runs, rep.Config.Duration, rep.Config.Warmup = cfg.Runs, cfg.Duration.String(), cfg.Warmup.String()
	rep.Config.Comments, rep.Config.Clients, rep.Config.PostClients, rep.Config.PeakClients = cfg.Comments, cfg.Clients, cfg.PostClients, cfg.PeakClients
	rep.Config.NoModel, rep.Config.Store, rep.Config.Uncached = cfg.NoModel, cfg.storeName(), cfg.Uncached
	for i := range cfg.Runs {
		fmt.Fprintf(log, "bench: run %d of %d\n", i+1, cfg.Runs)
		run, err := benchOnce(ctx, cfg, rep, log)
		if err != nil {
			return nil, fmt.Errorf("bench run %d: %w", i+1, err)
		}
		rep.Runs = append(rep.Runs, *run)
	}
	rep.summarise()
	return rep, nil
}

// benchOnce starts a fresh server, seeds it and measures every phase.
func benchOnce(ctx context.Context, cfg Config, rep *benchReport, log io.Writer) (*benchRun, error) {
	srv, dir, dsn, stop, err := startBenchServer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()

	b := &benchTarget{base: srv.URL, site: server.DemoSite, page: srv.URL + "/bench/thread"}
	start := time.Now()
	replies, err := b.seed(ctx, cfg.Comments)
	if err != nil {
		return nil, err
	}
	run := &benchRun{SeedRate: float64(cfg.Comments) / time.Since(start).Seconds()}

	// The response every reader gets, checked and kept for the minimal server.
	snap, err := b.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap.comments != cfg.Comments {
		return nil, fmt.Errorf("the seeded thread serves %d comments, want %d (were some held for review?)", snap.comments, cfg.Comments)
	}
	rep.Thread.Comments, rep.Thread.Replies, rep.Thread.JSONBytes, rep.Thread.GzipBytes = snap.comments, replies, snap.plainLen, len(snap.body)
	cookie, err := b.signIn(ctx)
	if err != nil {
		return nil, err
	}
	staticFile := filepath.Join(dir, "response.json")
	if err := snap.save(staticFile); err != nil {
		return nil, err
	}

	readURL := b.threadURL()
	phase := func(name, server string, clients int, unit string, op func(i int) benchOp, pid int, db *dbProbe) {
		fmt.Fprintf(log, "bench:   %s (%s, %d clients)\n", name, server, clients)
		p := measureLoad(ctx, clients, cfg.Warmup, cfg.Duration, pid, db, op)
		p.Name, p.Server, p.Clients, p.Unit = name, server, clients, unit
		if server == "parley" {
			p.PeakRSS = peakRSS(pid)
		}
		run.Phases = append(run.Phases, p)
	}
	pid := srv.Pid()
	reader := func(u, cookie string) func(int) benchOp {
		return func(int) benchOp { return getOp(u, cookie, len(snap.body)) }
	}
	// The reads are measured in rounds, each phase a slice of --duration
	// per round, in an order that rotates from round to round, Parley's and
	// the minimal server's phases side by side: load from elsewhere on a
	// shared machine comes and goes over seconds, and interleaving makes it
	// fall on both servers alike, so their ratio holds still while the
	// rates move.
	static, err := server.StartProcess(ctx, cfg.Exe, []string{"bench", "static", "--addr", "127.0.0.1:0", "--file", staticFile})
	if err != nil {
		return nil, err
	}
	staticURL := static.URL + "/api/v1/threads?" + strings.SplitN(readURL, "?", 2)[1]
	type readPhase struct {
		name, server string
		clients      int
		op           func(int) benchOp
		pid          int
		parts        []benchPhase
	}
	var reads []*readPhase
	for _, who := range []struct{ name, server, url, cookie string }{
		{"read thread, anonymous", "parley", readURL, ""},
		{"read thread, signed in", "parley", readURL, cookie},
		{"read thread", "minimal", staticURL, ""},
	} {
		p := pid
		if who.server == "minimal" {
			p = static.Pid()
		}
		for _, c := range []int{1, cfg.Clients} {
			reads = append(reads, &readPhase{name: who.name, server: who.server, clients: c, op: reader(who.url, who.cookie), pid: p})
		}
	}
	rounds := benchRounds(cfg.Duration)
	slice := cfg.Duration / time.Duration(rounds)
	for round := range rounds {
		warm := cfg.Warmup // the first round warms caches and connections
		if round > 0 {
			warm = min(cfg.Warmup, 200*time.Millisecond) // fresh connections only
		}
		for i := range reads {
			rp := reads[(i+round)%len(reads)]
			if round == 0 {
				fmt.Fprintf(log, "bench:   %s (%s, %d clients), %d rounds\n", rp.name, rp.server, rp.clients, rounds)
			}
			rp.parts = append(rp.parts, measureLoad(ctx, rp.clients, warm, slice, rp.pid, nil, rp.op))
		}
	}
	static.Stop()
	for _, rp := range reads {
		p := mergePhases(rp.parts)
		p.Name, p.Server, p.Clients, p.Unit = rp.name, rp.server, rp.clients, "requests/s"
		if rp.server == "parley" {
			p.PeakRSS = peakRSS(pid)
		}
		run.Phases = append(run.Phases, p)
	}

	var seq, writers atomic.Int64
	seq.Store(int64(cfg.Comments) + 1) // texts distinct from the seeded ones
	writer := func(int) benchOp { return b.postOp(&seq, &writers) }
	var db *dbProbe
	if dsn != "" {
		if u, err := url.Parse(dsn); err == nil {
			db = newDBProbe(ctx, dsn, strings.TrimPrefix(u.Path, "/"), false)
			defer db.Close()
		}
	}
	for _, c := range []int{1, cfg.PostClients} {
		phase("post comment (durable)", "parley", c, "comments/s", writer, pid, db)
	}
	phase("read thread, anonymous", "parley", cfg.PeakClients, "requests/s", reader(readURL, ""), pid, nil)

	if err := srv.Alive(); err != nil {
		return nil, err
	}
	run.Held = b.held.Load()
	return run, nil
}

// startBenchServer starts `parley serve --demo` for one run, with its data
// directory in a new temporary directory (dir, for the run's other files)
// and, with cfg.Database, on a fresh PostgreSQL database. stop ends the
// server, drops that database and removes dir.
func startBenchServer(ctx context.Context, cfg Config) (srv *server.Process, dir, dsn string, stop func(), err error) {
	dir, err = os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, "", "", nil, err
	}
	args := []string{"serve", "--demo", "--demo-data=false", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--admin-token", randomToken()}
	if cfg.NoModel {
		args = append(args, "--no-model")
	}
	if cfg.Uncached {
		args = append(args, "--thread-cache=false")
	}
	// Every stream of the load generator comes from one address: lift the
	// per-address stream cap (and the instance's, for big runs) above it.
	streams := cfg.SSE + 64
	args = append(args, "--max-streams-per-ip", strconv.Itoa(streams), "--max-streams", strconv.Itoa(max(streams, config.DefaultMaxStreams)))
	drop := func() { os.RemoveAll(dir) }
	if cfg.Database != "" {
		var dropDB func()
		dsn, dropDB, err = benchDatabase(ctx, cfg.Database)
		if err != nil {
			drop()
			return nil, "", "", nil, err
		}
		drop = func() { dropDB(); os.RemoveAll(dir) }
		args = append(args, "--database", dsn)
	}
	srv, err = server.StartProcess(ctx, cfg.Exe, args, "PARLEY_RATE_LIMIT=off", "PARLEY_LOG_LEVEL=warn")
	if err != nil {
		drop()
		return nil, "", "", nil, err
	}
	return srv, dir, dsn, func() { srv.Stop(); drop() }, nil
}

// benchDatabase creates an empty database through the admin URL and
// returns its URL and a function that drops it.
func benchDatabase(ctx context.Context, admin string) (string, func(), error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("bench: --database must be a postgres:// URL")
	}
	if !server.IsLoopback(u.Hostname()) {
		return "", nil, fmt.Errorf("bench: the PostgreSQL server %q is not on a loopback address", u.Hostname())
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("bench: connect to PostgreSQL at %s: %w", u.Host, err)
	}
	defer conn.Close(ctx)
	name := "parley_bench_" + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(randomToken()[:12]))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("bench: create database %s: %w", name, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// ---- load generator -----------------------------------------------------

// benchOp performs one request with its own keep-alive client and reports
// an error unless the response was the expected one, fully read.
type benchOp func(ctx context.Context) error

// measureLoad runs clients concurrent loops of op for warmup+dur and returns
// the throughput and latency of the requests that started after the warm-up
// and finished within dur. It stops by itself at the deadline.
//
// When pid is not 0, the CPU time that process spends in the window is
// measured too.
//
// When db is not nil, so is PostgreSQL's (see dbProbe).
func measureLoad(ctx context.Context, clients int, warmup, dur time.Duration, pid int, db *dbProbe, newOp func(i int) benchOp) benchPhase {
	// A window in which no operation completed measures nothing: it is
	// extended until one does (a stalled disk or a starved CPU can hold a
	// post longer than a short window), and the rate is taken over the
	// window as extended.
	const minOps = 1
	var completed, failed atomic.Int64
	enough := func() bool { return completed.Load() >= minOps || failed.Load() > 0 }
	begin := time.Now()
	from, end := begin.Add(warmup), begin.Add(warmup+dur)
	ctx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()
	cpu, dbcpu := make(chan time.Duration, 1), make(chan time.Duration, 1)
	go func() { // exits at the end of the window
		t := time.NewTimer(time.Until(from))
		defer t.Stop()
		<-t.C
		c0, d0 := processCPU(pid), db.sample(ctx)
		t.Reset(time.Until(end))
		<-t.C
		cpu <- processCPU(pid) - c0
		dbcpu <- used(d0, db.sample(ctx))
	}()
	type result struct {
		lat      []time.Duration
		errs     int
		firstErr error
		last     time.Time // when its last counted operation ended
	}
	results := make([]result, clients)
	var wg sync.WaitGroup
	for i := range clients {
		op := newOp(i)
		wg.Go(func() {
			r := &results[i]
			r.lat = make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) && enough() {
					return
				}
				err := op(ctx)
				t1 := time.Now()
				if t0.Before(from) || (t1.After(end) && enough()) {
					continue // warm-up, or past the window
				}
				if err != nil {
					failed.Add(1)
					r.errs++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.lat = append(r.lat, t1.Sub(t0))
				r.last = t1
				completed.Add(1)
			}
		})
	}
	wg.Wait()
	var p benchPhase
	var all []time.Duration
	p.dur = dur
	for _, r := range results {
		p.dur = max(p.dur, r.last.Sub(from))
		all = append(all, r.lat...)
		p.Errors += r.errs
		if r.firstErr != nil && p.FirstErr == "" {
			p.FirstErr = r.firstErr.Error()
		}
	}
	if ctx.Err() != nil && p.FirstErr == "" && time.Now().Before(end) {
		p.FirstErr = ctx.Err().Error()
	}
	slices.Sort(all)
	if used := <-cpu; pid != 0 && used > 0 {
		p.cpu = used
	}
	p.dbcpu = <-dbcpu
	p.summarise(all)
	return p
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchTransport is one client's keep-alive connection to a loopback
// server. Compression is left to the request header, so the gzip bytes are
// read as a browser receives them and not inflated on the load generator's
// CPU.
func benchClient() *http.Client {
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// getOp reads u like a browser: Accept-Encoding gzip, whole body, and
// checks it is the expected size.
func getOp(u, cookie string, wantLen int) benchOp {
	c := benchClient()
	buf := make([]byte, 0, wantLen+512)
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("Accept", "application/json")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b := bytes.NewBuffer(buf[:0])
		if _, err := b.ReadFrom(res.Body); err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET: %d %.200s", res.StatusCode, b.Bytes())
		}
		if b.Len() != wantLen {
			return fmt.Errorf("GET: %d bytes, want %d", b.Len(), wantLen)
		}
		return nil
	}
}

// benchTarget is the Parley server under test and its page.
type benchTarget struct {
	base, site, page string
	held             atomic.Int64 // comments stored but held for review
}

func (b *benchTarget) threadURL() string {
	return b.base + "/api/v1/threads?site=" + url.QueryEscape(b.site) + "&url=" + url.QueryEscape(b.page) + "&limit=1000"
}

// post sends one comment and returns its id.
func (b *benchTarget) post(ctx context.Context, c *http.Client, pageURL, text, name string, parent int64) (int64, error) {
	body, _ := json.Marshal(map[string]any{"site": b.site, "url": pageURL, "title": "Bench article", "text": text, "name": name, "parent": parent})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/api/v1/comments", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST comment: %d %.200s", res.StatusCode, data)
	}
	var out struct {
		Comment struct {
			ID int64 `json:"id"`
		} `json:"comment"`
		Status  string `json:"status"`
		Reasons []struct {
			Rule    string `json:"rule"`
			Message string `json:"message"`
		} `json:"reasons"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return 0, fmt.Errorf("POST comment: %w", err)
	}
	if out.Status != "approved" {
		return out.Comment.ID, &heldError{status: out.Status, reasons: fmt.Sprint(out.Reasons), text: text}
	}
	return out.Comment.ID, nil
}

// heldError reports a comment that was stored (201) but not published: the
// moderation pipeline held or rejected it.
type heldError struct{ status, reasons, text string }

func (e *heldError) Error() string {
	return fmt.Sprintf("POST comment: stored as %s %s: %q", e.status, e.reasons, e.text)
}

// seed posts n comments to the page from 8 writers and 40 readers' cookies;
// 3 in 10 (the 8th, 9th and 10th of every ten) reply to an earlier comment.
// It returns the number of replies.
func (b *benchTarget) seed(ctx context.Context, n int) (int, error) {
	const writers, authors = 8, 40
	clients := make([]*http.Client, authors)
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		clients[i] = benchClient()
		clients[i].Jar = jar
	}
	var (
		mu      sync.Mutex
		ids     []int64
		next    int
		replies int
		first   error
	)
	// postOne fills slot i of the page. A benign text the moderation
	// pipeline holds anyway is counted and replaced by another text, so the
	// page ends with exactly n published comments.
	postOne := func(rng *rand.Rand, i int, parent int64) error {
		var id int64
		var err error
		for try := 0; ; try++ {
			id, err = b.post(ctx, clients[i%authors], b.page, benchText(rng, i+try*n), benchNames[i%authors%len(benchNames)], parent)
			var h *heldError
			if !errors.As(err, &h) || try == 20 {
				break
			}
			b.held.Add(1)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if first == nil {
				first = err
			}
			return err
		}
		ids = append(ids, id)
		return nil
	}
	// The first seven are top-level and posted in order, so that every
	// reply below has a comment to answer.
	rng := rand.New(rand.NewPCG(0, 1))
	for next = 0; next < min(n, 7); next++ {
		if err := postOne(rng, next, 0); err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w)+1, 1))
			for {
				mu.Lock()
				i := next
				next++
				if i >= n || first != nil {
					mu.Unlock()
					return
				}
				var parent int64
				if i%10 >= 7 {
					parent = ids[rng.IntN(len(ids))]
					replies++
				}
				mu.Unlock()
				if postOne(rng, i, parent) != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("seed: %w", first)
	}
	return replies, nil
}

// signIn posts once, on another page, and returns the reader's cookie.
func (b *benchTarget) signIn(ctx context.Context) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := benchClient()
	c.Jar = jar
	rng := rand.New(rand.NewPCG(99, 99))
	var h *heldError
	if _, err := b.post(ctx, c, b.base+"/bench/sign-in", benchText(rng, 1_000_000), "Signed-in reader", 0); err != nil && !errors.As(err, &h) {
		return "", fmt.Errorf("sign in: %w", err)
	}
	u, _ := url.Parse(b.base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("sign in: the server set no session cookie")
	}
	return strings.Join(parts, "; "), nil
}

// postOp returns one writer: its own reader session, distinct texts, all
// on one page beside the read one.
func (b *benchTarget) postOp(seq, writers *atomic.Int64) benchOp {
	jar, _ := cookiejar.New(nil)
	c := benchClient()
	c.Jar = jar
	w := writers.Add(1)
	rng := rand.New(rand.NewPCG(uint64(w), 3))
	name := benchNames[int(w)%len(benchNames)]
	return func(ctx context.Context) error {
		i := int(seq.Add(1))
		_, err := b.post(ctx, c, b.base+"/bench/posts", benchText(rng, i), name, 0)
		var h *heldError
		if errors.As(err, &h) {
			// Stored durably all the same: it counts as a post.
			b.held.Add(1)
			return nil
		}
		return err
	}
}

// benchSnapshot is the thread response as Parley serves it to a browser.
type benchSnapshot struct {
	Status   int         `json:"status"`
	Header   http.Header `json:"header"`
	Body     string      `json:"body"` // base64 of the exact bytes on the wire
	body     []byte
	comments int
	plainLen int
}

// snapshot fetches the full thread with gzip, checks it and keeps it.
func (b *benchTarget) snapshot(ctx context.Context) (*benchSnapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.threadURL(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := benchClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("thread: %d %.200s", res.StatusCode, raw)
	}
	plain := raw
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("thread: %w", err)
		}
		if plain, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("thread: %w", err)
		}
	}
	var th struct {
		Comments []json.RawMessage `json:"comments"`
	}
	if err := json.Unmarshal(plain, &th); err != nil {
		return nil, fmt.Errorf("thread: %w", err)
	}
	h := res.Header.Clone()
	h.Del("Date")
	return &benchSnapshot{Status: res.StatusCode, Header: h, Body: base64.StdEncoding.EncodeToString(raw), body: raw, comments: len(th.Comments), plainLen: len(plain)}, nil
}

func (s *benchSnapshot) save(path string) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// ---- child processes ----------------------------------------------------

// processCPU returns the user and system CPU time a process has used so
// far (all its threads), or 0 where /proc is not available. Linux counts it
// in clock ticks of 1/100 s.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ")". utime and stime are fields 14 and 15 of the line.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100)
}

// peakRSS returns a process's peak resident set (VmHWM) in bytes, or 0
// where /proc is not available.
func peakRSS(pid int) int64 { return procStatusBytes(pid, "VmHWM") }

// processRSS returns a process's resident set (VmRSS) in bytes, or 0.
func processRSS(pid int) int64 { return procStatusBytes(pid, "VmRSS") }

// procStatusBytes returns a kB field of /proc/PID/status in bytes, or 0
// where /proc or the field is not available.
func procStatusBytes(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func randomToken() string {
	var b [18]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---- the minimal server (parley bench static) ---------------------------

// Static serves one recorded response (file, written by the bench) from
// memory to every GET on addr until ctx is done: the minimal net/http server
// Parley's reads are compared with, run by the bench as `parley bench static`.
func Static(ctx context.Context, addr, file string, stdout, stderr io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("bench static: %w", err)
	}
	var snap benchSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("bench static: %s: %w", file, err)
	}
	body, err := base64.StdEncoding.DecodeString(snap.Body)
	if err != nil {
		return fmt.Errorf("bench static: body: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bench static: %w", err)
	}
	header := snap.Header
	header.Set("Content-Length", strconv.Itoa(len(body)))
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for k, v := range header {
				h[k] = v
			}
			w.WriteHeader(snap.Status)
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(stderr, nil), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Minimal server listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// ---- plausible comment text ---------------------------------------------

var benchNames = []string{
	"Ann", "Bilal", "Carmen", "Dmitri", "Elif", "Femi", "Grace", "Hiroshi", "Ines", "Jonas",
	"Kavya", "Liam", "Maren", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
}

var benchOpeners = []string{
	"I have lived on Mill Street for %d years and this is the first time anyone asked us.",
	"The council says %d households are affected, but the figure in the report is lower.",
	"Our school collected %d signatures in a week, which says something about the mood here.",
	"My bus was late %d times last month, so I am not convinced by the new timetable.",
	"About %d people turned up to the meeting on Tuesday, far more than the organisers expected.",
	"The article mentions %d new homes; where will the children of those families go to school?",
	"I counted %d empty shops on the high street on my way home this evening.",
	"Having worked in the library for %d years, I can say the reading groups matter to people.",
}

var benchSentences = []string{
	"The point about the night buses deserves more attention than it gets in this piece.",
	"I would like to see the full budget before deciding whether the plan is good value.",
	"My neighbours disagree with me on this, and we still manage a cup of tea every Sunday.",
	"It would help if the paper linked to the original consultation documents.",
	"Parking is already difficult near the station, and nothing here explains how that improves.",
	"Credit where it is due: the volunteers at the food bank have done remarkable work.",
	"The photographs of the old mill brought back a lot of memories for my family.",
	"Has anyone asked the shop owners what they think? They are the ones who will feel it first.",
	"I read the earlier article too, and the numbers seem to have changed since then.",
	"Renting here has become very expensive, and younger people are moving away.",
	"The cycle lane on Canal Road is a good example of something that worked after a rocky start.",
	"Let us wait for the inspection report before we draw conclusions about the hospital.",
	"There is a public meeting at the community centre next month for anyone who wants a say.",
	"I am glad the paper covered this, because the local radio hardly mentioned it.",
	"The weekend market has brought life back to the square, whatever the critics say.",
	"Some of the comments above are fair, but the tone of the debate could be kinder.",
	"Water bills went up again this spring, and the explanation given was not convincing.",
	"My grandmother worked at the mill for thirty years, and she would have loved this story.",
	"A clear timetable for the works would go a long way to reassure residents.",
	"The survey only went to homeowners, which leaves out half the people on our street.",
}

// benchText returns a plausible comment of 200 to 600 characters; i makes
// it distinct from every other text of the run.
func benchText(rng *rand.Rand, i int) string {
	target := 200 + rng.IntN(401)
	var b strings.Builder
	fmt.Fprintf(&b, benchOpeners[rng.IntN(len(benchOpeners))], i+2)
	for _, k := range rng.Perm(len(benchSentences)) {
		s := benchSentences[k]
		if b.Len() >= target || b.Len()+1+len(s) > 600 {
			break
		}
		b.WriteByte(' ')
		b.WriteString(s)
	}
	for b.Len() < 200 { // a short tail to reach the minimum
		b.WriteString(" Thanks for reporting it.")
	}
	return b.String()
}
