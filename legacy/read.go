package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/wsconn"
)

// errStaleReader is returned by an io.Reader from Reader once a later Read
// or Reader call has moved on to another message.
var errStaleReader = errors.New("legacy: this message reader was superseded by a later Read or Reader call")

// Read reads the next message whole and returns it, always as
// websocket.MessageText since hixie-76 has no other kind. Frames of unknown
// types are skipped, as the draft requires. A message longer than the read
// limit, or one that is not valid UTF-8, closes the connection. If ctx ends
// before a message arrives, the connection is closed, since a frame may have
// been cut in the middle.
func (c *Conn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	if err := c.acquireRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.releaseRead()
	if err := c.watchRead(ctx); err != nil {
		return 0, nil, err
	}
	if err := c.nextMessage(ctx); err != nil {
		return 0, nil, err
	}
	// Most messages are already whole in the read buffer: allocate their
	// exact size then, and grow as needed otherwise.
	size := c.fr.bufferedTextLen()
	if size < 0 {
		size = 512
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.readBody(ctx, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return websocket.MessageText, buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// Reader waits for the next message and returns a reader of its text, for
// messages too large to hold whole. The reader returns io.EOF at the end of
// the message; it is valid until the next Read or Reader call, which skips
// whatever of the message was left unread. ctx governs the wait and every
// read from the returned reader. The limits and checks of Read apply.
func (c *Conn) Reader(ctx context.Context) (websocket.MessageType, io.Reader, error) {
	if err := c.acquireRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.releaseRead()
	if err := c.watchRead(ctx); err != nil {
		return 0, nil, err
	}
	if err := c.nextMessage(ctx); err != nil {
		return 0, nil, err
	}
	return websocket.MessageText, &messageReader{c: c, ctx: ctx, gen: c.msg.gen}, nil
}

// messageReader is the io.Reader of one message, returned by Reader.
type messageReader struct {
	c   *Conn
	ctx context.Context
	gen uint64
}

func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	if err := c.acquireRead(r.ctx); err != nil {
		return 0, err
	}
	defer c.releaseRead()
	switch {
	case r.gen != c.msg.gen:
		return 0, errStaleReader
	case c.readErr != nil:
		return 0, c.readErr
	case !c.msg.active:
		return 0, io.EOF
	}
	if err := c.watchRead(r.ctx); err != nil {
		return 0, err
	}
	return c.readBody(r.ctx, p)
}

// acquireRead takes the read side for one call, waiting for Close if it is
// reading on its own to find the peer's closing frame.
func (c *Conn) acquireRead(ctx context.Context) error {
	return c.acquire(ctx, &c.readSem, "read")
}

// acquire takes s, the read or the write side, for op. A context that has
// ended already leaves the connection as it is, since nothing was done yet.
func (c *Conn) acquire(ctx context.Context, s *wsconn.Sem, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("legacy: %s: %w", op, err)
	}
	switch err := s.Lock(ctx, &c.tcpClosed); {
	case err == wsconn.ErrEnded:
		return c.closedErr()
	case err != nil:
		return fmt.Errorf("legacy: %s: %w", op, err)
	}
	return nil
}

// releaseRead ends a read: the end of its context no longer touches the
// connection, and readSem is released.
func (c *Conn) releaseRead() {
	c.readWatch.Unwatch()
	c.readSem.Unlock()
}

// watchRead makes the end of ctx interrupt the reads that follow. The
// caller holds readSem.
func (c *Conn) watchRead(ctx context.Context) error {
	if err := c.readWatch.Watch(ctx, c.nc, false); err != nil {
		return fmt.Errorf("legacy: read: %w", err)
	}
	return nil
}

// nextMessage moves to the start of the next text message's body, skipping
// the rest of the current message and frames of other types. When the
// closing handshake has begun, text messages are skipped too: they arrived
// after this side asked to close. The caller holds readSem.
func (c *Conn) nextMessage(ctx context.Context) error {
	if c.readErr != nil {
		return c.readErr
	}
	if err := c.skipBody(ctx); err != nil {
		return err
	}
	for {
		kind, err := c.fr.next(c.readLimit.Load())
		if err != nil {
			return c.failRead(ctx, err)
		}
		if kind == kindClose {
			return c.peerClosing()
		}
		c.msg.gen++
		c.msg.active = true
		c.msg.n = 0
		c.msg.utf8.Reset()
		if !c.closeStarted.Load() {
			return nil
		}
		if err := c.skipBody(ctx); err != nil {
			return err
		}
	}
}

// skipBody reads and drops what is left of the current message.
func (c *Conn) skipBody(ctx context.Context) error {
	var scratch [512]byte
	for c.msg.active {
		if _, err := c.readBody(ctx, scratch[:]); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// readBody reads the next bytes of the current message into p, checking the
// read limit and UTF-8 as they come; it returns io.EOF with the last bytes.
// The caller holds readSem.
func (c *Conn) readBody(ctx context.Context, p []byte) (int, error) {
	if c.readErr != nil {
		return 0, c.readErr
	}
	if !c.msg.active {
		return 0, io.EOF
	}
	n, done, err := c.fr.readText(p)
	if err != nil {
		return 0, c.failRead(ctx, err)
	}
	c.msg.n += int64(n)
	if limit := c.readLimit.Load(); limit >= 0 && c.msg.n > limit {
		return 0, c.failTooBig(limit)
	}
	if !c.msg.utf8.Write(p[:n]) || done && !c.msg.utf8.Complete() {
		return 0, c.failProtocol(websocket.StatusInvalidFramePayloadData, "text message is not valid UTF-8", nil)
	}
	if done {
		c.msg.active = false
		return n, io.EOF
	}
	return n, nil
}

// failRead turns an error from the frame reader into the error every later
// read returns, closing the connection. The caller holds readSem.
func (c *Conn) failRead(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, errFrameTooBig):
		return c.failTooBig(c.readLimit.Load())
	case errors.Is(err, errFrameLength):
		return c.failProtocol(websocket.StatusProtocolError, "frame length out of range", nil)
	case c.isTCPClosed():
		// Close or CloseNow closed the connection under the read.
	case ctx.Err() != nil && isTimeout(err):
		c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "", fmt.Errorf("read interrupted: %w", ctx.Err())))
	default:
		// The peer went away without the closing handshake.
		c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "", err))
	}
	c.closeTCP()
	c.readErr = c.closedErr()
	return c.readErr
}

// failTooBig closes the connection over a message longer than limit.
func (c *Conn) failTooBig(limit int64) error {
	reason := fmt.Sprintf("message exceeds the read limit of %d bytes; raise it with SetReadLimit", limit)
	return c.failProtocol(websocket.StatusMessageTooBig, reason, websocket.ErrMessageTooBig)
}

// failProtocol closes the connection because of what the peer sent: the
// closing frame goes out (bounded by the close timeout), then the TCP
// connection is closed. The caller holds readSem.
func (c *Conn) failProtocol(code websocket.StatusCode, reason string, cause error) error {
	c.setCloseErr(newClosedError(code, reason, cause))
	c.closeStarted.Store(true)
	_ = c.writeClosingFrame(c.closeDeadline())
	c.closeTCP()
	c.readErr = c.closedErr()
	return c.readErr
}

// peerClosing answers the peer's closing frame, unless this side already
// sent one, and closes the TCP connection. The caller holds readSem.
func (c *Conn) peerClosing() error {
	c.peerClosedOnce.Do(func() { close(c.peerClosed) })
	c.setCloseErr(newClosedError(websocket.StatusNoStatusRcvd, "", nil))
	_ = c.writeClosingFrame(c.closeDeadline())
	c.closeTCP()
	c.readErr = c.closedErr()
	return c.readErr
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
