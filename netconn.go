package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
)

// NetConn returns a net.Conn that carries a byte stream over c, for code
// written for net.Conn (a protocol library, io.Copy to a TCP connection).
// Each Write sends its bytes as one message of type typ; Read returns the
// payloads of the messages received, of either type, one after the other,
// with no boundaries between them. With MessageText, every Write must be
// valid UTF-8 on its own: the peer fails the connection otherwise.
//
// Deadlines work as net.Conn's do, on pending calls too, and a call that
// fails on one returns an error matching os.ErrDeadlineExceeded (a net.Error
// whose Timeout is true). A read deadline that passes while no message is
// arriving leaves the connection usable (see [Conn.Reader]); one that
// passes inside a message, or a write deadline that passes while a message
// is going out, closes it.
//
// Read returns io.EOF once the peer has closed with StatusNormalClosure or
// StatusGoingAway. Close runs the closing handshake with
// StatusNormalClosure. The returned net.Conn is safe for concurrent use;
// c must not be read through other means while it is in use.
func (c *Conn) NetConn(typ MessageType) net.Conn {
	return &netConn{c: c, typ: typ, rd: wsconn.NewDeadline(), wd: wsconn.NewDeadline()}
}

type netConn struct {
	c   *Conn
	typ MessageType

	readMu sync.Mutex // one Read at a time; guards r and eof
	r      io.Reader  // the message being read; nil between messages
	eof    bool       // the peer closed normally

	rd, wd *wsconn.Deadline
}

func (n *netConn) Read(p []byte) (int, error) {
	n.readMu.Lock()
	defer n.readMu.Unlock()
	if n.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	ctx := n.rd.Context()
	if ctx.Err() != nil {
		return 0, os.ErrDeadlineExceeded
	}
	for {
		if n.r == nil {
			_, r, err := n.c.Reader(ctx)
			if err != nil {
				return 0, n.readError(ctx, err)
			}
			n.r = r
		}
		k, err := n.r.Read(p)
		if err == io.EOF {
			n.r = nil
			err = nil
		}
		if err != nil {
			return k, n.readError(ctx, err)
		}
		if k > 0 {
			return k, nil
		}
	}
}

// readError maps the error of a read to net.Conn's: a deadline's, or
// io.EOF for a normal close.
func (n *netConn) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return os.ErrDeadlineExceeded
	}
	if code := CloseStatus(err); code == StatusNormalClosure || code == StatusGoingAway {
		n.eof = true
		return io.EOF
	}
	return err
}

func (n *netConn) Write(p []byte) (int, error) {
	ctx := n.wd.Context()
	if ctx.Err() != nil {
		return 0, os.ErrDeadlineExceeded
	}
	if err := n.c.Write(ctx, n.typ, p); err != nil {
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return 0, os.ErrDeadlineExceeded
		}
		return 0, err
	}
	return len(p), nil
}

func (n *netConn) Close() error {
	return n.c.Close(StatusNormalClosure, "")
}

func (n *netConn) LocalAddr() net.Addr  { return n.c.LocalAddr() }
func (n *netConn) RemoteAddr() net.Addr { return n.c.RemoteAddr() }

func (n *netConn) SetDeadline(t time.Time) error {
	n.rd.Set(t)
	n.wd.Set(t)
	return nil
}

func (n *netConn) SetReadDeadline(t time.Time) error {
	n.rd.Set(t)
	return nil
}

func (n *netConn) SetWriteDeadline(t time.Time) error {
	n.wd.Set(t)
	return nil
}
