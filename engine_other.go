//go:build !linux

package websocket

import "github.com/duplexws/websocket/internal/netpoll"

// newPollers gives no poller where there is no epoll: the engine serves
// every connection from a goroutine of its own.
func newPollers(*Engine, int) ([]*netpoll.Poller, error) { return nil, nil }

// takeOver leaves every connection to a goroutine of its own.
func (*Engine) takeOver(*engineConn) bool { return false }
