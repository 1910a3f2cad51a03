package testenv

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Goroutines is a snapshot of the running goroutines (their stacks by id),
// taken before code under test starts, to check afterwards that the code
// stopped every goroutine it started.
type Goroutines map[string]string

// RunningGoroutines returns the goroutines running now, but the caller's.
func RunningGoroutines() Goroutines {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := Goroutines{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller's, which runs on
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		all[id] = g
	}
	return all
}

// CheckStopped fails the test, with their stacks, when goroutines started
// since the snapshot are still running 5 s later: time enough for closed
// connections to reach their readers, short enough for a test.
func (before Goroutines) CheckStopped(t testing.TB) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = left[:0]
		for id, g := range RunningGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("%d goroutines still running:\n\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
