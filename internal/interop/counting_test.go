package interop_test

import (
	"net"
	"sync/atomic"
)

// traffic counts the bytes that cross the connections it wraps, so that a
// test can tell whether a message travelled compressed.
type traffic struct {
	read, written atomic.Int64
}

// snapshot returns the bytes read and written so far.
func (tr *traffic) snapshot() (read, written int64) {
	return tr.read.Load(), tr.written.Load()
}

type countingConn struct {
	net.Conn
	tr *traffic
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tr.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.tr.written.Add(int64(n))
	return n, err
}

type countingListener struct {
	net.Listener
	tr *traffic
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, tr: l.tr}, nil
}
