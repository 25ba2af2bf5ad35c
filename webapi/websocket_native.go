//go:build !js

package webapi

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/duplexws/websocket"
)

// resolveURL returns url as is: outside a browser there is no base URL to
// resolve a relative one against, so parseURL refuses it.
func resolveURL(url string) string { return url }

// connect runs the connection of ws: it waits for its turn at the host
// (RFC 6455 §4.1), performs the opening handshake with the core's Dial, then
// reads messages until the connection closes.
func (ws *WebSocket) connect(ctx context.Context) {
	conn, err := ws.dial(ctx)
	if err != nil {
		ws.closed(err, 0, "")
		return
	}
	tr := newConnTransport(conn)
	if !ws.established(tr, conn.Subprotocol(), conn.Extensions()) {
		conn.CloseNow()
		ws.closed(errClosedBeforeOpen, 0, "")
		return
	}
	go tr.writeAll()
	for {
		typ, p, err := conn.Read(context.Background())
		if err != nil {
			ws.readFailed(err, tr.finish())
			return
		}
		ws.push(task{kind: taskMessage, text: typ == websocket.MessageText, data: p}, true)
	}
}

// dial waits for the host's turn and performs the opening handshake.
func (ws *WebSocket) dial(ctx context.Context) (*websocket.Conn, error) {
	if err := ws.waitTurn(ctx); err != nil {
		return nil, err
	}
	defer ws.agent.leave(ws.turn)
	if timeout := ws.agent.handshakeTimeout(); timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	conn, _, err := websocket.Dial(ctx, ws.u.href, &websocket.DialOptions{
		Subprotocols: ws.protocols,
		// Browsers offer permessage-deflate on every connection; so does this.
		Compression: &websocket.CompressionOptions{},
	})
	if err != nil {
		return nil, err
	}
	// The WebSockets standard fails a connection when subprotocols were
	// offered and the server selected none.
	if len(ws.protocols) > 0 && conn.Subprotocol() == "" {
		conn.CloseNow()
		return nil, fmt.Errorf("webapi: the server selected none of the subprotocols %q", ws.protocols)
	}
	return conn, nil
}

// readFailed reports the end of the connection that made Read fail with
// err; closeErr is the outcome of the closing handshake this end started, if
// it started one. A close frame from the peer, answered by the core, makes a
// clean close with the peer's code and reason, unless the handshake this end
// started failed; anything else is a failure.
//
// The core reports a protocol error or invalid UTF-8 it found in what the
// server sent as a CloseError with 1002 or 1007, as it would a close frame
// with those codes from the server. A server has no cause to send them to
// this client, whose frames and text are always valid, so both count as the
// failure a browser reports for its own findings.
func (ws *WebSocket) readFailed(err, closeErr error) {
	if closeErr != nil {
		ws.closed(closeErr, 0, "")
		return
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || errors.Is(err, websocket.ErrMessageTooBig) {
		ws.closed(err, 0, "")
		return
	}
	switch ce.Code {
	case websocket.StatusAbnormalClosure, websocket.StatusProtocolError, websocket.StatusInvalidFramePayloadData:
		ws.closed(err, 0, "")
		return
	}
	ws.push(task{kind: taskClosing}, false)
	ws.closed(nil, int(ce.Code), ce.Reason)
}

// connTransport is the native transport: the core's Conn with a queue of
// outgoing messages that one goroutine writes in order, so SendText and
// SendBinary never wait for the network.
type connTransport struct {
	conn *websocket.Conn

	mu      sync.Mutex
	wake    sync.Cond
	queue   []outgoing
	pending uint64     // bytes of data messages in queue or being written
	stopped bool       // the connection is closed; nothing more is written
	closing chan error // receives the outcome of the closing handshake once writeAll starts it
}

// outgoing is a queued message, or the close frame when isClose is set.
type outgoing struct {
	text    bool
	data    []byte
	isClose bool
	code    int
	reason  string
}

func newConnTransport(conn *websocket.Conn) *connTransport {
	t := &connTransport{conn: conn}
	t.wake.L = &t.mu
	return t
}

func (t *connTransport) send(text bool, p []byte) {
	t.mu.Lock()
	t.queue = append(t.queue, outgoing{text: text, data: p})
	t.pending += uint64(len(p))
	t.wake.Signal()
	t.mu.Unlock()
}

func (t *connTransport) close(code int, reason string) {
	t.mu.Lock()
	t.queue = append(t.queue, outgoing{isClose: true, code: code, reason: reason})
	t.wake.Signal()
	t.mu.Unlock()
}

func (t *connTransport) abort() {
	t.mu.Lock()
	t.stopped = true
	t.wake.Signal()
	t.mu.Unlock()
	t.conn.CloseNow()
}

func (t *connTransport) buffered() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// finish stops writeAll once the connection has closed: what is still queued
// is never written and stays counted in pending. When writeAll had started
// the closing handshake, finish waits for it (the core bounds it by its close
// timeout) and returns its outcome; otherwise it returns nil.
func (t *connTransport) finish() error {
	t.mu.Lock()
	t.stopped = true
	t.wake.Signal()
	closing := t.closing
	t.mu.Unlock()
	if closing == nil {
		return nil
	}
	return <-closing
}

// writeAll writes the queued messages in order until the close frame is out
// or the connection is stopped.
func (t *connTransport) writeAll() {
	for {
		t.mu.Lock()
		for len(t.queue) == 0 && !t.stopped {
			t.wake.Wait()
		}
		if t.stopped {
			t.mu.Unlock()
			return
		}
		m := t.queue[0]
		t.queue[0] = outgoing{}
		t.queue = t.queue[1:]
		if m.isClose {
			t.closing = make(chan error, 1)
		}
		t.mu.Unlock()

		if m.isClose {
			// code is never 0 here: Close turns an absent code into 1000,
			// since the core sends no close frame without one.
			t.closing <- t.conn.Close(websocket.StatusCode(m.code), m.reason)
			return
		}
		typ := websocket.MessageBinary
		if m.text {
			typ = websocket.MessageText
		}
		if err := t.conn.Write(context.Background(), typ, m.data); err != nil {
			// The connection broke: the read side reports it.
			return
		}
		t.mu.Lock()
		t.pending -= uint64(len(m.data))
		t.mu.Unlock()
	}
}
