//go:build !race

package h2stream

const raceEnabled = false
