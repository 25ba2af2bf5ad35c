package wsconn

import (
	"context"
	"sync"
	"time"
)

// Deadline is a net.Conn deadline as a context: the context ends when the
// deadline passes, which ends the calls waiting with it. Until then, a new
// deadline re-arms the same context, so that it applies to pending calls;
// once it has passed, a new deadline starts a fresh context.
type Deadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer // nil when no deadline is set
	gen    uint64      // counts set calls, so that a stale timer does nothing
}

// NewDeadline returns a Deadline with no deadline set.
func NewDeadline() *Deadline {
	d := &Deadline{}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

// Context returns the context for a call starting now.
func (d *Deadline) Context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

// Set moves the deadline to t; the zero time removes it.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.cancel()
		return
	}
	d.gen++
	gen, cancel := d.gen, d.cancel
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen {
			cancel()
		}
	})
}
