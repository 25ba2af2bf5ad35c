package websocket

import (
	"fmt"
	"sync/atomic"
	"time"
)

// defaultStallTimeout is AcceptOptions.StallTimeout's default.
const defaultStallTimeout = 30 * time.Second

// stallProgress is the least a stalled message must bring per stall
// timeout to go on: a read buffer's worth at the default size.
const stallProgress = defaultBufferSize

// stallWatch fails a server connection whose peer began a message, or
// a frame, and does not go on with it: each StallTimeout while the
// connection waits for the rest, the peer must send stallProgress bytes
// of it or its end, or the connection fails with StatusPolicyViolation.
// It is a timer, armed by the reader when it first has to wait inside a
// message (or, on an Engine, parks a connection with part of a frame
// buffered) and stopped at the message's end, so a connection that is not
// in the middle of a message holds no timer, and an Engine's none a
// goroutine. Made on first use, in connRare.
type stallWatch struct {
	c       *Conn
	timeout time.Duration
	timer   *time.Timer
	armed   atomic.Bool
	// waiting is set while the reader waits for the peer: a read inside a
	// message is blocked, or an Engine parked the connection with part of
	// a frame. Time spent in OnMessage or a user's code between two reads
	// of a message is the server's, and never fails the connection.
	waiting atomic.Bool
	got     atomic.Int64 // bytes of the message since the timer last fired
	parked  int          // bytes of a frame buffered when the engine last parked the connection; under readLock
}

// stallTimeout returns the connection's stall timeout: 0 when off.
func (c *Conn) stallTimeout() time.Duration {
	if c.client {
		return 0
	}
	if r := c.rare.Load(); r != nil && r.stallTimeout != 0 {
		return max(r.stallTimeout, 0)
	}
	return defaultStallTimeout
}

// stallArm returns the connection's stall watch, armed, or nil when the
// connection has none; the caller holds readLock.
func (c *Conn) stallArm() *stallWatch {
	var w *stallWatch
	if r := c.rare.Load(); r != nil {
		w = r.stall.Load()
	}
	if w == nil {
		d := c.stallTimeout()
		if d == 0 {
			return nil
		}
		c.mu.Lock()
		r := c.rareLocked()
		w = r.stall.Load()
		if w == nil {
			w = &stallWatch{c: c, timeout: d}
			w.armed.Store(true)
			// Made stopped, then reset: fire reads w.timer.
			w.timer = time.AfterFunc(time.Duration(1<<62), w.fire)
			w.timer.Reset(d)
			r.stall.Store(w)
		}
		c.mu.Unlock()
		return w
	}
	if w.armed.CompareAndSwap(false, true) {
		w.got.Store(0)
		w.timer.Reset(w.timeout)
	}
	return w
}

// stallArmed returns the connection's stall watch when it is armed, else
// nil.
func (c *Conn) stallArmed() *stallWatch {
	if r := c.rare.Load(); r != nil {
		if w := r.stall.Load(); w != nil && w.armed.Load() {
			return w
		}
	}
	return nil
}

// stallEnd stops the watch: the message, or the frame the engine parked
// on, is complete. The caller holds readLock.
func (c *Conn) stallEnd() {
	if w := c.stallArmed(); w != nil {
		w.armed.Store(false)
		w.waiting.Store(false)
		w.parked = 0
		w.timer.Stop()
	}
}

// stallPark arms the watch for an Engine's connection parked with n bytes
// of a frame buffered, counting what arrived since it last parked.
func (c *Conn) stallPark(n int) {
	w := c.stallArm()
	if w == nil {
		return
	}
	if n > w.parked {
		w.got.Add(int64(n - w.parked))
	}
	w.parked = n
	w.waiting.Store(true)
}

// fire runs each timeout while the watch is armed: it fails the connection
// when the peer, waited for, sent less than stallProgress bytes since the
// last time.
func (w *stallWatch) fire() {
	if !w.armed.Load() {
		return
	}
	if w.got.Swap(0) >= stallProgress || !w.waiting.Load() {
		w.timer.Reset(w.timeout)
		return
	}
	c := w.c
	reason := fmt.Sprintf("message stalled: less than %d bytes of it in %v", stallProgress, w.timeout)
	c.setClosing(&CloseError{Code: StatusPolicyViolation, Reason: reason}, false, false)
	c.Close(StatusPolicyViolation, reason)
}
