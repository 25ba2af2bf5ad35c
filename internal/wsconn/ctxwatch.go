package wsconn

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// CtxWatch makes a blocked read or write return when the context of the
// operation ends, by pushing the connection's read or write deadline into
// the past. It keeps watching the last context it was given between
// operations, so that a connection used again and again with one context
// (an http.Request's, say) registers with that context once, not once per
// message; an operation with that context again costs a comparison and an
// atomic load, and one with a context that cannot end costs the same.
//
// Watch is called by one goroutine at a time (the holder of the semaphore
// the watch belongs to); Release and the watched context's end may come
// from any goroutine.
type CtxWatch struct {
	// SetDeadline sets the read or write deadline of the connection.
	SetDeadline func(time.Time) error

	// last is the context of the last Watch, touched only by Watch: when
	// the next one brings it again, nothing needs to change.
	last context.Context
	// fired is set when the watched context ended and the deadline was
	// pushed into the past; cleared when the watch changes.
	fired atomic.Bool

	mu   sync.Mutex
	ctx  context.Context // the watched context; nil if none
	stop func() bool     // unregisters the watch of ctx
}

// Past is a deadline that has already passed: setting it makes a blocked
// read or write return at once.
var Past = time.Unix(1, 0)

// Watch makes ctx the watched context for the operation about to start. It
// returns ctx's error if ctx was seen to end already. A context that cannot
// end needs no watching.
func (w *CtxWatch) Watch(ctx context.Context) error {
	if ctx == w.last {
		if w.fired.Load() {
			return ctx.Err()
		}
		return nil
	}
	w.last = ctx
	done := ctx.Done()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseLocked(true)
	if done == nil {
		return nil
	}
	w.ctx = ctx
	w.stop = context.AfterFunc(ctx, func() { w.fire(ctx) })
	return nil
}

// fire pushes the deadline into the past when ctx is still the watched one.
func (w *CtxWatch) fire(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == ctx {
		w.fired.Store(true)
		w.SetDeadline(Past)
	}
}

// Release stops watching when the connection closes, so that the context
// no longer refers to the connection. It leaves the deadline as it is.
func (w *CtxWatch) Release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseLocked(false)
}

// releaseLocked stops watching; clear also clears a deadline the watched
// context pushed into the past, for the next operation.
func (w *CtxWatch) releaseLocked(clear bool) {
	if w.ctx == nil {
		return
	}
	w.stop()
	if w.fired.Load() && clear {
		w.SetDeadline(time.Time{})
	}
	w.ctx, w.stop = nil, nil
	w.fired.Store(false)
}
