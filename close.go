package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
	"unicode/utf8"

	"github.com/duplexws/websocket/internal/h2stream"
	"github.com/duplexws/websocket/internal/wsconn"
)

// Close performs the closing handshake: it sends a close frame with code and
// reason, waits for the peer's close frame (reading, and discarding data
// messages, if no [Conn.Read] is in progress), then closes the TCP
// connection. The wait is bounded by the close timeout (5 seconds unless set
// in the options); when it runs out, the error wraps [os.ErrDeadlineExceeded].
// A server closes TCP as soon as the peer's close frame arrives; a client
// waits for the server to close first (RFC 6455 §7.1.1).
//
// Close returns nil when the handshake completed, and an error otherwise; a
// second call, or a call after the peer closed, waits for the first to finish
// and returns nil. The reason must be valid UTF-8 of at most 123 bytes, and
// the code one that may be sent (1000–1003, 1007–1014, 3000–4999), or
// [StatusNoStatusRcvd] with no reason: the close frame then carries no code,
// as a browser's close() without arguments sends, and the peer reports 1005.
func (c *Conn) Close(code StatusCode, reason string) error {
	if code == StatusNoStatusRcvd {
		if reason != "" {
			return errors.New("websocket: a close frame without a code has no reason; give a code with the reason")
		}
	} else if err := wsconn.CheckCloseArgs(int(code), reason); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout())
	defer cancel()
	if !c.setClosing(&CloseError{Code: code, Reason: reason}, true, false) {
		select {
		case <-c.ended.Done():
		case <-ctx.Done():
			c.CloseNow()
		}
		return nil
	}
	if err := c.writeClose(code, reason); err != nil {
		c.CloseNow()
		return err
	}
	c.awaitPeerClose(ctx)
	// What happened wins over the timeout when both are there.
	select {
	case <-c.peerCloseDone():
	case <-c.ended.Done():
	case <-ctx.Done():
	}
	if !c.peerCloseSeen() {
		if c.ended.Ended() {
			return fmt.Errorf("websocket: connection closed before the peer answered the close frame: %w", c.closedErr())
		}
		c.CloseNow()
		return fmt.Errorf("websocket: no close frame from the peer within %v: %w", c.closeTimeout(), os.ErrDeadlineExceeded)
	}
	select {
	case <-c.ended.Done():
		return nil
	case <-ctx.Done():
		if c.ended.Ended() {
			return nil
		}
		c.CloseNow()
		return fmt.Errorf("websocket: close handshake done but the server did not close the connection within %v: %w", c.closeTimeout(), os.ErrDeadlineExceeded)
	}
}

// awaitPeerClose returns once the peer's close frame has arrived, reading
// it by itself whenever no Read holds readLock, or once the connection has
// ended or ctx has.
func (c *Conn) awaitPeerClose(ctx context.Context) {
	ctx, cancel := wsconn.WithStop(ctx, c.peerCloseDone())
	defer cancel()
	if c.readLock.Lock(ctx, &c.ended) == nil {
		c.readUntilClose(ctx)
		c.readLock.Unlock()
	}
}

// readUntilClose reads and discards messages until the peer's close frame
// arrives or reading fails, for a Close with no Read in progress; ctx is
// Close's. The caller holds readLock. The contexts of earlier reads play no
// part: the watch lets go of the last one, and the deadline is Close's.
func (c *Conn) readUntilClose(ctx context.Context) {
	if c.rd.err != nil {
		return
	}
	c.rd.ctx = ctx
	c.readWatch.Watch(context.Background(), c.br.nc, false)
	defer c.readWatch.Unwatch()
	c.br.nc.SetReadDeadline(time.Now().Add(c.closeTimeout()))
	var scratch [512]byte
	for c.rd.err == nil {
		if c.rd.inMessage {
			if _, err := c.readMessage(scratch[:]); err != nil && err != io.EOF {
				return
			}
			continue
		}
		h, err := c.nextDataFrame()
		if err != nil {
			return
		}
		// A data frame after our close frame: skip it.
		c.rd.inMessage = false
		if _, err := c.br.Discard(int(h.length)); err != nil {
			c.readFailed(err)
			return
		}
	}
}

// CloseNow closes the TCP connection without a closing handshake. Blocked
// reads and writes return. It is safe to call at any time; calls after the
// first do nothing and return nil. A close frame that is already on its way
// (the answer to the peer's close frame, which the reading goroutine sends
// while a writer's Write fails with the close error, or the frame of a
// [Conn.Close] in progress) is written first: CloseNow waits for it, at
// most the close timeout, so that a deferred CloseNow does not cut off the
// closing handshake. Otherwise it closes at once. On a connection that
// failed (Read returned an error after sending a close frame of its own),
// the TCP connection is closed when the peer has closed its side, or at
// most two seconds later, so that a deferred CloseNow does not turn the
// close frame into a reset.
//
// CloseNow may be called under readLock or msgLock, not under frameLock
// (which the close frame it waits for needs); code holding frameLock ends
// the connection with end.
func (c *Conn) CloseNow() error {
	c.awaitCloseWrite()
	return c.end()
}

// awaitCloseWrite waits until a close frame claimed with setClosing has been
// written or abandoned by writeClose, at most until its deadline; it returns
// at once when none is on its way. The caller must not hold frameLock, nor
// be the goroutine that claimed the frame and has yet to write it.
func (c *Conn) awaitCloseWrite() {
	var written chan struct{}
	var by time.Time
	c.mu.Lock()
	if r := c.rare.Load(); r != nil {
		written, by = r.closeWrite, r.closeBy
	}
	c.mu.Unlock()
	if written == nil {
		return
	}
	select {
	case <-written:
		return
	default:
	}
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	select {
	case <-written:
	case <-t.C:
	}
}

// end ends the connection at once: it is the one place where the connection
// ends (CloseNow is end after the close frame on its way). It takes mu, and
// may be called under readLock, msgLock or frameLock. The transport is
// closed once mu is released: a TLS connection's close sends close_notify,
// a write that may wait.
func (c *Conn) end() error {
	c.mu.Lock()
	nc, ok := c.endLocked()
	stream, _ := c.br.nc.(*h2stream.Conn)
	lingering := c.lingering
	c.mu.Unlock()
	if !ok {
		if stream != nil && !lingering {
			// Another goroutine ended the connection and may be closing
			// the stream: return once it has, with no write under way,
			// so that a handler may return after CloseNow (see Accept).
			stream.Close()
		}
		return nil
	}
	return nc.Close()
}

// endSoon ends the connection at once, as end does, but leaves the close
// of its transport to a goroutine: a shutdown that ends thousands of TLS
// connections does not wait for each one's close_notify in turn.
func (c *Conn) endSoon() {
	c.mu.Lock()
	nc, ok := c.endLocked()
	c.mu.Unlock()
	if ok {
		go nc.Close()
	}
}

// endLocked records the connection's end and tells whatever serves it,
// under mu; it returns the transport for end to close, with ok false when
// the connection had ended already or lingers (see linger), which closes
// it itself.
func (c *Conn) endLocked() (nc net.Conn, ok bool) {
	if c.ended.Ended() {
		return nil, false
	}
	if r := c.rareLocked(); r.closeErr == nil {
		r.closeErr = &CloseError{Code: StatusAbnormalClosure, Reason: "connection closed without a closing handshake"}
	}
	c.ended.Close()
	if c.served != nil {
		c.served.Ended()
	}
	if r := c.rare.Load(); r != nil {
		if w := r.watchers; w != nil {
			if w.server != nil && c.served == nil {
				// An engine's connection is done for its Server once its
				// OnClose has returned: the engine's Closed tells it.
				w.server.connClosed(c)
			}
			if w.cancel != nil {
				w.cancel(r.closeErr)
			}
		}
		if r.keepAlive != nil {
			r.keepAlive.timer.Stop()
		}
		for id, ch := range r.pings {
			close(ch)
			delete(r.pings, id)
		}
	}
	c.readWatch.Release()
	c.writeWatch.Release()
	if c.lingering {
		return nil, false
	}
	return c.br.nc, true
}

// writeClose sends the close frame, bounded by the close timeout from the
// moment it was claimed, then tells awaitCloseWrite it is done. The caller
// claimed the close frame with setClosing (which made closeWrite and set
// closeBy, neither of which changes again).
func (c *Conn) writeClose(code StatusCode, reason string) error {
	r := c.rare.Load() // made by setClosing
	defer close(r.closeWrite)
	var buf [maxControlPayload]byte
	return c.writeControlFrame(opClose, appendClosePayload(buf[:0], code, reason), r.closeBy)
}

// peerClosed handles the peer's close frame: it answers with a close frame
// unless this end sent one first, then ends the connection as RFC 6455 §7.1.1
// asks: the server closes TCP, the client waits for the server to do it.
// The caller holds readLock.
func (c *Conn) peerClosed(payload []byte) error {
	c.markPeerClose()
	ce, failCode, err := parseClosePayload(payload)
	if err != nil {
		return c.fail(failCode, err.Error())
	}
	if c.setClosing(ce, true, false) {
		c.writeClose(ce.Code, "")
	}
	c.rd.err = ce
	if c.client {
		c.linger()
	}
	c.CloseNow()
	return ce
}

// markPeerClose records that the peer's close frame has arrived, valid or
// not: the peer will send no other.
func (c *Conn) markPeerClose() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.peerSeen {
		c.peerSeen = true
		if r := c.rare.Load(); r != nil && r.peerClose != nil {
			close(r.peerClose)
		}
	}
}

// peerCloseDone returns a channel closed when the peer's close frame has
// arrived. The channel is made by the first caller, a Close waiting for the
// frame, so that a connection nobody closes holds none.
func (c *Conn) peerCloseDone() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rareLocked()
	if r.peerClose == nil {
		r.peerClose = make(chan struct{})
		if c.peerSeen {
			close(r.peerClose)
		}
	}
	return r.peerClose
}

// peerCloseSeen reports whether the peer's close frame has arrived.
func (c *Conn) peerCloseSeen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peerSeen
}

// fail fails the connection (RFC 6455 §7.1.7): it sends a close frame with
// code and reason, stops reading, and closes the TCP connection once the
// peer has answered or a short wait has passed, so the close frame is not
// lost to a reset. The caller holds readLock; fail takes mu once, for
// setClosing, and sends the close frame after releasing it.
func (c *Conn) fail(code StatusCode, reason string) error {
	if c.rd.err != nil {
		return c.rd.err
	}
	if len(reason) > wsconn.MaxCloseReason {
		reason = reason[:wsconn.MaxCloseReason]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	ce := &CloseError{Code: code, Reason: reason}
	c.rd.err = ce
	c.rd.frameLeft = 0
	if c.setClosing(ce, true, true) {
		c.writeClose(code, reason)
	}
	go func() {
		c.linger()
		c.CloseNow()
		c.br.nc.Close()
	}()
	return ce
}

// failNow fails the connection as fail does, but closes it once the close
// frame is out, without draining the peer first: a flooding peer would
// keep the reader busy for the whole of the linger.
func (c *Conn) failNow(code StatusCode, reason string) error {
	if c.rd.err != nil {
		return c.rd.err
	}
	ce := &CloseError{Code: code, Reason: reason}
	c.rd.err = ce
	c.rd.frameLeft = 0
	if c.setClosing(ce, true, false) {
		c.writeClose(code, reason)
	}
	go c.CloseNow()
	return ce
}

// linger ends a connection this end has failed, or whose closing handshake
// is done on a client, without losing the close frame to a TCP reset: a
// server shuts down its sending side at once (RFC 6455 §7.1.1: the server
// closes first), then both ends discard what the peer still sends until it
// closes the connection, for a bounded time. A close frame on its way is
// written first (see awaitCloseWrite).
func (c *Conn) linger() {
	c.awaitCloseWrite()
	if cw, ok := c.br.nc.(interface{ CloseWrite() error }); ok && !c.client {
		cw.CloseWrite()
	}
	c.br.nc.SetReadDeadline(time.Now().Add(min(c.closeTimeout(), 2*time.Second)))
	io.Copy(io.Discard, &c.br)
}
