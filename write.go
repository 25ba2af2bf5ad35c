package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
)

// smallFrame is the payload size up to which a server frame is copied beside
// its header and sent with one write; larger payloads are sent from the
// caller's slice after the header.
const smallFrame = 16 << 10

// Write sends p as one message of type typ. It waits for any message being
// written by another goroutine. ctx bounds the wait and the write; if it ends
// while the frame is going out, the connection is closed, since the peer
// would see half a frame. Text must be valid UTF-8; Write does not check it.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	if err := c.msgLock.Lock(ctx, &c.ended); err != nil {
		return c.lockErr(err)
	}
	defer c.msgLock.Unlock()
	if c.compresses(len(p)) {
		if err := ctx.Err(); err != nil {
			return err // before the compressor takes p in
		}
		buf := wsconn.GetBuffer(len(p)/2 + 64)
		defer wsconn.PutBuffer(buf)
		*buf = c.comp.AppendCompressed((*buf)[:0], p)
		if err := c.writeFrame(ctx, true, op, bitRSV1, *buf); err != nil {
			return c.messageBroken(ctx, err, true)
		}
		return nil
	}
	return c.writeFrame(ctx, true, op, 0, p)
}

// messageBroken returns the error of a data message that could not be
// written whole, after closing the connection when the message was
// committed: frames of it went out, after which the peer expects the rest,
// or the compressor took it in, after which, under context takeover, the
// peer's decompressor would misread every later message (RFC 7692 §7.2.3).
// A message that failed before either stays unsent and the connection
// usable, as does one that failed because the connection is closing.
func (c *Conn) messageBroken(ctx context.Context, err error, committed bool) error {
	if !committed || errors.Is(err, ErrClosed) || c.ended.Ended() {
		return err
	}
	return c.ioError(ctx, err)
}

// Writer returns a writer for one message of type typ, sent as it is written
// in frames of the write buffer's size; its Close sends the last frame. Other
// messages wait until the writer is closed, so it must be closed. ctx bounds
// the wait for the writer and every write to it.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // before anything of the message is taken in
	}
	if err := c.msgLock.Lock(ctx, &c.ended); err != nil {
		return nil, c.lockErr(err)
	}
	w := &messageWriter{c: c, ctx: ctx, op: op, buf: wsconn.GetBuffer(c.writeBufferSize())}
	if c.comp != nil {
		if c.compresses(0) {
			w.compress()
		} else {
			w.undecided = true
		}
	}
	return w, nil
}

func dataOpcode(typ MessageType) (opcode, error) {
	switch typ {
	case MessageText:
		return opText, nil
	case MessageBinary:
		return opBinary, nil
	}
	return 0, fmt.Errorf("websocket: cannot write a message of type %v", typ)
}

// The write helpers, from the message down to the wire:
//
//	writeFrame, writeEncoded   a data frame; the caller holds msgLock; they take frameLock; ctx bounds the wait and the write
//	writeControl               a ping or pong; takes frameLock; the close timeout bounds it; nothing after a close frame
//	writeControlFrame          any control frame, the close frame too; takes frameLock; deadline bounds it
//	writeFrameLocked           encodes and writes; the caller holds frameLock and has set the deadline
//
// Every one turns a failed write into the connection's end with ioError.

// writeFrame sends one data frame, after any control frame in flight. The
// caller holds msgLock.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op opcode, rsv byte, p []byte) error {
	if err := c.lockDataFrame(ctx); err != nil {
		return err
	}
	defer c.unlockDataFrame()
	if err := c.writeFrameLocked(fin, op, rsv, p); err != nil {
		return c.ioError(ctx, err)
	}
	return nil
}

// writeEncoded sends a data frame encoded in advance. The caller holds msgLock.
func (c *Conn) writeEncoded(ctx context.Context, frame []byte) error {
	if err := c.lockDataFrame(ctx); err != nil {
		return err
	}
	defer c.unlockDataFrame()
	if err := c.writeFull(frame, nil); err != nil {
		return c.ioError(ctx, err)
	}
	return nil
}

// lockDataFrame takes frameLock for a data frame whose write ctx bounds,
// until unlockDataFrame. It fails, holding nothing, when a close frame has
// gone out (RFC 6455 §5.5.1 allows no data frame after it) or ctx has
// ended.
func (c *Conn) lockDataFrame(ctx context.Context) error {
	if err := c.frameLock.Lock(ctx, &c.ended); err != nil {
		return c.lockErr(err)
	}
	if err := c.writable(); err != nil {
		c.frameLock.Unlock()
		return err
	}
	if err := c.writeWatch.Watch(ctx, c.br.nc, true); err != nil {
		c.unlockDataFrame()
		return err
	}
	return nil
}

// unlockDataFrame ends the write of a data frame: ctx's end no longer
// touches the connection, and frameLock is released.
func (c *Conn) unlockDataFrame() {
	c.writeWatch.Unwatch()
	c.frameLock.Unlock()
}

// writable reports why nothing more may be sent once a close frame has
// gone out. It takes no lock.
func (c *Conn) writable() error {
	if c.closeSent.Load() {
		return c.closedErr()
	}
	return nil
}

// writeControl sends a ping or a pong with the connection's close timeout
// as its deadline; after a close frame went out it sends nothing.
func (c *Conn) writeControl(op opcode, payload []byte) error {
	if err := c.writable(); err != nil {
		return err
	}
	return c.writeControlFrame(op, payload, time.Now().Add(c.closeTimeout()))
}

// writeControlFrame sends a control frame, waiting at most until deadline
// for frameLock and for the write. The caller may hold readLock (a reader
// answering a ping or a close frame) or msgLock.
func (c *Conn) writeControlFrame(op opcode, payload []byte, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := c.frameLock.Lock(ctx, &c.ended); err != nil {
		if op == opPong && ctx.Err() != nil {
			return c.pongStuck()
		}
		return c.lockErr(err)
	}
	defer c.frameLock.Unlock()
	c.br.nc.SetWriteDeadline(deadline)
	defer c.br.nc.SetWriteDeadline(time.Time{})
	if err := c.writeFrameLocked(true, op, 0, payload); err != nil {
		if op == opPong && errors.Is(err, os.ErrDeadlineExceeded) {
			return c.pongStuck()
		}
		return c.ioError(context.Background(), err)
	}
	return nil
}

// pongStuck fails a connection whose pong could not be written within the
// close timeout: the peer's pings outrun its reading of their pongs, or it
// reads nothing at all while the connection writes to it. It ends at once
// with StatusPolicyViolation, since no close frame could get through.
func (c *Conn) pongStuck() error {
	c.setClosing(&CloseError{Code: StatusPolicyViolation, Reason: "a pong could not be written within " + c.closeTimeout().String() + ": the peer does not read"}, false, false)
	c.end()
	return c.closedErr()
}

// writeFrameLocked encodes and writes one frame; the caller holds frameLock
// and has set the write deadline (through writeWatch, or its own). Client
// frames are masked in a borrowed buffer, never in the caller's slice.
func (c *Conn) writeFrameLocked(fin bool, op opcode, rsv byte, p []byte) error {
	h := frameHeader{fin: fin, rsv: rsv, op: op, masked: c.client, length: int64(len(p))}
	if !c.client {
		if len(p) > smallFrame {
			// Header and payload go out in one writev, without copying
			// the payload.
			hdr := wsconn.GetBuffer(maxHeaderSize)
			defer wsconn.PutBuffer(hdr)
			return c.writeFull(appendFrameHeader(*hdr, h), p)
		}
		buf := wsconn.GetBuffer(maxHeaderSize + len(p))
		defer wsconn.PutBuffer(buf)
		return c.writeFull(append(appendFrameHeader(*buf, h), p...), nil)
	}
	// RFC 6455 §5.3: a fresh, unpredictable key for every frame.
	h.key = rand.Uint32()
	buf := wsconn.GetBuffer(min(maxHeaderSize+len(p), 64<<10))
	defer wsconn.PutBuffer(buf)
	b := appendFrameHeader(*buf, h)
	key := h.key
	for {
		n := min(cap(b)-len(b), len(p))
		start := len(b)
		b = append(b, p[:n]...)
		key = mask(key, b[start:])
		if err := c.writeFull(b, nil); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
		b = b[:0]
	}
}

// vecWriter is a transport that writes a frame's header and payload, whole,
// in one call, waiting while the socket's buffer is full: an engine's
// connection in event mode (internal/engine's transport).
type vecWriter interface {
	WriteVec(hdr, p []byte) error
}

// writeFull writes hdr and then p, which may be empty, whole; the caller
// holds frameLock. Where the reader reads the descriptor (br.sys), the
// writer writes it too, and waits through the runtime's poller while the
// socket's buffer is full; an engine's transport writes its descriptor
// itself; elsewhere it writes through net.Conn.
func (c *Conn) writeFull(hdr, p []byte) error {
	if c.br.sys != nil {
		return c.br.sys.WriteVec(hdr, p)
	}
	if w, ok := c.br.nc.(vecWriter); ok {
		return w.WriteVec(hdr, p)
	}
	return c.writeNet(hdr, p)
}

// writeNet writes hdr and then p, which may be empty, through net.Conn:
// one writev where the connection supports it. The caller holds frameLock.
func (c *Conn) writeNet(hdr, p []byte) error {
	if len(p) == 0 {
		_, err := c.br.nc.Write(hdr)
		return err
	}
	w := netBuffers.Get().(*netWritev)
	w.v = [2][]byte{hdr, p}
	w.bufs = w.v[:]
	_, err := w.bufs.WriteTo(c.br.nc)
	*w = netWritev{}
	netBuffers.Put(w)
	return err
}

// netWritev is one writev of writeNet: the net.Buffers, which WriteTo
// consumes, and the two slices it starts with.
type netWritev struct {
	bufs net.Buffers
	v    [2][]byte
}

// netBuffers holds the netWritevs of writeNet, borrowed per frame so that
// a connection holds none and writing allocates nothing.
var netBuffers = sync.Pool{New: func() any { return new(netWritev) }}

// messageWriter streams one message as frames of the write buffer's size.
type messageWriter struct {
	c   *Conn
	ctx context.Context
	op  opcode // of the next frame: the message's opcode, then continuation
	rsv byte   // RSV1 on the first frame of a compressed message
	buf *[]byte
	zw  io.WriteCloser // compresses into frameSink once the message is to be compressed
	// undecided is set while a message that permessage-deflate may compress
	// is shorter than the compression threshold and fits in buf: it is held
	// there uncompressed, and goes out so if it ends that way.
	undecided bool
	closed    bool
	err       error
}

var errWriterClosed = errors.New("websocket: write to a message writer that was closed")

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.undecided {
		held := len(*w.buf)
		if !w.c.compresses(held+len(p)) && held+len(p) < cap(*w.buf) {
			*w.buf = append(*w.buf, p...)
			return len(p), nil
		}
		// The message is long enough to compress: what was held goes
		// through the compressor first, and the compressed bytes go to a
		// fresh frame buffer.
		w.undecided = false
		w.compress()
		if held > 0 {
			staged := w.buf
			w.buf = wsconn.GetBuffer(w.c.writeBufferSize())
			_, err := w.zw.Write(*staged)
			wsconn.PutBuffer(staged)
			if err != nil {
				return 0, err
			}
		}
	}
	if w.zw != nil {
		return w.zw.Write(p)
	}
	return w.writeRaw(p)
}

// compress makes the message a compressed one: RSV1 on its first frame, and
// everything written from now on through the compressor.
func (w *messageWriter) compress() {
	w.rsv = bitRSV1
	w.zw = w.c.comp.Writer(frameSink{w})
}

// writeRaw adds payload bytes to the message, sending full frames.
func (w *messageWriter) writeRaw(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		b := *w.buf
		if len(b) == 0 && len(p) >= cap(b) {
			// A large write goes out as its own frame, without a copy.
			if err := w.flush(false, p); err != nil {
				return written, err
			}
			return written + len(p), nil
		}
		n := copy(b[len(b):cap(b)], p)
		*w.buf = b[:len(b)+n]
		p = p[n:]
		written += n
		if len(*w.buf) == cap(*w.buf) {
			if err := w.flush(false, *w.buf); err != nil {
				return written, err
			}
			*w.buf = (*w.buf)[:0]
		}
	}
	return written, nil
}

// flush sends p as the message's next frame; the writer holds msgLock.
func (w *messageWriter) flush(fin bool, p []byte) error {
	if err := w.c.writeFrame(w.ctx, fin, w.op, w.rsv, p); err != nil {
		w.err = w.c.messageBroken(w.ctx, err, w.op == opContinuation || w.zw != nil)
		return w.err
	}
	w.op, w.rsv = opContinuation, 0
	return nil
}

// Close ends the message, sending its last frame, and lets other messages go.
func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	defer w.c.msgLock.Unlock()
	defer wsconn.PutBuffer(w.buf)
	if w.zw != nil {
		if err := w.zw.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.err != nil {
		return w.err
	}
	return w.flush(true, *w.buf)
}

// frameSink receives compressed bytes for a message writer.
type frameSink struct{ w *messageWriter }

func (s frameSink) Write(p []byte) (int, error) { return s.w.writeRaw(p) }
