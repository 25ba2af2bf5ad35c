//go:build !linux

package websocket

// epoller is absent where there is no epoll.
type epoller struct{}

func (*epoller) close() error { return nil }

// fdConn is empty where connections are not taken over.
type fdConn struct{}

// newPollers gives no poller where there is no epoll: the engine serves
// every connection from a goroutine of its own.
func newPollers(*Engine, int) ([]*epoller, error) { return nil, nil }

// takeOver leaves every connection to a goroutine of its own.
func (*Engine) takeOver(*engineConn) bool { return false }
