package legacy

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	websocket "github.com/duplexws/websocket"
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
	if err := checkCloseArgs(code, reason); err != nil {
		return err
	}
	if !c.closeStarted.CompareAndSwap(false, true) || c.isTCPClosed() {
		timer := time.NewTimer(c.closeTimeout)
		defer timer.Stop()
		select {
		case <-c.tcpClosed:
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

// checkCloseArgs applies the core's rules for Close's arguments.
func checkCloseArgs(code websocket.StatusCode, reason string) error {
	if !(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999) {
		return fmt.Errorf("legacy: status code %d cannot be given to Close", int(code))
	}
	if len(reason) > 123 {
		return fmt.Errorf("legacy: close reason of %d bytes exceeds the limit of 123", len(reason))
	}
	if !utf8.ValidString(reason) {
		return errors.New("legacy: close reason is not valid UTF-8")
	}
	return nil
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
