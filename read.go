package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"

	"github.com/duplexws/websocket/internal/engine"
	"github.com/duplexws/websocket/internal/pmdeflate"
	"github.com/duplexws/websocket/internal/utf8stream"
	"github.com/duplexws/websocket/internal/wsconn"
)

// readState is the reading side of a connection, guarded by Conn.readLock.
type readState struct {
	ctx        context.Context   // of the Reader call whose message is being read
	err        error             // once set, the reading side is finished
	inflate    *pmdeflate.Reader // decompresses the message when compressed
	typ        MessageType
	frameLeft  int64 // payload bytes of the current data frame not yet read
	size       int64 // bytes of the message delivered so far, after decompression
	utf8       utf8stream.Validator
	key        uint32
	inMessage  bool // a data message has started and not ended
	compressed bool
	fin        bool // the current data frame is the message's last
	masked     bool
}

// Reader waits for the next message and returns its type and a reader of its
// payload, which reports io.EOF at the end of the message (with the message's
// last bytes when a read reaches them). The reader is valid
// until the next call to Reader or Read, which discards whatever of the
// message was not read.
//
// ctx bounds the wait and the reads of this message. When it ends while
// Reader waits for the next message, before that message's first frame
// header has arrived whole (an idle connection polled with a timeout, say),
// Reader returns ctx's error and the connection stays usable: nothing was
// consumed, and the next call with a live context goes on. When it ends
// once the message has begun, while the returned reader reads it, the
// connection is closed, since the rest of the message would be lost.
//
// Text is checked for valid UTF-8 as it arrives; invalid text fails the
// connection with [StatusInvalidFramePayloadData]. A message longer than the
// read limit fails it with [StatusMessageTooBig].
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.readRefused(); err != nil {
		return 0, nil, err
	}
	return c.reader(ctx)
}

// reader is Reader for whatever reads the connection: the user, or an
// Engine's goroutine.
func (c *Conn) reader(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	c.yieldEvery()
	if err := c.nextMessage(ctx); err != nil {
		return 0, nil, err
	}
	return c.rd.typ, c.messageReader(), nil
}

// yieldEvery yields the processor once every engine.RunBudget messages a
// goroutine reads, for fairness: a connection whose peer keeps sending
// lets other connections' goroutines run between its bursts rather than
// at the scheduler's next preemption, as an Engine's run does. The caller
// holds readLock.
func (c *Conn) yieldEvery() {
	c.br.begun++
	if c.br.begun%engine.RunBudget == 0 {
		runtime.Gosched()
	}
}

// Read waits for the next message and returns it whole. See [Conn.Reader]
// for the checks applied and for what an ending ctx does: while Read waits
// for the message to begin it leaves the connection usable, once the message
// has begun it closes it. The read limit ([Conn.SetReadLimit]) bounds the
// memory it takes.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	if err := c.readRefused(); err != nil {
		return 0, nil, err
	}
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.unlockRead()
	c.yieldEvery()
	if err := c.nextMessage(ctx); err != nil {
		return 0, nil, err
	}
	size := 512
	if !c.rd.compressed && c.rd.fin {
		size = int(c.rd.frameLeft) // the whole message is in this frame
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			// The message may end right here, at the end of a frame or of
			// the inflated data: look before growing the buffer.
			if _, err := c.readMessage(nil); err == io.EOF {
				return c.rd.typ, buf, nil
			} else if err != nil {
				return 0, nil, err
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.readMessage(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return c.rd.typ, buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// What reads a connection instead of Read and Reader, in Conn.readBy.
const (
	readByCloseRead uint32 = 1 + iota // CloseRead's goroutine
	readByEngine                      // an Engine, which hands messages to OnMessage
)

// errReadByEngine is what Read and Reader return on a connection an Engine
// serves.
var errReadByEngine = fmt.Errorf("%w: Read or Reader called on a connection an Engine serves; the engine reads it and hands each message to OnMessage, with a reader of the message", ErrReadOwned)

// readRefused returns why Read and Reader may not read the connection, or
// nil when they may.
func (c *Conn) readRefused() error {
	switch c.readBy.Load() {
	case readByCloseRead:
		return errReadClosed
	case readByEngine:
		return errReadByEngine
	}
	return nil
}

// unlockRead ends a read that lockRead began: the end of its context no
// longer touches the connection, and readLock is released.
func (c *Conn) unlockRead() {
	c.readWatch.Unwatch()
	c.readLock.Unlock()
}

// lockRead takes readLock for a read, until unlockRead. On a connection that has ended it
// reports how reading ended (the peer's close frame, say) when it can see
// it, else why the connection closed.
func (c *Conn) lockRead(ctx context.Context) error {
	err := c.readLock.Lock(ctx, &c.ended)
	if err != wsconn.ErrEnded {
		return err
	}
	err = c.closedErr()
	if c.readLock.TryLock() {
		if c.rd.err != nil {
			err = c.rd.err
		}
		c.readLock.Unlock()
	}
	return err
}

// messageReader reads the current message for the caller of Reader. It is
// the connection itself under another type, so it costs nothing: a reader
// returned by Reader reads whatever message is current, which is why it is
// valid only until the next Reader or Read.
type messageReader Conn

// messageReader returns the reader of the current message.
func (c *Conn) messageReader() *messageReader { return (*messageReader)(c) }

func (r *messageReader) Read(p []byte) (int, error) {
	c := (*Conn)(r)
	if err := c.lockRead(context.Background()); err != nil {
		return 0, err
	}
	defer c.unlockRead()
	if c.rd.err != nil {
		// The reading side is finished, inside the message or after it:
		// a failure hands the connection's bytes to linger, and nothing
		// more of this message may be read.
		return 0, c.rd.err
	}
	if !c.rd.inMessage {
		return 0, io.EOF
	}
	if err := c.readWatch.Watch(c.rd.ctx, c.br.nc, false); err != nil {
		return 0, err
	}
	return c.readMessage(p)
}

// nextMessage discards the rest of the current message and reads up to the
// first data frame of the next one.
func (c *Conn) nextMessage(ctx context.Context) error {
	if c.rd.err != nil {
		return c.rd.err
	}
	if err := c.readWatch.Watch(ctx, c.br.nc, false); err != nil {
		return err
	}
	c.rd.ctx = ctx
	if c.rd.inMessage {
		if err := c.discardMessage(); err != nil {
			return err
		}
	}
	h, err := c.nextDataFrame()
	if err != nil {
		return err
	}
	if h.op == opContinuation {
		return c.fail(StatusProtocolError, "continuation frame with no message to continue")
	}
	c.rd.inMessage = true
	c.rd.typ = MessageType(h.op)
	c.rd.compressed = h.rsv&bitRSV1 != 0
	c.rd.size = 0
	c.rd.utf8.Reset()
	c.startFrame(h)
	if c.rd.compressed {
		c.rd.inflate = c.comp.Reader(rawMessage{c}, c.readLimit.Load())
	}
	return c.checkFrameSize(h)
}

// discardMessage reads the rest of the current message, checking it as a
// read would, and drops it.
func (c *Conn) discardMessage() error { return discard(c.readMessage) }

// discard calls read with a pooled scratch buffer until it returns io.EOF.
func discard(read func(p []byte) (int, error)) error {
	scratch := wsconn.GetBuffer(discardChunk)
	defer wsconn.PutBuffer(scratch)
	for {
		_, err := read((*scratch)[:discardChunk])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// discardChunk is the size of the pooled scratch buffer into which a
// message nobody reads is discarded.
const discardChunk = 512

// startFrame makes h the current data frame.
func (c *Conn) startFrame(h frameHeader) {
	c.rd.fin = h.fin
	c.rd.frameLeft = h.length
	c.rd.masked = h.masked
	c.rd.key = h.key
}

// checkFrameSize fails the connection early when an uncompressed frame alone
// would take the message past the read limit, before reading its payload.
func (c *Conn) checkFrameSize(h frameHeader) error {
	limit := c.readLimit.Load()
	if limit >= 0 && !c.rd.compressed && c.rd.size+h.length > limit {
		return c.tooBig(limit)
	}
	return nil
}

// tooBig fails the connection over a message beyond limit; the caller
// holds readLock.
func (c *Conn) tooBig(limit int64) error {
	err := c.fail(StatusMessageTooBig, fmt.Sprintf("message exceeds the read limit of %d bytes", limit))
	return fmt.Errorf("%w (raise it with SetReadLimit): %w", ErrMessageTooBig, err)
}

// readMessage reads payload of the current message into p, decompressing,
// enforcing the read limit and validating text. It returns io.EOF once the
// message is complete.
func (c *Conn) readMessage(p []byte) (int, error) {
	if !c.rd.inMessage {
		return 0, io.EOF
	}
	limit := c.readLimit.Load()
	if limit >= 0 && int64(len(p)) > limit-c.rd.size+1 {
		p = p[:limit-c.rd.size+1] // one byte more than allowed shows the excess
	}
	var n int
	var err error
	if c.rd.compressed {
		n, err = c.rd.inflate.Read(p)
		switch {
		case err == nil, err == io.EOF, c.rd.err != nil:
		case errors.Is(err, pmdeflate.ErrTooLarge):
			return 0, c.tooBig(limit)
		default:
			return n, c.fail(StatusInvalidFramePayloadData, "invalid compressed data: "+err.Error())
		}
	} else {
		n, err = c.readRaw(p)
	}
	c.rd.size += int64(n)
	if limit >= 0 && c.rd.size > limit {
		return 0, c.tooBig(limit)
	}
	if c.rd.typ == MessageText && !c.rd.utf8.Write(p[:n]) {
		return 0, c.fail(StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	}
	if err == io.EOF {
		if c.rd.compressed {
			// A sender may end the deflate stream before the message ends;
			// what follows the final block is skipped.
			if err := c.skipRaw(); err != nil {
				return 0, err
			}
			c.rd.inflate.Close()
			c.rd.inflate = nil
		}
		c.rd.inMessage = false
		c.stallEnd()
		if c.rd.typ == MessageText && !c.rd.utf8.Complete() {
			return 0, c.fail(StatusInvalidFramePayloadData, "text message ends inside a UTF-8 sequence")
		}
	}
	return n, err
}

// skipRaw reads and drops what is left of the current message's frames as
// they are on the wire.
func (c *Conn) skipRaw() error {
	if c.rd.frameLeft == 0 && c.rd.fin {
		return nil
	}
	return discard(c.readRaw)
}

// rawMessage reads the payload of the current message as it is on the wire,
// across its frames; it is what the decompressor reads from.
type rawMessage struct{ c *Conn }

func (r rawMessage) Read(p []byte) (int, error) { return r.c.readRaw(p) }

// readRaw reads the payload of the current message, moving from frame to
// frame and answering control frames in between. It returns io.EOF with the
// last bytes of the message's last frame.
func (c *Conn) readRaw(p []byte) (int, error) {
	// A read that must wait for the peer inside a message is watched for
	// stalls (stall.go); one that finds its bytes buffered is not.
	w := c.stallArmed()
	if w == nil && c.mustWait(len(p)) {
		w = c.stallArm()
	}
	if w != nil {
		w.waiting.Store(true)
		defer w.waiting.Store(false)
	}
	for c.rd.frameLeft == 0 {
		if c.rd.fin {
			return 0, io.EOF
		}
		h, err := c.nextDataFrame()
		if err != nil {
			return 0, err
		}
		if h.op != opContinuation {
			return 0, c.fail(StatusProtocolError, "a new message started before the fragmented one ended")
		}
		c.startFrame(h)
		if err := c.checkFrameSize(h); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.rd.frameLeft {
		p = p[:c.rd.frameLeft]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if w != nil {
			w.got.Add(int64(n))
		}
		if c.rd.masked {
			c.rd.key = mask(c.rd.key, p[:n])
		}
		c.rd.frameLeft -= int64(n)
	}
	if err != nil {
		return n, c.readFailed(err)
	}
	if c.rd.frameLeft == 0 && c.rd.fin {
		// The message ends with these bytes: say so now, which spares the
		// caller a read that would only find the end.
		return n, io.EOF
	}
	return n, nil
}

// mustWait reports whether readRaw, asked for n bytes, may have to wait
// for the peer: the next frame's header, or any of the payload, is not
// buffered.
func (c *Conn) mustWait(n int) bool {
	if c.rd.frameLeft == 0 {
		return !c.rd.fin && c.br.buffered() < maxHeaderSize
	}
	return n > 0 && c.br.buffered() == 0
}

// nextDataFrame reads frame headers, handling control frames, until a data
// frame arrives.
func (c *Conn) nextDataFrame() (frameHeader, error) {
	for {
		h, err := c.nextFrame()
		if err != nil || !h.op.isControl() {
			return h, err
		}
	}
}

// nextFrame reads the next frame's header, checks the rules that apply to
// every frame, and handles the frame when it is a control frame.
func (c *Conn) nextFrame() (frameHeader, error) {
	// Between messages, an event-mode connection reads only frames
	// that have arrived (engine.go); within a message it waits.
	if c.br.nonblock && !c.rd.inMessage {
		if err := c.br.bufferFrame(c.readLimit.Load()); err == errWouldBlock {
			return frameHeader{}, err
		} else if err != nil {
			return frameHeader{}, c.readFailed(err)
		}
	}
	if !c.rd.inMessage {
		if err := c.bufferControlFrame(); err != nil {
			return frameHeader{}, c.readFailedBetween(err)
		}
	}
	h, err := readFrameHeader(&c.br)
	if err != nil {
		if errors.Is(err, errFrameHeader) {
			return h, c.fail(StatusProtocolError, err.Error())
		}
		if !c.rd.inMessage {
			return h, c.readFailedBetween(err)
		}
		return h, c.readFailed(err)
	}
	// RFC 6455 §5.1: clients mask every frame, servers none.
	if h.masked == c.client {
		if c.client {
			return h, c.fail(StatusProtocolError, "server sent a masked frame")
		}
		return h, c.fail(StatusProtocolError, "client sent an unmasked frame")
	}
	// RFC 6455 §5.2: RSV bits are zero unless an extension defines them;
	// permessage-deflate defines RSV1 on a message's first frame (RFC 7692 §6).
	if h.rsv != 0 && (h.rsv != bitRSV1 || c.comp == nil || (h.op != opText && h.op != opBinary)) {
		return h, c.fail(StatusProtocolError, fmt.Sprintf("reserved bits %#x set without an extension that defines them", h.rsv>>4))
	}
	if h.op.isControl() {
		if err := c.handleControl(h); err != nil {
			return h, err
		}
	}
	return h, nil
}

// bufferControlFrame makes sure that, when the next frame is a control
// frame, it is buffered whole before its header is consumed; a frame
// header is only consumed once whole (readFrameHeader peeks). Between
// messages, a read whose context ends therefore leaves nothing half-read.
func (c *Conn) bufferControlFrame() error {
	p, err := c.br.Peek(2)
	if err != nil {
		return err
	}
	length := int(p[1] & 0x7F) // 126 and 127 announce longer lengths
	if !opcode(p[0]&0x0F).isControl() || length > maxControlPayload {
		return nil // a data frame, or a control frame readFrameHeader refuses
	}
	_, err = c.br.Peek(frameHeaderSize(p) + length)
	return err
}

// readFailedBetween is readFailed for a read that failed between messages,
// with nothing of the next frame consumed. When the read's context ended it
// returns the context's error and leaves the connection as it is: the next
// read, with a live context, picks up where this one stopped.
func (c *Conn) readFailedBetween(err error) error {
	var ne net.Error
	if ctx := c.rd.ctx; ctx != nil && ctx.Err() != nil && errors.As(err, &ne) && ne.Timeout() {
		return ctx.Err()
	}
	return c.readFailed(err)
}

// handleControl reads a control frame's payload and acts on it.
func (c *Conn) handleControl(h frameHeader) error {
	buf := wsconn.GetBuffer(maxControlPayload)
	defer wsconn.PutBuffer(buf)
	payload := (*buf)[:h.length]
	if _, err := io.ReadFull(&c.br, payload); err != nil {
		return c.readFailed(err)
	}
	if h.masked {
		mask(h.key, payload)
	}
	if h.op == opPing && !c.controlAllowed() {
		return c.controlFlood()
	}
	switch h.op {
	case opPing:
		if r := c.rare.Load(); r != nil {
			if r.onPing != nil {
				r.onPing(payload)
			}
			if r.onPingConn != nil {
				r.onPingConn(c, payload)
			}
		}
		// RFC 6455 §5.5.2: answer with a pong carrying the same payload,
		// unless the closing handshake has begun.
		if err := c.writeControl(opPong, payload); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	case opPong:
		if r := c.rare.Load(); r != nil {
			if r.onPong != nil {
				r.onPong(payload)
			}
			if r.onPongConn != nil {
				r.onPongConn(c, payload)
			}
		}
		// A pong answering a ping of ours is the peer keeping up with us;
		// the others count against the rate.
		if !c.pongReceived(payload) && !c.controlAllowed() {
			return c.controlFlood()
		}
	case opClose:
		return c.peerClosed(payload)
	}
	return nil
}

// readFailed records a failed read from the network, which closes the
// connection, and returns the error for the read that failed: the
// context's when it ended the read. Later reads report why the connection
// closed. The caller holds readLock; the connection ends at once
// (ioError), with no close frame: the transport is gone, or a context
// ended in the middle of a frame.
func (c *Conn) readFailed(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	c.br.drop()
	ctx := c.rd.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err = c.ioError(ctx, err)
	c.rd.err = c.closedErr()
	return err
}
