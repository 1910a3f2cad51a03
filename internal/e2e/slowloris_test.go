package e2e

import (
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSlowloris proves the header timeout of the real server, the parley
// binary as a child process (issue 13, promise 4): 2,000 connections from
// 127.0.0.1 that send request headers and never finish them (half of them
// trickling a byte every 200 ms, which must not extend the deadline) are
// all closed by the server within the header timeout (1 s here, set by
// --header-timeout) plus a margin, while a legitimate reader on another
// address (127.0.0.2) keeps a p99 under 200 ms. The open-file limit is
// raised to the hard limit and must allow the 2,000 connections.
func TestSlowloris(t *testing.T) {
	const (
		conns   = 2000
		timeout = time.Second
	)
	raiseFileLimit(t, conns+512)
	s := startProcess(t, t.TempDir(), "--header-timeout="+timeout.String())
	addr := strings.TrimPrefix(s.URL, "http://")

	var wg sync.WaitGroup
	closedAfter := make([]time.Duration, conns)
	errs := make(chan error, conns)
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				errs <- fmt.Errorf("dial %d: %w", i, err)
				return
			}
			defer c.Close()
			opened := time.Now()
			if _, err := io.WriteString(c, "GET /api/v1/threads?site=demo HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
			c.SetReadDeadline(time.Now().Add(timeout + 10*time.Second))
			done := make(chan struct{})
			if i%2 == 1 {
				go func() { // trickle: a byte every 200 ms until the server hangs up
					for {
						select {
						case <-done:
							return
						case <-time.After(200 * time.Millisecond):
							if _, err := c.Write([]byte("a")); err != nil {
								return
							}
						}
					}
				}()
			}
			b := make([]byte, 512)
			for {
				n, err := c.Read(b)
				if err != nil {
					break // closed by the server (EOF or reset), or our deadline
				}
				if !strings.HasPrefix(string(b[:n]), "HTTP/1.1 408") && !strings.HasPrefix(string(b[:n]), "HTTP/1.1 400") {
					errs <- fmt.Errorf("conn %d got %q, want nothing or a 408 before the close", i, b[:n])
				}
			}
			close(done)
			closedAfter[i] = time.Since(opened)
		}(i)
	}

	// Meanwhile a reader reads the demo page's thread.
	var lat []time.Duration
	client := readerClient()
	for time.Since(start) < timeout+time.Second {
		t0 := time.Now()
		res, err := client.Get(s.URL + "/api/v1/threads?site=demo&url=" + s.URL + "/demo")
		if err != nil {
			t.Fatalf("legitimate request during the attack: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("legitimate request during the attack: %d", res.StatusCode)
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sort.Slice(closedAfter, func(i, j int) bool { return closedAfter[i] < closedAfter[j] })
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100]
	t.Logf("%d slow connections: closed after %v (median) … %v (max); reader: %d requests, p50 %v, p99 %v",
		conns, closedAfter[conns/2].Round(time.Millisecond), closedAfter[conns-1].Round(time.Millisecond),
		len(lat), lat[len(lat)/2].Round(time.Microsecond), p99.Round(time.Microsecond))
	if max := closedAfter[conns-1]; max > timeout+3*time.Second {
		t.Errorf("a slow connection stayed open %v, want it closed within the %v header timeout (+3 s margin)", max, timeout)
	}
	if p99 > 200*time.Millisecond {
		t.Errorf("reader p99 %v during the attack, want < 200 ms", p99)
	}
	s.checkAlive()
}
