//go:build !linux

package netpoll

// Poller is absent where there is no epoll: an engine serves every
// connection from a goroutine of its own.
type Poller struct{}

// Close does nothing.
func (*Poller) Close() error { return nil }

// Events is what a Poller reports of a socket; none come where there is
// no epoll.
type Events uint32

// Readable reports false: no socket is watched.
func (Events) Readable() bool { return false }

// Hangup reports false: no socket is watched.
func (Events) Hangup() bool { return false }

// Conn is empty where connections are not taken over.
type Conn struct{}

// Notify does nothing: no call waits for a Poller.
func (*Conn) Notify(Events) {}
