//go:build !race

package main

// buildFlags are the extra flags of the go build of the binary under test.
var buildFlags []string

// raceSlowdown scales the bounds of long runs of the binary.
const raceSlowdown = 1
