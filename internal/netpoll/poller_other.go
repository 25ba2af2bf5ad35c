//go:build !linux

package netpoll

// Poller is absent where there is no epoll: an engine serves every
// connection from a goroutine of its own.
type Poller struct{}

// Close does nothing.
func (*Poller) Close() error { return nil }

// Conn is empty where connections are not taken over.
type Conn struct{}
