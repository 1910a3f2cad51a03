//go:build race

package lab

// raceEnabled: the race detector slows memory-heavy loops (model loading)
// several times over, so timing checks are relaxed.
const raceEnabled = true
