package websocket

import (
	"context"
	"fmt"
)

// errReadClosed is what Read and Reader return after CloseRead.
var errReadClosed = fmt.Errorf("%w: Read or Reader called after CloseRead; the connection is read by CloseRead's goroutine", ErrReadOwned)

// CloseRead is for a connection that only writes, a feed pushing updates,
// say. A connection must be read for its pings to be answered and its
// closing handshake to complete; CloseRead starts a goroutine that does
// that reading, and returns a context that ends when the connection
// closes, for the writer to stop on.
//
// The peer is expected to send no data message: the first one closes the
// connection with StatusPolicyViolation. When ctx ends, the connection is
// closed at once (CloseNow). After CloseRead, Read and Reader return an
// error; a second call returns the context of the first.
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	c.mu.Lock()
	r := c.rareLocked()
	if r.closeReadCtx != nil {
		c.mu.Unlock()
		return r.closeReadCtx
	}
	ctx, cancel := context.WithCancel(ctx)
	r.closeReadCtx = ctx
	c.readBy.CompareAndSwap(0, readByCloseRead)
	c.mu.Unlock()
	go func() {
		defer cancel()
		if err := c.readLock.Lock(ctx, &c.ended); err != nil {
			c.CloseNow()
			return
		}
		err := c.nextMessage(ctx)
		c.unlockRead()
		switch {
		case err == nil:
			c.Close(StatusPolicyViolation, "unexpected data message")
		case ctx.Err() != nil:
			c.CloseNow()
		}
	}()
	return ctx
}
