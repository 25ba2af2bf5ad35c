//go:build !linux

package engine

import (
	"errors"
	"net"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
)

// newPollers gives no poller where there is no epoll: the loop serves
// every connection from a goroutine of its own.
func (*Loop[T]) newPollers(int) ([]*netpoll.Poller, error) { return nil, nil }

// takeOver leaves every connection to a goroutine of its own.
func (*Loop[T]) takeOver(*Conn[T], net.Conn) bool { return false }

// AcceptEach accepts nothing where there is no epoll: EventMode is false.
func (*Loop[T]) AcceptEach(*net.TCPListener, <-chan struct{}, time.Duration, func(*Conn[T]) bool) error {
	return errors.ErrUnsupported
}

// Pending finds no connection: the loop accepts none itself.
func (*Loop[T]) Pending(net.Conn) *Conn[T] { return nil }

// Transport is nil: no connection is taken over.
func (*Conn[T]) Transport() net.Conn { return nil }

// ClosePending has nothing to close: the loop accepts no connection itself.
func (*Loop[T]) ClosePending() {}
