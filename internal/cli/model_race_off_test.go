//go:build !race

package cli

const modelRace = false
