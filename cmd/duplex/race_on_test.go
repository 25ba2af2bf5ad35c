//go:build race

package main

// buildFlags builds the binary under test with the race detector when the
// tests run with it, so that the binary's own goroutines are checked too.
var buildFlags = []string{"-race"}

// raceSlowdown scales the bounds of long runs of the binary: the race
// detector makes them several times slower.
const raceSlowdown = 5
