//go:build !linux

package engine

import (
	"net"

	"github.com/duplexws/websocket/internal/netpoll"
)

// newPollers gives no poller where there is no epoll: the loop serves
// every connection from a goroutine of its own.
func (*Loop[T]) newPollers(int) ([]*netpoll.Poller, error) { return nil, nil }

// takeOver leaves every connection to a goroutine of its own.
func (*Loop[T]) takeOver(*Conn[T], net.Conn) bool { return false }
