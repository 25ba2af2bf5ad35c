package webapi

import "strconv"

// ReadyState is the state of a WebSocket's connection, the readyState
// attribute of the Web platform's WebSocket.
type ReadyState uint16

// The four states, with the numeric values of the Web platform's constants.
// A WebSocket moves only forwards: CONNECTING, then OPEN (when the open event
// is delivered) or straight to CLOSED, then CLOSING, then CLOSED (when the
// close event is delivered).
const (
	Connecting ReadyState = 0 // the connection has not been established yet
	Open       ReadyState = 1 // the connection is established; SendText and SendBinary transmit
	Closing    ReadyState = 2 // Close was called or the closing handshake began
	Closed     ReadyState = 3 // the connection is closed or could not be opened
)

// String returns the name of the state as the Web platform spells its
// constant: "CONNECTING", "OPEN", "CLOSING" or "CLOSED".
func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Open:
		return "OPEN"
	case Closing:
		return "CLOSING"
	case Closed:
		return "CLOSED"
	}
	return "ReadyState(" + strconv.Itoa(int(s)) + ")"
}
