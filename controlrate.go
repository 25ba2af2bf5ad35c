package websocket

import (
	"fmt"
	"time"
)

// The rate of pings and unsolicited pongs a peer may send: bursts of
// controlBurst, controlRate a second on average. Each costs the reader a
// frame to read and, for a ping, a pong to write; a peer that sends more (a
// ping flood) fails the connection with StatusPolicyViolation. Keep-alives
// ping every few seconds, far below. Pongs answering this end's own pings
// (Ping, keep-alive) are not counted, however often it pings.
const (
	controlRate  = 25
	controlBurst = 100
)

// controlAllowed counts a ping or pong from the peer against the rate and
// reports whether it stays within it; the caller holds readLock.
func (c *Conn) controlAllowed() bool {
	r := c.rare.Load()
	if r == nil {
		c.mu.Lock()
		r = c.rareLocked()
		c.mu.Unlock()
	}
	now := time.Now()
	if r.ctrlLast.IsZero() {
		r.ctrlTokens = controlBurst
	} else {
		r.ctrlTokens = min(controlBurst, r.ctrlTokens+now.Sub(r.ctrlLast).Seconds()*controlRate)
	}
	r.ctrlLast = now
	if r.ctrlTokens < 1 {
		return false
	}
	r.ctrlTokens--
	return true
}

// controlFlood fails the connection of a peer beyond the rate.
func (c *Conn) controlFlood() error {
	return c.failNow(StatusPolicyViolation, fmt.Sprintf("pings and pongs beyond %d a second (bursts of %d)", controlRate, controlBurst))
}
