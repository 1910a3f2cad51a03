package render

import (
	"runtime"
	"sort"
	"testing"
	"time"
)

// TestRenderBounded proves promise 3's markdown bound: every pathological
// 64 KiB input (see pathological) renders (Render is what the write path
// runs; Excerpt and CountLinks, which parse again, are held linear by
// TestRenderPathological)
// in under 100 ms of this thread's CPU time, the best of five tries (CPU
// time, so that other processes on a shared machine do not count), or of up
// to 25 when the first five are over: on a shared 2-core VM the same work
// was measured at 68 ms and at 126 ms of CPU minutes apart, and the cheapest
// try is the one closest to the work itself. A super-linear shape costs
// seconds, so no number of tries hides one. The
// figures are logged, worst first. Skipped under the race detector, which
// slows everything tenfold.
func TestRenderBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("timing bound not meaningful under -race; TestRenderPathological still checks the output")
	}
	const size, bound = 64 << 10, 100 * time.Millisecond
	r := New()
	type figure struct {
		name string
		cpu  time.Duration
	}
	var figs []figure
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, p := range pathological {
		in := p.in(size)
		best := time.Duration(1<<63 - 1)
		for try := 0; try < 5 || (best > bound && try < 25); try++ {
			start := threadCPU()
			r.Render(in)
			best = min(best, threadCPU()-start)
		}
		figs = append(figs, figure{p.name, best})
		if best > bound {
			t.Errorf("%s: 64 KiB took %v of CPU, want under %v", p.name, best, bound)
		}
	}
	sort.Slice(figs, func(i, j int) bool { return figs[i].cpu > figs[j].cpu })
	for _, f := range figs[:min(5, len(figs))] {
		t.Logf("%-36s %v", f.name, f.cpu)
	}
}
