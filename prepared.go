package websocket

import (
	"context"
	"sync"
	"time"

	"github.com/duplexws/websocket/internal/pmdeflate"
)

// PreparedMessage is a message encoded once and sent on many connections, as a
// broadcast does. The server-side frame (unmasked, and compressed when the
// connection compresses each message on its own) is built on first use for
// each encoding and then shared; client connections, which mask every frame
// with a fresh key, and connections with compression context takeover encode
// it as an ordinary message. A PreparedMessage is safe for concurrent use and
// must not be changed after creation.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu     sync.Mutex
	frames map[pmdeflate.Variant][]byte // by compressed form; the zero Variant is uncompressed
}

// NewPreparedMessage prepares data to be sent as a message of type typ. It
// keeps data; the caller must not change it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) *PreparedMessage {
	return &PreparedMessage{typ: typ, data: data}
}

// frame returns the encoded server frame of variant v, building it with build
// on first use.
func (pm *PreparedMessage) frame(v pmdeflate.Variant, build func() ([]byte, error)) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if f, ok := pm.frames[v]; ok {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	if pm.frames == nil {
		pm.frames = make(map[pmdeflate.Variant][]byte, 1)
	}
	pm.frames[v] = f
	return f, nil
}

// WritePrepared sends a prepared message. On a server connection the frame
// built for the first connection is reused as is; see [PreparedMessage].
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	if c.client {
		return c.Write(ctx, pm.typ, pm.data)
	}
	frame, compress, err := c.preparedFrame(pm)
	if err != nil {
		return err
	}
	if err := c.msgLock.Lock(ctx, &c.ended); err != nil {
		return c.lockErr(err)
	}
	defer c.msgLock.Unlock()
	if err := c.writeEncoded(ctx, frame); err != nil {
		return err
	}
	if compress {
		c.comp.Sent(pm.data)
	}
	return nil
}

// TryWritePrepared sends pm on a server connection if it can start at
// once: no other message is being written and the socket's send buffer
// takes some of the frame now. It reports whether it sent pm; when it did
// not, nothing of pm went out and the caller may write it later, with
// WritePrepared. It never waits for the peer: a broadcast writes each
// receiver that keeps up from one loop, and leaves the others to a
// goroutine of their own. When the socket takes only part of the frame,
// the rest goes out in the background within the connection's close
// timeout (CloseTimeout), and later messages wait for it; if it cannot, the
// connection fails, since the peer would have half a frame. A client
// connection (which masks every frame) never sends here.
func (c *Conn) TryWritePrepared(pm *PreparedMessage) (bool, error) {
	if c.client {
		return false, nil
	}
	frame, compress, err := c.preparedFrame(pm)
	if err != nil {
		return false, err
	}
	if !c.msgLock.TryLock() {
		return false, nil
	}
	if c.ended.Ended() {
		c.msgLock.Unlock()
		return false, c.closedErr()
	}
	if !c.frameLock.TryLock() {
		c.msgLock.Unlock()
		return false, nil
	}
	unlock := func() {
		c.frameLock.Unlock()
		c.msgLock.Unlock()
	}
	if err := c.writable(); err != nil {
		unlock()
		return false, err
	}
	n, ok, err := c.writeNow(frame)
	switch {
	case err != nil:
		unlock()
		return false, c.ioError(context.Background(), err)
	case !ok || n == 0:
		unlock()
		return false, nil
	case n < len(frame):
		go c.writeRest(frame[n:], compress, pm)
		return true, nil
	}
	unlock()
	if compress {
		c.comp.Sent(pm.data)
	}
	return true, nil
}

// preparedFrame returns the server frame of pm for c, built once per
// encoding, and whether it is compressed.
func (c *Conn) preparedFrame(pm *PreparedMessage) ([]byte, bool, error) {
	op, err := dataOpcode(pm.typ)
	if err != nil {
		return nil, false, err
	}
	var v pmdeflate.Variant
	compress := c.compresses(len(pm.data))
	if compress {
		v = c.comp.Variant()
	}
	frame, err := pm.frame(v, func() ([]byte, error) {
		if !compress {
			b := appendFrameHeader(make([]byte, 0, maxHeaderSize+len(pm.data)), frameHeader{fin: true, op: op, length: int64(len(pm.data))})
			return append(b, pm.data...), nil
		}
		payload := pmdeflate.Compress(nil, pm.data, v)
		b := appendFrameHeader(make([]byte, 0, maxHeaderSize+len(payload)), frameHeader{fin: true, rsv: bitRSV1, op: op, length: int64(len(payload))})
		return append(b, payload...), nil
	})
	return frame, compress, err
}

// writeNow writes what the socket takes at once of frame, without
// waiting; the caller holds frameLock. ok is false on a transport that
// cannot write without waiting (TLS, in-memory pipes).
func (c *Conn) writeNow(frame []byte) (n int, ok bool, err error) {
	if c.br.sys != nil {
		n, err = c.br.sys.WriteVecNow(frame, nil)
		return n, true, err
	}
	if w, ok := c.br.nc.(interface {
		WriteVecNow(hdr, p []byte) (int, error)
	}); ok {
		n, err = w.WriteVecNow(frame, nil)
		return n, true, err
	}
	return 0, false, nil
}

// writeRest writes the rest of a prepared frame that TryWritePrepared
// began, within the close timeout, then releases the locks it holds.
func (c *Conn) writeRest(rest []byte, compress bool, pm *PreparedMessage) {
	defer c.msgLock.Unlock()
	defer c.frameLock.Unlock()
	c.br.nc.SetWriteDeadline(time.Now().Add(c.closeTimeout()))
	err := c.writeFull(rest, nil)
	c.br.nc.SetWriteDeadline(time.Time{})
	if err != nil {
		c.ioError(context.Background(), err)
		return
	}
	if compress {
		c.comp.Sent(pm.data)
	}
}
