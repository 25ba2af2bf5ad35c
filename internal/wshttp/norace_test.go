//go:build !race

package wshttp

const raceEnabled = false
