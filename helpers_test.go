package websocket

import (
	"errors"
	"io"
	"net"
	"net/url"
	"time"
)

func asCloseError(err error, ce **CloseError) bool { return errors.As(err, ce) }

func isErr(err, target error) bool { return errors.Is(err, target) }

type urlURL = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

type netDialer struct{}

func (netDialer) dial(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 5*time.Second)
}

// fakeConn is a net.Conn that reads from r and discards writes.
type fakeConn struct {
	net.Conn
	r io.Reader
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }
