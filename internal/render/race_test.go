//go:build race

package render

// raceEnabled is true when the race detector slows everything down.
const raceEnabled = true
