//go:build race

package wshttp

// raceEnabled: the race detector allocates where a normal build does not.
const raceEnabled = true
