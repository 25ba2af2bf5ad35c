package wsconn

import (
	"sync"
	"sync/atomic"
)

// End is the end of a connection: it happens once, and can be waited for
// ([End.Done]) or checked without a channel operation ([End.Ended]). The
// channel Done returns is made by the first call to Done, so that a
// connection nobody waits on holds none. The zero value is a connection
// that has not ended.
//
// mu guards ch and the change of ended; it is a leaf: nothing else is
// locked while it is held.
type End struct {
	mu    sync.Mutex
	ch    chan struct{} // made by the first Done; closed by Close
	ended atomic.Bool   // written under mu, read freely
}

// Done returns a channel closed when the connection ends.
func (e *End) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch == nil {
		e.ch = make(chan struct{})
		if e.ended.Load() {
			close(e.ch)
		}
	}
	return e.ch
}

// Ended reports whether the connection has ended.
func (e *End) Ended() bool { return e.ended.Load() }

// Close ends the connection and reports whether this call did; later calls
// do nothing and return false.
func (e *End) Close() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ended.Load() {
		return false
	}
	e.ended.Store(true)
	if e.ch != nil {
		close(e.ch)
	}
	return true
}
