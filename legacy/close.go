package legacy

import (
	"context"
	"fmt"
	"os"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/wsconn"
)

// Close performs the closing handshake: it sends the closing frame
// (0xFF 0x00), waits for the peer's, at most the close timeout (5 seconds
// unless set in the options), then closes the TCP connection. Messages that
// arrive meanwhile are dropped; a Read in progress returns an error holding
// websocket.ErrClosed. Close waits, within the same timeout, for a message
// being written to be finished.
//
// hixie-76's closing frame carries neither a status code nor a reason, so
// code and reason are not sent; they become the *websocket.CloseError in the
// errors of later calls on this side. They are checked as the core's Close
// checks them (a code that may be sent: 1000–1003, 1007–1014, 3000–4999; a
// reason of valid UTF-8 and at most 123 bytes), so code that closes either
// kind of connection behaves the same.
//
// Close returns nil when the handshake completed, and an error otherwise; a
// second call, or a call after the peer closed, waits for the first to finish
// and returns nil.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	if err := wsconn.CheckCloseArgs(int(code), reason); err != nil {
		return fmt.Errorf("legacy: %w", err)
	}
	if !c.closeStarted.CompareAndSwap(false, true) || c.isTCPClosed() {
		timer := time.NewTimer(c.closeTimeout)
		defer timer.Stop()
		select {
		case <-c.tcpClosed.Done():
		case <-timer.C:
			c.closeTCP()
		}
		return nil
	}
	c.setCloseErr(newClosedError(code, reason, nil))
	deadline := c.closeDeadline()
	if err := c.writeClosingFrame(deadline); err != nil {
		c.closeTCP()
		return fmt.Errorf("legacy: sending the closing frame: %w", err)
	}
	err := c.awaitPeerClosing(deadline)
	c.closeTCP()
	return err
}

// CloseNow closes the TCP connection at once, without the closing handshake.
// Blocked reads and writes return. It is safe to call at any time; calls
// after the first do nothing and return nil.
func (c *Conn) CloseNow() error {
	c.closeStarted.Store(true)
	c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "connection closed without a closing handshake", nil))
	c.closeTCP()
	return nil
}

// writeClosingFrame sends the closing frame unless it was sent already,
// waiting until deadline at most for a message being written.
func (c *Conn) writeClosingFrame(deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	switch err := c.writeSem.Lock(ctx, &c.tcpClosed); {
	case err == wsconn.ErrEnded:
		return c.closedErr()
	case err != nil:
		return fmt.Errorf("legacy: a message was still being written when the close timeout ran out: %w", os.ErrDeadlineExceeded)
	}
	defer c.releaseWrite()
	if c.closeSent {
		return nil
	}
	c.closeSent = true
	_ = c.writeWatch.Watch(context.Background(), c.nc, true) // the deadline below is the closing frame's alone
	_ = c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write(closingFrame)
	return err
}

// awaitPeerClosing waits until deadline for the peer's closing frame: the
// reading goroutine finds it if one is reading; otherwise Close reads itself.
func (c *Conn) awaitPeerClosing(deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx, stop := wsconn.WithStop(ctx, c.peerClosed)
	defer stop()
	if c.readSem.Lock(ctx, &c.tcpClosed) == nil {
		_ = c.readWatch.Watch(context.Background(), c.nc, false) // the deadline below is Close's alone
		_ = c.nc.SetReadDeadline(deadline)
		_ = c.nextMessage(context.Background())
		c.releaseRead()
	}
	select {
	case <-c.peerClosed:
		return nil
	default:
	}
	err := c.closedErr()
	if !time.Now().Before(deadline) {
		err = fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
	}
	return fmt.Errorf("legacy: the peer did not answer the closing frame within %v: %w", c.closeTimeout, err)
}
