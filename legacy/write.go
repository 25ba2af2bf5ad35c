package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"unicode/utf8"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/utf8stream"
	"github.com/duplexws/websocket/internal/wsconn"
)

const (
	// writeBufferSize is the size of the buffers that frames are built in,
	// and so of the pieces a streamed message goes out in.
	writeBufferSize = 4096
	// maxBufferedWrite is the largest message Write copies, with its two
	// framing bytes, into one pooled buffer to send with a single write;
	// longer ones go out without copying.
	maxBufferedWrite = 64<<10 - 2
)

var (
	textStart = []byte{frameTypeText}
	textEnd   = []byte{frameEnd}
)

// errWriterClosed is returned by a message writer's Write after its Close.
var errWriterClosed = errors.New("legacy: write to a message writer after Close")

// checkWriteType accepts websocket.MessageText only.
func checkWriteType(typ websocket.MessageType) error {
	switch typ {
	case websocket.MessageText:
		return nil
	case websocket.MessageBinary:
		return ErrBinaryUnsupported
	default:
		return fmt.Errorf("legacy: unknown message type %d", int(typ))
	}
}

// Write sends p as one text message. typ must be websocket.MessageText
// (websocket.MessageBinary returns ErrBinaryUnsupported) and p valid UTF-8
// (else ErrInvalidUTF8). Write may be called from many goroutines at once:
// each message goes out whole. If ctx ends while the message is being sent,
// the connection is closed, since the peer may have received part of it.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	if err := checkWriteType(typ); err != nil {
		return err
	}
	if !utf8.Valid(p) {
		return ErrInvalidUTF8
	}
	if err := c.acquireWrite(ctx); err != nil {
		return err
	}
	defer c.releaseWrite()
	if c.closeSent || c.isTCPClosed() {
		return c.closedErr()
	}
	if err := c.writeWatch.Watch(ctx, c.nc, true); err != nil {
		return fmt.Errorf("legacy: write: %w", err)
	}
	var err error
	if len(p) <= maxBufferedWrite {
		b := wsconn.GetBuffer(len(p) + 2)
		*b = appendTextFrame(*b, p)
		_, err = c.nc.Write(*b)
		wsconn.PutBuffer(b)
	} else {
		bufs := net.Buffers{textStart, p, textEnd}
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		return c.failWrite(ctx, err)
	}
	return nil
}

// Writer returns a writer for one text message, for messages too large to
// hold whole; the message ends when the writer is closed. Until then no other
// message can be written, so always Close it. The text must be valid UTF-8:
// an invalid byte sequence makes Write or Close return ErrInvalidUTF8 and
// drops the message, and if part of it was already sent, closes the
// connection. ctx governs the wait for the connection and every write until
// Close. typ is as for Write.
func (c *Conn) Writer(ctx context.Context, typ websocket.MessageType) (io.WriteCloser, error) {
	if err := checkWriteType(typ); err != nil {
		return nil, err
	}
	if err := c.acquireWrite(ctx); err != nil {
		return nil, err
	}
	if c.closeSent || c.isTCPClosed() {
		c.releaseWrite()
		return nil, c.closedErr()
	}
	if err := c.writeWatch.Watch(ctx, c.nc, true); err != nil {
		c.releaseWrite()
		return nil, fmt.Errorf("legacy: write: %w", err)
	}
	w := &messageWriter{c: c, ctx: ctx, buf: wsconn.GetBuffer(writeBufferSize)}
	*w.buf = append(*w.buf, frameTypeText)
	return w, nil
}

// messageWriter is the io.WriteCloser of one message, returned by Writer.
// It holds writeSem from Writer until Close.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	buf    *[]byte
	utf8   utf8stream.Validator
	sent   bool // part of the frame is on the wire
	closed bool
	err    error // once set, the message is lost and every call returns it
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.utf8.Write(p) {
		return 0, w.abandon(ErrInvalidUTF8)
	}
	b := *w.buf
	if len(b)+len(p) > cap(b) {
		if err := w.flush(); err != nil {
			return 0, err
		}
		b = *w.buf
		if len(p) > cap(b) {
			if _, err := w.c.nc.Write(p); err != nil {
				w.err = w.c.failWrite(w.ctx, err)
				return 0, w.err
			}
			return len(p), nil
		}
	}
	*w.buf = append(b, p...)
	return len(p), nil
}

// Close ends the message and lets the next one be written.
func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	defer func() {
		wsconn.PutBuffer(w.buf)
		w.buf = nil
		w.c.releaseWrite()
	}()
	if w.err != nil {
		return w.err
	}
	if !w.utf8.Complete() {
		return w.abandon(ErrInvalidUTF8)
	}
	*w.buf = append(*w.buf, frameEnd)
	return w.flush()
}

// flush sends the buffered part of the message.
func (w *messageWriter) flush() error {
	w.sent = true
	_, err := w.c.nc.Write(*w.buf)
	*w.buf = (*w.buf)[:0]
	if err != nil {
		w.err = w.c.failWrite(w.ctx, err)
		return w.err
	}
	return nil
}

// abandon drops the message over err. If part of its frame is already on the
// wire, nothing can end it cleanly, so the connection is closed.
func (w *messageWriter) abandon(err error) error {
	*w.buf = (*w.buf)[:0]
	if w.sent {
		w.c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "", err))
		w.c.closeTCP()
		err = fmt.Errorf("%w; the connection was closed since part of the message had been sent", err)
	}
	w.err = err
	return err
}

// acquireWrite takes the write side for one message.
func (c *Conn) acquireWrite(ctx context.Context) error {
	return c.acquire(ctx, &c.writeSem, "write")
}

// releaseWrite ends a write: the end of its context no longer touches the
// connection, and writeSem is released.
func (c *Conn) releaseWrite() {
	c.writeWatch.Unwatch()
	c.writeSem.Unlock()
}

// failWrite closes the connection after a failed write: part of a frame may
// be on the wire, and nothing could follow it. The caller holds writeSem.
func (c *Conn) failWrite(ctx context.Context, err error) error {
	switch {
	case c.isTCPClosed():
	case ctx.Err() != nil && isTimeout(err):
		c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "", fmt.Errorf("write interrupted: %w", ctx.Err())))
	default:
		c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "", err))
	}
	c.closeTCP()
	return c.closedErr()
}
