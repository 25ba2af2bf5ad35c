package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
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
	return &netConn{c: c, typ: typ, rd: newDeadline(), wd: newDeadline()}
}

type netConn struct {
	c   *Conn
	typ MessageType

	readMu sync.Mutex // one Read at a time; guards r and eof
	r      io.Reader  // the message being read; nil between messages
	eof    bool       // the peer closed normally

	rd, wd *deadline
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
	ctx := n.rd.context()
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
	ctx := n.wd.context()
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
	n.rd.set(t)
	n.wd.set(t)
	return nil
}

func (n *netConn) SetReadDeadline(t time.Time) error {
	n.rd.set(t)
	return nil
}

func (n *netConn) SetWriteDeadline(t time.Time) error {
	n.wd.set(t)
	return nil
}

// deadline is a net.Conn deadline as a context: the context ends when the
// deadline passes, which ends the calls waiting with it. Until then, a new
// deadline re-arms the same context, so that it applies to pending calls;
// once it has passed, a new deadline starts a fresh context.
type deadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer // nil when no deadline is set
	gen    uint64      // counts set calls, so that a stale timer does nothing
}

func newDeadline() *deadline {
	d := &deadline{}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

// context returns the context for a call starting now.
func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

// set moves the deadline to t; the zero time removes it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		d.cancel()
		return
	}
	d.gen++
	gen, cancel := d.gen, d.cancel
	d.timer = time.AfterFunc(wait, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen {
			cancel()
		}
	})
}
