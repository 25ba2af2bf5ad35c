package websocket

import "context"

// Context returns a context that is canceled when the connection has
// ended: its transport is closed (after a failure, it closes once the
// peer has, or shortly after; see [Conn.CloseNow]) and every method returns
// an error matching [ErrClosed]. It ends however the connection ends:
// [Conn.Close], CloseNow, the peer's close frame or a broken transport;
// [context.Cause] then returns why, a *[CloseError] as Read would have
// returned it. On a connection an [Engine] serves, it is canceled before
// OnClose is called.
//
// The context is for what outlives a message but not its connection, where
// no Read is there to return an error: a subscription, a timer, a query
// made on the connection's behalf. [context.AfterFunc] on it runs a
// function when the connection ends without a goroutine waiting meanwhile,
// which matters on an Engine, where the connection itself has none. The
// context is made by the first call, so a connection on which Context is
// never called holds none; later calls return the same context.
func (c *Conn) Context() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.watchersLocked()
	if w.ctx == nil {
		w.ctx, w.cancel = context.WithCancelCause(context.Background())
		if c.ended.Ended() {
			w.cancel(c.rare.Load().closeErr)
		}
	}
	return w.ctx
}
