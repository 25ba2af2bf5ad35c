package wsconn

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrEnded is returned by [Sem.Lock] when the connection ended before or
// while it waited.
var ErrEnded = errors.New("connection ended")

// Sem is a one-slot semaphore of a connection: the read side, or a whole
// message being written. Unlike sync.Mutex, a wait for it gives up when a
// context ends or the connection ends. Taking it when it is free is one
// atomic compare-and-swap, and so is giving it back when nobody waits; a
// channel is used only to wake a waiter, and made only when one first
// waits, so that an idle connection's semaphores hold nothing.
//
// The zero value is a free slot. The connection's [End] is given to every
// Lock rather than kept, which spares each semaphore a pointer.
type Sem struct {
	held    atomic.Bool
	waiters atomic.Int32
	wake    atomic.Pointer[chan struct{}] // one token: "the slot may be free, look again"; made by the first waiter
}

// Lock takes the slot, waiting while another holder has it. It returns
// ctx's error when ctx ends first, and ErrEnded when end, the end of the
// connection the slot belongs to, has come: also when the slot was free, so
// that a caller never starts work on an ended connection.
func (s *Sem) Lock(ctx context.Context, end *End) error {
	if !s.held.CompareAndSwap(false, true) {
		if err := s.lockSlow(ctx, end); err != nil {
			return err
		}
	}
	if end.Ended() {
		s.Unlock()
		return ErrEnded
	}
	return nil
}

// lockSlow waits for the slot. A waiter announces itself before it looks
// again, so an Unlock either sees it (and leaves a token) or happens before
// its look (which then finds the slot free).
func (s *Sem) lockSlow(ctx context.Context, end *End) error {
	wake := s.wakeChan()
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	for {
		if s.held.CompareAndSwap(false, true) {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-end.Done():
			return ErrEnded
		}
	}
}

// wakeChan returns the channel waiters sleep on, making it the first time.
// A waiter calls it before it counts itself in waiters, so Unlock finds the
// channel whenever it sees a waiter.
func (s *Sem) wakeChan() chan struct{} {
	if p := s.wake.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{}, 1)
	if s.wake.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *s.wake.Load()
}

// TryLock takes the slot if it is free, without waiting, whether or not the
// connection has ended.
func (s *Sem) TryLock() bool { return s.held.CompareAndSwap(false, true) }

// Unlock gives the slot back and wakes a waiter, if any.
func (s *Sem) Unlock() {
	s.held.Store(false)
	if s.waiters.Load() > 0 {
		select {
		case *s.wake.Load() <- struct{}{}:
		default: // a token is there already: a waiter will look again
		}
	}
}

// WithStop returns a copy of ctx that also ends when stop is closed: a wait
// for a [Sem] that must give up when, say, the peer's close frame arrives.
// The returned cancel must be called.
func WithStop(ctx context.Context, stop <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
