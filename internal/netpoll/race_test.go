//go:build race

package netpoll

// raceEnabled says that the race detector is on: sync.Pool then drops
// some of what it is given, so that counts of allocations mean nothing.
const raceEnabled = true
