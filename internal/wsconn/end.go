package wsconn

import (
	"sync"
	"sync/atomic"
)

// End is the end of a connection: it happens once, and can be waited for
// ([End.Done]) or checked without a channel operation ([End.Ended]).
// The zero value is a connection that has not ended.
type End struct {
	ended atomic.Bool
	once  sync.Once
	ch    chan struct{}
}

// Init makes the channel Done returns; call it before the End is shared.
func (e *End) Init() { e.ch = make(chan struct{}) }

// Done returns a channel closed when the connection ends.
func (e *End) Done() <-chan struct{} { return e.ch }

// Ended reports whether the connection has ended.
func (e *End) Ended() bool { return e.ended.Load() }

// Close ends the connection and reports whether this call did; later calls
// do nothing and return false.
func (e *End) Close() bool {
	first := false
	e.once.Do(func() {
		first = true
		e.ended.Store(true)
		close(e.ch)
	})
	return first
}
