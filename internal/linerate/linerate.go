// Package linerate bounds how many log lines a second one kind of event
// gets, so that a wave of such events (a storm of refused clients, a
// broadcast stuck on thousands of slow subscribers) costs a few lines a
// second rather than one per event, and the next line logged says how many
// were left out.
package linerate

import (
	"sync"
	"time"
)

// Limiter lets at most PerSecond lines through in each second. The zero
// value lets none through; it is safe for concurrent use.
type Limiter struct {
	PerSecond int

	mu         sync.Mutex
	window     time.Time // start of the current second
	lines      int       // lines let through in it
	suppressed int       // lines left out since the last one let through
}

// Allow reports whether a line may be logged at now, and how many were left
// out before it.
func (l *Limiter) Allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Second {
		l.window, l.lines = now, 0
	}
	if l.lines >= l.PerSecond {
		l.suppressed++
		return false, 0
	}
	l.lines++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
