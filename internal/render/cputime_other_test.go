//go:build !linux

package render

import "time"

// threadCPU falls back to wall time where per-thread CPU time is not at hand.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
