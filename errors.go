package websocket

import (
	"errors"
	"fmt"
	"net"
	"slices"
)

// CloseError is the status a connection was closed with: the code and reason of
// the peer's close frame, or the ones this end failed the connection with.
// errors.As finds it in the errors returned by [Conn.Read] and [Conn.Reader]
// after a close, and errors.Is(err, [ErrClosed]) holds for it.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error describes the close status.
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket: closed with status %v", e.Code)
	}
	return fmt.Sprintf("websocket: closed with status %v: %s", e.Code, e.Reason)
}

// Is reports that a CloseError means the connection is closed: it matches
// [ErrClosed] and [net.ErrClosed].
func (e *CloseError) Is(target error) bool { return target == ErrClosed || target == net.ErrClosed }

// CloseStatus returns the code of the *[CloseError] in err's chain, or -1 if there is none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// IsCloseStatus tells whether err carries a *[CloseError] with one of codes:
// CloseStatus(err) among codes. It is gorilla's IsCloseError.
func IsCloseStatus(err error, codes ...StatusCode) bool {
	s := CloseStatus(err)
	return s != -1 && slices.Contains(codes, s)
}

// IsUnexpectedClose tells whether err carries a *[CloseError] whose code
// is none of expected: a close the program did not plan for, worth
// logging. It is gorilla's IsUnexpectedCloseError. An error without a
// CloseError (a write that failed, say) is not a close, and gives false.
func IsUnexpectedClose(err error, expected ...StatusCode) bool {
	s := CloseStatus(err)
	return s != -1 && !slices.Contains(expected, s)
}

var (
	// ErrClosed is reported by every operation on a connection that has been
	// closed, by either end. Errors carrying a *[CloseError] match it too, and
	// it matches [net.ErrClosed], so code written for net.Conn recognises a
	// closed WebSocket.
	ErrClosed error = closedError{}

	// ErrMessageTooBig is reported when a received message exceeds the read
	// limit ([Conn.SetReadLimit]); the connection is then closed with
	// [StatusMessageTooBig].
	ErrMessageTooBig = errors.New("websocket: message exceeds the read limit")

	// ErrReadOwned is wrapped by the error of [Conn.Read] and [Conn.Reader]
	// on a connection that something else reads: the goroutine that
	// [Conn.CloseRead] started, or an [Engine] ([Engine.Serve]), which
	// hands each message to OnMessage with a reader of its own. They fail
	// at once, without waiting for their context.
	ErrReadOwned = errors.New("websocket: the connection is read by something else")

	// ErrPongBehindMessage is wrapped by the error of a [Conn.Ping] made
	// while an Engine's OnMessage runs for the connection, when the pong
	// cannot be read before OnMessage returns: the rest of the message
	// OnMessage was given, or the peer's next message, comes before it.
	// The connection stays usable.
	ErrPongBehindMessage = errors.New("websocket: the pong is behind a message the engine delivers after OnMessage returns")

	// ErrBadHandshake is wrapped by every error that reports a failed opening
	// handshake, [HandshakeError] among them.
	ErrBadHandshake = errors.New("websocket: bad handshake")
)

// closedError is the type of ErrClosed: it unwraps to net.ErrClosed.
type closedError struct{}

func (closedError) Error() string { return "websocket: connection closed" }
func (closedError) Unwrap() error { return net.ErrClosed }

// HandshakeError describes a refused opening handshake: the HTTP status the
// server answered (or the client received) and what was wrong. It wraps
// [ErrBadHandshake]. [Accept] and [Dial] return it.
type HandshakeError struct {
	Status int
	Reason string
}

// Error describes the refused handshake.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("websocket: bad handshake: %s (HTTP %d)", e.Reason, e.Status)
}

// Unwrap lets errors.Is match [ErrBadHandshake].
func (e *HandshakeError) Unwrap() error { return ErrBadHandshake }
