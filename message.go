package websocket

import (
	"strconv"
	"sync"
)

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

// PreparedMessage is a message encoded once and sent on many connections, as a
// broadcast does. The server-side frame (unmasked, and compressed when the
// connection compresses each message on its own) is built on first use for
// each encoding and then shared; client connections, which mask every frame
// with a fresh key, and connections with compression context takeover encode
// it as an ordinary message. A PreparedMessage is safe for concurrent use and
// must not be changed after creation.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu     sync.Mutex
	frames map[frameVariant][]byte
}

// frameVariant names one encoding of a prepared message.
type frameVariant struct {
	compressed bool
	level      int
	windowBits int
}

// NewPreparedMessage prepares data to be sent as a message of type typ. It
// keeps data; the caller must not change it afterwards.
func NewPreparedMessage(typ MessageType, data []byte) *PreparedMessage {
	return &PreparedMessage{typ: typ, data: data}
}

// frame returns the encoded server frame of variant v, building it with build
// on first use.
func (pm *PreparedMessage) frame(v frameVariant, build func() ([]byte, error)) ([]byte, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if f, ok := pm.frames[v]; ok {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	if pm.frames == nil {
		pm.frames = make(map[frameVariant][]byte, 1)
	}
	pm.frames[v] = f
	return f, nil
}
