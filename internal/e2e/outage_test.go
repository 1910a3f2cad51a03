package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
)

// outageResult is one request of the outage test's load.
type outageResult struct {
	at      time.Time
	write   bool
	status  int // 0: no answer
	retry   string
	elapsed time.Duration
}

// TestDatabaseOutage runs Parley on a PostgreSQL cluster of the test's own
// under a load of posts and thread reads, and stops the database as a
// crash would (`pg_ctl stop -m immediate`) for 3 s. While it is away every
// write fails fast (well under a second) with 503 and Retry-After, and no
// request gets another 5xx; once it is back, writes succeed again by
// themselves within 5 s; every acknowledged comment is stored; and the
// goroutines of the outage are gone (the server's own Close checks the
// rest).
func TestDatabaseOutage(t *testing.T) {
	cluster := testenv.NewCluster(t)
	srv := startServer(t, t.TempDir(), "--database="+cluster.DSN())
	const page = "https://news.example.com/2026/12/outage"

	var (
		mu      sync.Mutex
		results []outageResult
		acked   []int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	load := func(write bool, w int) {
		c := srv.client()
		c.http.Timeout = 10 * time.Second
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			var res response
			var err error
			if write {
				res, err = c.do("POST", "/api/v1/comments", map[string]any{"site": "demo", "url": page, "title": "Outage",
					"text": fmt.Sprintf("Outage writer %d, comment %d.", w, i), "name": fmt.Sprintf("Writer %d", w)})
			} else {
				res, err = c.do("GET", "/api/v1/threads?site=demo&url="+url.QueryEscape(page), nil)
			}
			r := outageResult{at: start, write: write, elapsed: time.Since(start)}
			if err == nil {
				r.status, r.retry = res.Status, res.Header.Get("Retry-After")
			}
			mu.Lock()
			results = append(results, r)
			var p apiPosted
			if write && res.Status == http.StatusCreated && res.decode(&p) == nil {
				acked = append(acked, p.Comment.ID)
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}
	for w := range 3 {
		wg.Go(func() { load(true, w) })
	}
	wg.Go(func() { load(false, 0) })

	time.Sleep(1500 * time.Millisecond)
	before := runtime.NumGoroutine()
	down := time.Now()
	cluster.StopImmediate()
	time.Sleep(3 * time.Second)
	upAt := time.Now()
	cluster.Start()
	up := time.Now()
	t.Logf("database down %v; pg_ctl start took %v", up.Sub(down).Round(time.Millisecond), up.Sub(upAt).Round(time.Millisecond))
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()

	// While it is away: after the requests in flight at the stop have
	// ended (200 ms), every write is a fast 503 with Retry-After.
	var away, awayOK, other5xx, noAnswer int
	var awaySlowest time.Duration
	reads := map[int]int{} // thread reads while away, by status (a cached thread is still served)
	var firstOK time.Time
	for _, r := range results {
		switch {
		case r.status == 0:
			noAnswer++
		case r.status >= 500 && r.status != http.StatusServiceUnavailable:
			other5xx++
			t.Errorf("status %d at %v (write %v)", r.status, r.at.Sub(down).Round(time.Millisecond), r.write)
		case r.status == http.StatusServiceUnavailable && r.retry == "":
			t.Errorf("503 without Retry-After at %v", r.at.Sub(down).Round(time.Millisecond))
		}
		if !r.write {
			if r.at.After(down.Add(200*time.Millisecond)) && r.at.Add(r.elapsed).Before(upAt) {
				reads[r.status]++
			}
			continue
		}
		if r.at.After(down.Add(200*time.Millisecond)) && r.at.Add(r.elapsed).Before(upAt) {
			away++
			awaySlowest = max(awaySlowest, r.elapsed)
			if r.status != http.StatusServiceUnavailable {
				awayOK++
				t.Errorf("a write while the database was away: status %d", r.status)
			}
			if r.elapsed > time.Second {
				t.Errorf("a write while the database was away took %v, want a fast 503", r.elapsed)
			}
		}
		if r.at.After(up) && r.status == http.StatusCreated && firstOK.IsZero() {
			firstOK = r.at.Add(r.elapsed)
		}
	}
	if noAnswer > 0 {
		t.Errorf("%d requests got no answer at all", noAnswer)
	}
	if away < 10 {
		t.Errorf("only %d writes while the database was away: too few to prove anything", away)
	}
	if firstOK.IsZero() || firstOK.Sub(up) > 5*time.Second {
		t.Errorf("writes succeeded again %v after the database was back, want within 5 s", firstOK.Sub(up))
	}
	// After recovery every write succeeds.
	var lateFail int
	for _, r := range results {
		if r.write && r.at.After(firstOK.Add(time.Second)) && r.status != http.StatusCreated {
			lateFail++
		}
	}
	if lateFail > 0 {
		t.Errorf("%d writes failed more than 1 s after the first success after recovery", lateFail)
	}

	// Every acknowledged comment is stored.
	th, err := srv.client().thread("demo", page)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]bool{}
	for _, c := range th.Comments {
		stored[c.ID] = true
	}
	missing := 0
	for _, id := range acked {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged comments are not in the thread", missing, len(acked))
	}

	// No goroutine leak: the load has stopped; the server is back to
	// what it ran before the outage.
	var after int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		after = runtime.NumGoroutine()
		if after <= before || time.Now().After(deadline) {
			break
		}
	}
	if after > before {
		t.Errorf("goroutines: %d before the outage (under load), %d after it (load stopped)", before, after)
	}
	lat := make([]time.Duration, 0, away)
	for _, r := range results {
		if r.write && r.status == http.StatusServiceUnavailable {
			lat = append(lat, r.elapsed)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var p50 time.Duration
	if len(lat) > 0 {
		p50 = lat[len(lat)/2]
	}
	t.Logf("%d requests; %d writes while away (all 503: %v, p50 %v, slowest %v); thread reads while away by status %v; writes back %v after the database; %d acknowledged; goroutines %d → %d",
		len(results), away, awayOK == 0, p50, awaySlowest, reads, firstOK.Sub(up).Round(time.Millisecond), len(acked), before, after)
}
