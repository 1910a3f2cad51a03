//go:build race

package cli

// modelRace: the race detector slows model training about tenfold; the
// training command is exercised by the non-race run.
const modelRace = true
