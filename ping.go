package websocket

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"
)

// Ping sends a ping and waits for its pong. ctx bounds the wait.
//
// The pong is seen by whatever reads the connection: a [Conn.Read] or
// [Conn.Reader] in progress, so another goroutine must be reading; the
// goroutine of [Conn.CloseRead]; or an [Engine], which reads a connection
// between two calls of OnMessage. While OnMessage runs for the connection
// (inside OnMessage, or from another goroutine meanwhile), Ping reads the
// connection's control frames itself once the message OnMessage was given
// has been read to its end: it returns when the pong arrives, and fails at
// once, with an error wrapping [ErrPongBehindMessage], when the rest of
// that message or the peer's next message stands before the pong, which
// the engine reads only after OnMessage returns.
func (c *Conn) Ping(ctx context.Context) error {
	c.mu.Lock()
	if c.ended.Ended() {
		c.mu.Unlock()
		return c.closedErr()
	}
	served := c.served
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
	if served != nil && served.Delivering() {
		if err := c.readPong(ctx, pong); err != nil {
			return err
		}
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

// SendPing sends a ping carrying payload (at most 125 bytes) and returns
// once it is written, without waiting for the pong: the pong goes to the
// OnPong hooks of the options, as gorilla's WriteControl(PingMessage, ...)
// leaves it to the pong handler. It waits for the connection's turn to
// write and for the write at most the close timeout, as the pongs the
// connection answers do. After the close frame went out it fails with an
// error matching [ErrClosed].
func (c *Conn) SendPing(payload []byte) error {
	if len(payload) > maxControlPayload {
		return fmt.Errorf("websocket: ping payload of %d bytes exceeds the limit of %d (RFC 6455 §5.5)", len(payload), maxControlPayload)
	}
	return c.writeControl(opPing, payload)
}

// readPong reads the control frames that come before the next message
// until the pong arrives, for a Ping made while OnMessage runs, when the
// engine does not read the connection. It stops, failing, at the first
// byte of a message.
func (c *Conn) readPong(ctx context.Context, pong <-chan struct{}) error {
	if err := c.readLock.Lock(ctx, &c.ended); err != nil {
		return c.lockErr(err)
	}
	defer c.unlockRead()
	if c.rd.err != nil {
		return c.rd.err
	}
	if c.rd.inMessage {
		return fmt.Errorf("%w: OnMessage has not read its message to the end", ErrPongBehindMessage)
	}
	if err := c.readWatch.Watch(ctx, c.br.nc, false); err != nil {
		return err
	}
	c.rd.ctx = ctx
	for {
		select {
		case <-pong:
			return nil
		default:
		}
		p, err := c.br.Peek(2)
		if err != nil {
			return c.readFailedBetween(err)
		}
		if !opcode(p[0] & 0x0F).isControl() {
			return fmt.Errorf("%w: the peer's next message came first", ErrPongBehindMessage)
		}
		if _, err := c.nextFrame(); err != nil {
			return err
		}
	}
}

// pongReceived completes the Ping whose payload the pong carries, and
// reports whether it answered a ping of this end. Pongs with any other
// payload, unsolicited ones included (RFC 6455 §5.5.3), are ignored.
func (c *Conn) pongReceived(payload []byte) (answered bool) {
	if len(payload) != 8 {
		return false
	}
	id := binary.BigEndian.Uint64(payload)
	c.mu.Lock()
	if r := c.rare.Load(); r != nil {
		if k := r.keepAlive; k != nil && k.want == id {
			k.want = 0
			k.due = time.Now().Add(k.interval)
			k.timer.Reset(k.interval)
			answered = true
		}
		if ch, ok := r.pings[id]; ok {
			close(ch)
			delete(r.pings, id)
			answered = true
		}
	}
	c.mu.Unlock()
	return answered
}

// keepAlive is the state of a connection's keep-alive pings, guarded by
// Conn.mu. One timer drives it: when it fires with no ping awaiting its
// pong, the next ping goes out and the timer waits for the pong; the pong
// (see pongReceived) sets it for the next ping, an interval later. So an
// idle connection holds a timer, and no goroutine even while a ping is on
// its way.
type keepAlive struct {
	timer    *time.Timer
	interval time.Duration
	timeout  time.Duration
	want     uint64    // the payload of the ping awaiting its pong; 0 when none
	due      time.Time // when the timer should act: the next ping, or the pong's deadline
}

// startKeepAlive pings the peer every interval and closes the connection when
// a pong does not come back within timeout (interval when zero).
func (c *Conn) startKeepAlive(interval, timeout time.Duration) {
	if timeout <= 0 {
		timeout = interval
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := &keepAlive{interval: interval, timeout: timeout, due: time.Now().Add(interval)}
	k.timer = time.AfterFunc(interval, c.keepAliveTick)
	c.rareLocked().keepAlive = k
}

// keepAliveTick runs when the keep-alive timer fires: it sends the next
// ping, or closes the connection when the last one's pong is late. A
// timer that fires early, having been reset meanwhile, is set again.
//
// While an Engine delivers a message (OnMessage runs), it reads no pong:
// the deadline then moves on by a timeout, the message in progress being
// as good a sign of life.
func (c *Conn) keepAliveTick() {
	c.mu.Lock()
	r := c.rare.Load()
	if c.ended.Ended() || r == nil || r.keepAlive == nil {
		c.mu.Unlock()
		return
	}
	k := r.keepAlive
	now := time.Now()
	if wait := k.due.Sub(now); wait > 0 {
		k.timer.Reset(wait)
		c.mu.Unlock()
		return
	}
	if k.want != 0 {
		if c.served != nil && c.served.Delivering() {
			k.due = now.Add(k.timeout)
			k.timer.Reset(k.timeout)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.setClosing(&CloseError{Code: StatusAbnormalClosure, Reason: "keep-alive: no pong within " + k.timeout.String()}, false, false)
		c.CloseNow()
		return
	}
	r.pingSeq++
	k.want = r.pingSeq
	k.due = now.Add(k.timeout)
	k.timer.Reset(k.timeout)
	c.mu.Unlock()
	var payload [8]byte
	binary.BigEndian.PutUint64(payload[:], k.want)
	// A failed write means the connection is ending; its end stops the timer.
	c.writeControl(opPing, payload[:])
}
