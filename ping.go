package websocket

import (
	"context"
	"encoding/binary"
	"time"
)

// Ping sends a ping and waits for its pong. The pong is seen by a [Conn.Read]
// or [Conn.Reader] in progress, so another goroutine must be reading. ctx bounds the wait.
func (c *Conn) Ping(ctx context.Context) error {
	c.mu.Lock()
	if c.ended.Ended() {
		c.mu.Unlock()
		return c.closedErr()
	}
	r := c.rareLocked()
	r.pingSeq++
	id := r.pingSeq
	pong := make(chan struct{})
	if r.pings == nil {
		r.pings = make(map[uint64]chan struct{})
	}
	r.pings[id] = pong
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(r.pings, id)
		c.mu.Unlock()
	}()
	var payload [8]byte
	binary.BigEndian.PutUint64(payload[:], id)
	if err := c.writeControl(opPing, payload[:]); err != nil {
		return err
	}
	select {
	case <-pong:
		select {
		case <-c.ended.Done():
			return c.closedErr()
		default:
			return nil
		}
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ended.Done():
		return c.closedErr()
	}
}

// pongReceived completes the Ping whose payload the pong carries. Pongs with
// any other payload, unsolicited ones included (RFC 6455 §5.5.3), are ignored.
func (c *Conn) pongReceived(payload []byte) {
	if len(payload) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	c.mu.Lock()
	if r := c.rare.Load(); r != nil {
		if ch, ok := r.pings[id]; ok {
			close(ch)
			delete(r.pings, id)
		}
	}
	c.mu.Unlock()
}

// startKeepAlive pings the peer every interval and closes the connection when
// a pong does not come back within timeout (interval when zero). Between
// pings it holds a timer, not a goroutine, so that an idle connection served
// by an Engine holds none.
func (c *Conn) startKeepAlive(interval, timeout time.Duration) {
	if timeout <= 0 {
		timeout = interval
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rareLocked()
	r.keepAlive = time.AfterFunc(interval, func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := c.Ping(ctx)
		cancel()
		if err != nil {
			c.setClosing(&CloseError{Code: StatusAbnormalClosure, Reason: "keep-alive: no pong within " + timeout.String()}, false, false)
			c.CloseNow()
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.ended.Ended() {
			r.keepAlive.Reset(interval)
		}
	})
}
