package webapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
)

// WebSocket is a client connection with the interface of the Web platform's
// WebSocket. Create one with New or Agent.New; it connects in the background.
// Receive its events with SetHandlers or Events; send with SendText and
// SendBinary once it is OPEN; end it with Close.
//
// All methods are safe for concurrent use, and none blocks on the network.
type WebSocket struct {
	agent     *Agent
	u         *socketURL
	protocols []string
	turn      *turn              // place in the Agent's line for the host
	cancel    context.CancelFunc // ends the connecting phase

	mu         sync.Mutex
	state      ReadyState
	protocol   string
	extensions string
	binaryType BinaryType
	unsent     uint64    // bytes given to SendText or SendBinary once CLOSING or CLOSED
	tr         transport // nil until the connection is established
	aborted    error     // why Close failed the connection before it opened
	loop       eventLoop
}

// transport is an established connection under a WebSocket: the core's Conn
// in the native build, the browser's WebSocket under GOOS=js. Its methods
// never block on the network.
type transport interface {
	// send queues a message, to go out after those queued before.
	send(text bool, p []byte)
	// close starts the closing handshake once the queued messages are out.
	close(code int, reason string)
	// abort drops the connection at once.
	abort()
	// buffered returns the bytes of queued messages not yet transmitted,
	// including those that never will be because the connection closed.
	buffered() uint64
}

// New creates a WebSocket to url offering the given subprotocols, and starts
// connecting in the background, as the Web platform's WebSocket constructor
// does. It returns at once, with the WebSocket CONNECTING.
//
// url must be absolute, with the scheme ws, wss, http (meaning ws) or https
// (meaning wss), and without a fragment; each protocol must be a token
// (RFC 7230 §3.2.6) and none may repeat. Otherwise New returns an error
// matching ErrSyntax. Under GOOS=js a relative url is resolved against the
// page's URL first.
//
// New returns an error matching ErrTooManyConnections when a.MaxConnections
// WebSockets of a are not yet CLOSED. Connections to the same host and port
// open one at a time, in the order New created them (RFC 6455 §4.1).
func (a *Agent) New(url string, protocols ...string) (*WebSocket, error) {
	u, err := parseURL(resolveURL(url))
	if err != nil {
		return nil, err
	}
	if err := validateProtocols(protocols); err != nil {
		return nil, err
	}
	if err := a.reserve(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws := &WebSocket{
		agent:      a,
		u:          u,
		protocols:  append([]string(nil), protocols...),
		turn:       a.queue(u.hostPort),
		cancel:     cancel,
		binaryType: BinaryBlob,
	}
	ws.loop.cond.L = &ws.mu
	go ws.connect(ctx)
	return ws, nil
}

// URL returns the URL of the WebSocket after parsing, for example
// "ws://example.com/chat" for "HTTP://Example.com:80/chat".
func (ws *WebSocket) URL() string { return ws.u.href }

// ReadyState returns the state of the connection. It changes as events are
// delivered: OPEN with the open event, CLOSED with the close event; CLOSING
// when Close is called or when the peer starts the closing handshake.
func (ws *WebSocket) ReadyState() ReadyState {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.state
}

// Protocol returns the subprotocol the server selected, or "" before the open
// event and when none was offered.
func (ws *WebSocket) Protocol() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.protocol
}

// Extensions returns the extensions the server accepted, as its
// Sec-WebSocket-Extensions header listed them, or "" before the open event.
func (ws *WebSocket) Extensions() string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.extensions
}

// BufferedAmount returns the bytes of application data (text as UTF-8,
// binary as is, no framing) that [WebSocket.SendText] and
// [WebSocket.SendBinary] accepted and that have not been handed to the
// network yet. Once the WebSocket is CLOSING or CLOSED, sending only adds to
// it, and what was still queued when the connection closed stays
// counted: the amount never goes back to zero.
func (ws *WebSocket) BufferedAmount() uint64 {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	n := ws.unsent
	if ws.tr != nil {
		n += ws.tr.buffered()
	}
	return n
}

// BinaryType returns the form binary messages are delivered in; BinaryBlob
// unless SetBinaryType changed it.
func (ws *WebSocket) BinaryType() BinaryType {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.binaryType
}

// SetBinaryType sets the form binary messages are delivered in. It applies to
// the messages delivered after it returns, including those already received.
// A value other than BinaryBlob and BinaryArrayBuffer is an error (where a
// browser would ignore it silently).
func (ws *WebSocket) SetBinaryType(t BinaryType) error {
	if t != BinaryBlob && t != BinaryArrayBuffer {
		return fmt.Errorf("webapi: unknown BinaryType %q; use %q or %q", string(t), BinaryBlob, BinaryArrayBuffer)
	}
	ws.mu.Lock()
	ws.binaryType = t
	ws.mu.Unlock()
	return nil
}

// SendText sends s as a text message. Bytes of s that are not valid UTF-8
// each become U+FFFD first. See SendBinary for when it fails and what it
// adds to BufferedAmount.
func (ws *WebSocket) SendText(s string) error {
	return ws.send(true, []byte(usvString(s)))
}

// SendBinary sends a copy of p as a binary message.
//
// While the WebSocket is CONNECTING it returns an error matching
// ErrInvalidState. Otherwise it returns nil at once, with the message
// queued; BufferedAmount grows by its length until it is written. Once the
// WebSocket is CLOSING or CLOSED the message is not sent, but it is still
// counted in BufferedAmount, as the Web platform does.
func (ws *WebSocket) SendBinary(p []byte) error {
	return ws.send(false, bytes.Clone(p))
}

func (ws *WebSocket) send(text bool, p []byte) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	switch ws.state {
	case Connecting:
		return &DOMException{Name: "InvalidStateError", Message: "send on a WebSocket that is still CONNECTING; wait for the open event"}
	case Open:
		ws.tr.send(text, p)
	default:
		ws.unsent += uint64(len(p))
	}
	return nil
}

// Close closes the connection with a status code and a reason, as the Web
// platform's close(code, reason) does. code 0 stands for no code given; the
// close frame then carries 1000 (a browser sends a close frame without a code
// in that case, which the core cannot send; both mean a normal closure).
//
// It returns an error matching ErrInvalidAccess when code is neither 0, 1000
// nor in 3000–4999, and one matching ErrSyntax when reason is longer than 123
// bytes of UTF-8. Otherwise it returns at once, with the WebSocket CLOSING
// (or already CLOSING or CLOSED, when it does nothing): the close event
// follows when the closing handshake is over, with the code and reason the
// server answered with. Messages sent before Close go out before the close
// frame; messages received after it are not delivered.
//
// Close on a CONNECTING WebSocket fails the connection: an error event and a
// close event with code 1006 follow, and the open event never comes.
func (ws *WebSocket) Close(code int, reason string) error {
	reason, err := validateClose(code, reason)
	if err != nil {
		return err
	}
	if code == 0 {
		code = 1000
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	// A reader waiting for room in the queue stops waiting: messages received
	// from now on are dropped.
	defer ws.loop.cond.Broadcast()
	switch ws.state {
	case Connecting:
		ws.state = Closing
		ws.aborted = errClosedBeforeOpen
		ws.cancel()
		if ws.tr != nil {
			ws.tr.abort()
		}
	case Open:
		ws.state = Closing
		ws.tr.close(code, reason)
	}
	return nil
}

// waitTurn returns once no other WebSocket of the Agent is CONNECTING to
// the same host and port (RFC 6455 §4.1), or with an error when ctx ends
// first. After a nil error the caller must call ws.agent.leave(ws.turn) when
// its handshake is over.
func (ws *WebSocket) waitTurn(ctx context.Context) error {
	select {
	case <-ws.turn.ready:
		return nil
	case <-ctx.Done():
		ws.agent.leave(ws.turn)
		return fmt.Errorf("webapi: waiting for the other connection to %s to open: %w", ws.u.hostPort, ctx.Err())
	}
}

var errClosedBeforeOpen = errors.New("webapi: Close was called before the connection was established")

// established installs the transport of a connection whose handshake
// succeeded and queues the open task. It reports false, having done
// nothing, when Close failed the connection meanwhile.
func (ws *WebSocket) established(tr transport, protocol, extensions string) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.aborted != nil {
		return false
	}
	ws.tr = tr
	ws.loop.queue = append(ws.loop.queue, task{kind: taskOpen, protocol: protocol, extensions: extensions})
	ws.loop.cond.Broadcast()
	return true
}

// closed reports that the connection is closed: it gives the WebSocket's
// place under the Agent's cap back and queues the close task. err is why the
// connection failed, or nil when it closed with a close frame from the peer.
// A failure reports code 1006 with no reason, and a Close before the open
// event counts as one.
func (ws *WebSocket) closed(err error, code int, reason string) {
	ws.cancel()
	ws.mu.Lock()
	if ws.aborted != nil {
		err = ws.aborted
	}
	ws.mu.Unlock()
	ev := CloseEvent{Code: code, Reason: reason, WasClean: err == nil}
	if err != nil {
		ev = CloseEvent{Code: 1006}
	}
	ws.agent.release()
	ws.push(task{kind: taskClosed, err: err, close: ev}, false)
}
