package websocket

import (
	"context"
	"sync"

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
	op, err := dataOpcode(pm.typ)
	if err != nil {
		return err
	}
	if c.client {
		return c.Write(ctx, pm.typ, pm.data)
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
