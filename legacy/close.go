package legacy

import (
	"context"
	"errors"
	"fmt"
	"time"

	websocket "github.com/duplexws/websocket"
)

// Close performs the closing handshake: it sends the closing frame
// (0xFF 0x00), waits for the peer's, at most the close timeout, and closes
// the TCP connection. Messages that arrive meanwhile are dropped. hixie-76's
// closing frame carries neither a status code nor a reason, so code and
// reason are not sent; they become the *websocket.CloseError in the errors
// of later calls on this side. Close returns nil when the peer answered in
// time, and an error holding websocket.ErrClosed if the connection was
// already closed. Close waits for a message being written to be finished,
// within the same timeout.
func (c *Conn) Close(code websocket.StatusCode, reason string) error {
	if !c.closeStarted.CompareAndSwap(false, true) || c.isTCPClosed() {
		return c.closedErr()
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
// Blocked reads and writes return. It returns an error holding
// websocket.ErrClosed if the connection was already closed.
func (c *Conn) CloseNow() error {
	c.closeStarted.Store(true)
	c.setCloseErr(newClosedError(websocket.StatusAbnormalClosure, "closed by CloseNow", nil))
	if !c.closeTCP() {
		return c.closedErr()
	}
	return nil
}

// writeClosingFrame sends the closing frame unless it was sent already,
// waiting until deadline at most for a message being written.
func (c *Conn) writeClosingFrame(deadline time.Time) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case c.writeSem <- struct{}{}:
	case <-c.tcpClosed:
		return c.closedErr()
	case <-timer.C:
		return errors.New("legacy: a message was still being written when the close timeout ran out")
	}
	defer c.releaseWrite()
	if c.closeSent {
		return nil
	}
	if c.isTCPClosed() {
		return c.closedErr()
	}
	c.closeSent = true
	_ = c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write(closingFrame)
	return err
}

// awaitPeerClosing waits until deadline for the peer's closing frame: the
// reading goroutine finds it if one is reading; otherwise Close reads itself.
func (c *Conn) awaitPeerClosing(deadline time.Time) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-c.peerClosed:
	case <-c.tcpClosed:
	case <-timer.C:
	case c.readSem <- struct{}{}:
		_ = c.nc.SetReadDeadline(deadline)
		_ = c.nextMessage(context.Background())
		c.releaseRead()
	}
	select {
	case <-c.peerClosed:
		return nil
	default:
		return fmt.Errorf("legacy: the peer did not answer the closing frame within %v: %w", c.closeTimeout, c.closedErr())
	}
}
