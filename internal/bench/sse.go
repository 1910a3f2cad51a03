package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/internal/server"
)

// The live-update measurement of `parley bench --sse N`: N event streams on
// one page of one server, a few comments posted to that page, and the delay
// from each POST's 201 to each stream's comment.created event.

// sseRun is one pass of the live-update measurement on a fresh server.
type sseRun struct {
	Streams   int     `json:"streams"`         // streams asked for
	Ready     int     `json:"ready"`           // streams that received their ready event
	OpenSecs  float64 `json:"open_seconds"`    // from the first dial to the last ready event
	Comments  int     `json:"comments"`        // comments posted and published while they were open
	Expected  int     `json:"expected"`        // Ready × Comments
	Delivered int     `json:"delivered"`       // comment.created events that arrived
	Share     float64 `json:"share_delivered"` // Delivered / Expected
	// Delays from the poster's receipt of the 201 to the event's arrival on
	// a stream, over every stream and comment. An event that arrives before
	// the poster has read its 201 counts as 0 (Early of them).
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	Early int     `json:"early"`
	// The same delays counted from the moment the POST was sent: an upper
	// bound that includes the whole write (moderation, commit).
	SentP50ms float64 `json:"from_send_p50_ms"`
	SentP99ms float64 `json:"from_send_p99_ms"`
	PostP50   float64 `json:"post_p50_ms"` // the POSTs themselves, with the streams open
	Dropped   int     `json:"dropped"`     // streams that ended before the bench closed them
	Held      int     `json:"held"`        // benign posts the pipeline held, replaced by others
	FirstErr  string  `json:"first_error,omitempty"`
	// The server's resident memory (VmRSS) with the page seeded and no
	// stream open, and with every stream open; their difference per ready
	// stream.
	RSSBefore  int64   `json:"rss_before_bytes"`
	RSSAfter   int64   `json:"rss_after_bytes"`
	KiBPerConn float64 `json:"kib_per_stream"`
	// The server's CPU time per stream opened, and per comment while the
	// comments were posted and fanned out (posting, moderation and commit
	// included), and the cores it used in that window.
	OpenCPUms    float64 `json:"server_cpu_ms_per_stream_opened"`
	CommentCPUms float64 `json:"server_cpu_ms_per_comment"`
	Cores        float64 `json:"server_cores"`
	// ClientCores is the CPU the bench itself (the streams' readers and the
	// poster) used in that window: it runs on the same machine.
	ClientCores float64 `json:"bench_cores"`
	// The open-file limits, soft, as the bench set them and as the server's
	// /proc/PID/limits shows them.
	BenchNoFile  uint64 `json:"bench_nofile"`
	ServerNoFile uint64 `json:"server_nofile"`
}

// sseReport is what `parley bench --sse N` prints.
type sseReport struct {
	Machine machine `json:"machine"`
	Config  struct {
		Runs     int    `json:"runs"`
		Streams  int    `json:"streams"`
		Comments int    `json:"comments"`
		Interval string `json:"interval"`
		Store    string `json:"store"`
		NoModel  bool   `json:"no_model"`
	} `json:"config"`
	Runs   []sseRun `json:"runs"`
	Median sseRun   `json:"median"`
}

// runSSEBenchCommand runs `parley bench --sse N` and prints its report.
func runSSEBenchCommand(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	rep, err := runSSEBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if err := printReport(stdout, cfg.JSON, rep); err != nil {
		return err
	}
	for _, r := range rep.Runs {
		if r.Delivered < r.Expected || r.Ready < r.Streams {
			return fmt.Errorf("bench: %d of %d streams ready, %d of %d events delivered", r.Ready, r.Streams, r.Delivered, r.Expected)
		}
	}
	return nil
}

// runSSEBench raises the open-file limit, then runs cfg.Runs passes of the
// live-update measurement, each on a fresh server.
func runSSEBench(ctx context.Context, cfg Config, log io.Writer) (*sseReport, error) {
	if err := cfg.findExe(); err != nil {
		return nil, err
	}
	// Each stream is a descriptor in this process and one in the server,
	// which inherits the limit set here.
	nofile, err := raiseNoFile(uint64(cfg.SSE) + 1024)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench: open-file limit %d\n", nofile)
	rep := &sseReport{}
	rep.Machine = thisMachine(cfg.Version)
	rep.Config.Runs, rep.Config.Streams, rep.Config.Comments = cfg.Runs, cfg.SSE, cfg.SSEComments
	rep.Config.Interval, rep.Config.Store, rep.Config.NoModel = cfg.SSEInterval.String(), cfg.storeName(), cfg.NoModel
	for i := range cfg.Runs {
		fmt.Fprintf(log, "bench: live updates, run %d of %d\n", i+1, cfg.Runs)
		run, err := sseOnce(ctx, cfg, log)
		if err != nil {
			return nil, fmt.Errorf("bench run %d: %w", i+1, err)
		}
		run.BenchNoFile = nofile
		rep.Runs = append(rep.Runs, *run)
	}
	rep.summarise()
	return rep, nil
}

// raiseNoFile makes sure this process (and so the children it starts) may
// open want descriptors: it raises the soft limit, and the hard one when
// allowed, and returns the soft limit now in force. Setting it explicitly
// also keeps os/exec from restoring the lower limit Go found at start-up in
// the child.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bench: read the open-file limit: %w", err)
	}
	next := lim
	next.Cur = max(lim.Cur, want)
	next.Max = max(lim.Max, next.Cur)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		return 0, fmt.Errorf("bench: raise the open-file limit from %d (hard %d) to %d: %w; raise the hard limit (ulimit -Hn) or open fewer streams", lim.Cur, lim.Max, want, err)
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// processNoFile returns the soft "Max open files" of a process from
// /proc/PID/limits, or 0 where that is not available.
func processNoFile(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// selfCPU returns the user and system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sseOnce starts a fresh server, seeds the page with one comment (so that
// streams follow the page, as they do on any article with comments), opens
// the streams, posts, and measures.
func sseOnce(ctx context.Context, cfg Config, log io.Writer) (*sseRun, error) {
	srv, _, _, stop, err := startBenchServer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	pid := srv.Pid()
	run := &sseRun{Streams: cfg.SSE, ServerNoFile: processNoFile(pid)}
	if run.ServerNoFile != 0 && run.ServerNoFile < uint64(cfg.SSE)+64 {
		return nil, fmt.Errorf("the server may open only %d files, fewer than %d streams need", run.ServerNoFile, cfg.SSE)
	}

	b := &benchTarget{base: srv.URL, site: server.DemoSite, page: srv.URL + "/bench/live"}
	jar, _ := cookiejar.New(nil)
	poster := benchClient()
	poster.Jar = jar
	rng := rand.New(rand.NewPCG(7, 7))
	seq := 0
	// post publishes one comment, replacing benign texts the pipeline holds.
	post := func() (int64, time.Duration, error) {
		for {
			seq++
			t0 := time.Now()
			id, err := b.post(ctx, poster, b.page, benchText(rng, seq), "Live reader", 0)
			var h *heldError
			if errors.As(err, &h) && seq < 10*cfg.SSEComments+10 {
				run.Held++
				continue
			}
			return id, time.Since(t0), err
		}
	}
	if _, _, err := post(); err != nil {
		return nil, fmt.Errorf("seed the page: %w", err)
	}
	time.Sleep(500 * time.Millisecond) // let the seeding settle before the baseline
	run.RSSBefore = processRSS(pid)

	addr := strings.TrimPrefix(srv.URL, "http://")
	target := "/api/v1/stream?site=" + url.QueryEscape(server.DemoSite) + "&url=" + url.QueryEscape(b.page)
	fmt.Fprintf(log, "bench:   opening %d streams\n", cfg.SSE)
	openCtx, cancelOpen := context.WithTimeout(ctx, 2*time.Minute+time.Duration(cfg.SSE)*5*time.Millisecond)
	defer cancelOpen()
	cpu0 := processCPU(pid)
	start := time.Now()
	set := openStreams(openCtx, addr, target, cfg.SSE)
	defer set.close()
	run.OpenSecs = time.Since(start).Seconds()
	run.Ready = int(set.ready.Load())
	if run.Ready > 0 {
		run.OpenCPUms = ms(processCPU(pid)-cpu0) / float64(run.Ready)
	}
	if run.Ready < cfg.SSE {
		set.close()
		return nil, fmt.Errorf("only %d of %d streams became ready in %.0f s (first error: %v)", run.Ready, cfg.SSE, run.OpenSecs, set.firstErr())
	}
	time.Sleep(time.Second) // let the server's memory settle
	run.RSSAfter = processRSS(pid)
	if run.RSSBefore > 0 && run.RSSAfter > 0 {
		run.KiBPerConn = float64(run.RSSAfter-run.RSSBefore) / 1024 / float64(run.Ready)
	}

	fmt.Fprintf(log, "bench:   posting %d comments to %d streams\n", cfg.SSEComments, run.Ready)
	type sent struct {
		id        int64
		sent, got time.Time // when the POST went out, when the poster had its 201
	}
	var posts []sent
	var postLat []time.Duration
	cpu0 = processCPU(pid)
	self0 := selfCPU()
	t0 := time.Now()
	for i := range cfg.SSEComments {
		if wait := time.Until(t0.Add(time.Duration(i) * cfg.SSEInterval)); wait > 0 {
			time.Sleep(wait)
		}
		id, lat, err := post()
		if err != nil {
			return nil, fmt.Errorf("post comment %d: %w", i+1, err)
		}
		now := time.Now()
		posts = append(posts, sent{id, now.Add(-lat), now})
		postLat = append(postLat, lat)
	}
	run.Comments = len(posts)
	run.Expected = run.Ready * run.Comments
	deadline := time.Now().Add(15 * time.Second)
	for set.delivered.Load() < int64(run.Expected) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	window := time.Since(t0)
	used := processCPU(pid) - cpu0
	run.CommentCPUms = ms(used) / float64(run.Comments)
	run.Cores = used.Seconds() / window.Seconds()
	run.ClientCores = (selfCPU() - self0).Seconds() / window.Seconds()
	if err := srv.Alive(); err != nil {
		return nil, err
	}
	set.close()

	byID := make(map[int64]sent, len(posts))
	for _, p := range posts {
		byID[p.id] = p
	}
	delays := make([]time.Duration, 0, run.Expected)
	fromSend := make([]time.Duration, 0, run.Expected)
	for _, s := range set.streams {
		if s == nil {
			continue
		}
		for _, a := range s.arrivals {
			p, ok := byID[a.id]
			if !ok {
				continue
			}
			fromSend = append(fromSend, a.at.Sub(p.sent))
			d := a.at.Sub(p.got)
			if d < 0 {
				run.Early++
				d = 0
			}
			delays = append(delays, d)
		}
		if s.dropped {
			run.Dropped++
		}
	}
	if err := set.firstErr(); err != nil {
		run.FirstErr = err.Error()
	}
	run.Delivered = len(delays)
	if run.Expected > 0 {
		run.Share = float64(run.Delivered) / float64(run.Expected)
	}
	slices.Sort(delays)
	if n := len(delays); n > 0 {
		run.P50ms, run.P99ms, run.MaxMs = ms(delays[n/2]), ms(delays[min(n-1, n*99/100)]), ms(delays[n-1])
	}
	slices.Sort(fromSend)
	if n := len(fromSend); n > 0 {
		run.SentP50ms, run.SentP99ms = ms(fromSend[n/2]), ms(fromSend[min(n-1, n*99/100)])
	}
	slices.Sort(postLat)
	if n := len(postLat); n > 0 {
		run.PostP50 = ms(postLat[n/2])
	}
	return run, nil
}

// sseArrival is one comment.created event as a stream received it.
type sseArrival struct {
	id int64
	at time.Time
}

// sseStream is one event stream: a raw HTTP/1.1 connection and a goroutine
// reading it.
type sseStream struct {
	conn     net.Conn
	arrivals []sseArrival // written by the reader goroutine only
	err      error
	dropped  bool // ended before the bench closed it
}

// sseSet is every stream of one run.
type sseSet struct {
	streams   []*sseStream
	ready     atomic.Int64
	delivered atomic.Int64 // comment.created events received, all streams
	closing   atomic.Bool
	readers   sync.WaitGroup
	once      sync.Once
}

// openStreams opens n streams to target on addr, at most 64 being set up at
// a time, and returns once all are ready, one failed to open, or ctx ends.
// Past 25,000 streams the source addresses are spread over 127.0.0.x, as
// one source address has only about 28,000 ephemeral ports.
func openStreams(ctx context.Context, addr, target string, n int) *sseSet {
	set := &sseSet{streams: make([]*sseStream, n)}
	sources := (n + 24_999) / 25_000
	req := []byte("GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: parley-bench\r\n\r\n")
	slots := make(chan struct{}, 64)
	var failed atomic.Bool
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || failed.Load() {
			break
		}
		d := net.Dialer{Timeout: 10 * time.Second}
		if sources > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%sources))}
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			set.streams[i] = &sseStream{err: err}
			failed.Store(true)
			break
		}
		s := &sseStream{conn: conn}
		set.streams[i] = s
		set.readers.Add(1)
		go func() { // exits when the connection is closed
			defer set.readers.Done()
			var once sync.Once
			release := func() { once.Do(func() { <-slots }) }
			defer release()
			if _, err := conn.Write(req); err != nil {
				s.err = err
				failed.Store(true)
				return
			}
			s.err = s.read(set, func() { set.ready.Add(1); release() })
			if !set.closing.Load() {
				s.dropped = true
				if set.ready.Load() < int64(n) {
					failed.Store(true)
				}
			}
		}()
	}
	// Wait for the last ones to become ready.
	for set.ready.Load() < int64(n) && !failed.Load() && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return set
}

// read parses the response and its events until the connection ends.
// onReady runs at the ready event.
func (s *sseStream) read(set *sseSet, onReady func()) error {
	br := bufio.NewReaderSize(s.conn, 1024)
	line, err := br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("stream: %q", bytes.TrimSpace(line))
	}
	chunked := false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("stream headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Transfer-Encoding") {
			chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		}
	}
	body := br
	if chunked {
		body = bufio.NewReaderSize(httputil.NewChunkedReader(br), 1024)
	}
	var typ []byte
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			return err
		}
		now := time.Now()
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			typ = typ[:0]
		case bytes.HasPrefix(line, []byte("event: ")):
			typ = append(typ[:0], line[len("event: "):]...)
		case bytes.HasPrefix(line, []byte("data: ")):
			switch string(typ) {
			case "ready":
				onReady()
			case "comment.created":
				id, ok := jsonInt(line, `"comment_id":`)
				if !ok {
					return fmt.Errorf("stream: no comment_id in %q", line)
				}
				s.arrivals = append(s.arrivals, sseArrival{id, now})
				set.delivered.Add(1)
			}
		}
	}
}

// jsonInt reads the integer after key in a flat JSON object.
func jsonInt(data []byte, key string) (int64, bool) {
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := data[i+len(key):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	return n, err == nil
}

// close closes every connection and waits for the readers; it may be
// called more than once.
func (set *sseSet) close() {
	set.once.Do(func() {
		set.closing.Store(true)
		for _, s := range set.streams {
			if s != nil && s.conn != nil {
				s.conn.Close()
			}
		}
		set.readers.Wait()
	})
}

// firstErr returns the first error of a stream that failed before the
// bench closed it. Call it after close.
func (set *sseSet) firstErr() error {
	for _, s := range set.streams {
		if s != nil && s.err != nil && (s.conn == nil || s.dropped) {
			return s.err
		}
	}
	return nil
}

// summarise fills Median, figure by figure.
func (r *sseReport) summarise() {
	if len(r.Runs) == 0 {
		return
	}
	med := func(f func(*sseRun) float64) float64 {
		vals := make([]float64, 0, len(r.Runs))
		for i := range r.Runs {
			vals = append(vals, f(&r.Runs[i]))
		}
		slices.Sort(vals)
		n := len(vals)
		if n%2 == 1 {
			return vals[n/2]
		}
		return (vals[n/2-1] + vals[n/2]) / 2
	}
	m := &r.Median
	*m = r.Runs[0]
	m.FirstErr = ""
	m.Ready = int(med(func(x *sseRun) float64 { return float64(x.Ready) }))
	m.Expected = int(med(func(x *sseRun) float64 { return float64(x.Expected) }))
	m.Delivered = int(med(func(x *sseRun) float64 { return float64(x.Delivered) }))
	m.Share = med(func(x *sseRun) float64 { return x.Share })
	m.OpenSecs = med(func(x *sseRun) float64 { return x.OpenSecs })
	m.P50ms = med(func(x *sseRun) float64 { return x.P50ms })
	m.P99ms = med(func(x *sseRun) float64 { return x.P99ms })
	m.MaxMs = med(func(x *sseRun) float64 { return x.MaxMs })
	m.SentP50ms = med(func(x *sseRun) float64 { return x.SentP50ms })
	m.SentP99ms = med(func(x *sseRun) float64 { return x.SentP99ms })
	m.PostP50 = med(func(x *sseRun) float64 { return x.PostP50 })
	m.RSSBefore = int64(med(func(x *sseRun) float64 { return float64(x.RSSBefore) }))
	m.RSSAfter = int64(med(func(x *sseRun) float64 { return float64(x.RSSAfter) }))
	m.KiBPerConn = med(func(x *sseRun) float64 { return x.KiBPerConn })
	m.OpenCPUms = med(func(x *sseRun) float64 { return x.OpenCPUms })
	m.CommentCPUms = med(func(x *sseRun) float64 { return x.CommentCPUms })
	m.Cores = med(func(x *sseRun) float64 { return x.Cores })
	m.ClientCores = med(func(x *sseRun) float64 { return x.ClientCores })
	m.Early, m.Dropped, m.Held = 0, 0, 0
	for _, x := range r.Runs {
		m.Early += x.Early
		m.Dropped += x.Dropped
		m.Held += x.Held
		if m.FirstErr == "" {
			m.FirstErr = x.FirstErr
		}
	}
}

func (r *sseReport) writeTable(w io.Writer) {
	model := "with the toxicity model"
	if r.Config.NoModel {
		model = "without the toxicity model (--no-model)"
	}
	fmt.Fprintf(w, "Parley %s live-update bench: %d event streams on one page, %d comments posted %s apart; server on %s, %s.\n",
		r.Machine.Parley, r.Config.Streams, r.Config.Comments, r.Config.Interval, r.Config.Store, model)
	fmt.Fprintf(w, "%d CPUs, %s/%s, %s. Each figure: the median of %d runs (early, dropped and held: totals).\n\n",
		r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go, r.Config.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstreams\tready\topen s\tdelivered\tshare\tp50 ms\tp99 ms\tmax ms\tearly\tdropped\tRSS before\tRSS after\tKiB/stream\tCPU ms/stream open\tCPU ms/comment\tcores\tbench cores\t")
	row := func(name string, x sseRun) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%d/%d\t%.2f%%\t%.2f\t%.2f\t%.2f\t%d\t%d\t%.0f MiB\t%.0f MiB\t%.1f\t%.3f\t%.1f\t%.2f\t%.2f\t\n",
			name, x.Streams, x.Ready, x.OpenSecs, x.Delivered, x.Expected, 100*x.Share, x.P50ms, x.P99ms, x.MaxMs, x.Early, x.Dropped,
			float64(x.RSSBefore)/(1<<20), float64(x.RSSAfter)/(1<<20), x.KiBPerConn, x.OpenCPUms, x.CommentCPUms, x.Cores, x.ClientCores)
	}
	for i, x := range r.Runs {
		row(strconv.Itoa(i+1), x)
	}
	if len(r.Runs) > 1 {
		row("median", r.Median)
	}
	tw.Flush()
	fmt.Fprintln(w)
	m := r.Median
	fmt.Fprintf(w, "Delay: from the poster's 201 to the comment.created event on each stream; p50 %.2f ms, p99 %.2f ms over %d deliveries\n", m.P50ms, m.P99ms, m.Delivered)
	fmt.Fprintf(w, "(%d of all runs' events arrived before the poster had read its 201 and count as 0). From the POST's sending: p50 %.2f ms, p99 %.2f ms.\n", m.Early, m.SentP50ms, m.SentP99ms)
	fmt.Fprintf(w, "POST p50 with the streams open: %.2f ms. Open-file limit: %d in the bench, %d in the server (/proc/PID/limits).\n", m.PostP50, m.BenchNoFile, m.ServerNoFile)
	if m.Held > 0 {
		fmt.Fprintf(w, "Benign comments the pipeline held (all runs): %d; others were posted in their place.\n", m.Held)
	}
	if m.FirstErr != "" {
		fmt.Fprintf(w, "First stream error: %s\n", m.FirstErr)
	}
}
