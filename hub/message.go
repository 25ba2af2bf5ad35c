package hub

import "github.com/duplexws/websocket"

// Message is a message published to a topic.
type Message struct {
	// Type is websocket.MessageText or websocket.MessageBinary; zero means
	// text.
	Type websocket.MessageType
	// Data is the payload. The hub and its broker keep it without copying,
	// so it must not be changed once it has been published.
	Data []byte
}

// messageType returns m's type with the zero value read as text.
func (m Message) messageType() websocket.MessageType {
	if m.Type == 0 {
		return websocket.MessageText
	}
	return m.Type
}
