package websocket

import "strconv"

// MessageType is the type of a WebSocket message: text (UTF-8, a string in a
// browser) or binary (an ArrayBuffer or Blob in a browser).
type MessageType int

// The two message types of RFC 6455 §5.6; their values are the frame opcodes.
const (
	MessageText   MessageType = 1
	MessageBinary MessageType = 2
)

// String returns "text", "binary", or the number of an unknown type.
func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}
