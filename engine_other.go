//go:build !linux

package websocket

// newPollers gives no poller where there is no epoll: the engine serves
// every connection from a goroutine of its own.
func newPollers(*Engine, int) ([]eventPoller, error) { return nil, nil }
