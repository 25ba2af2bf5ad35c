package webapi

// Event is one of OpenEvent, MessageEvent, ErrorEvent and CloseEvent, the
// values that Events delivers. Type returns the Web platform's event name.
type Event interface {
	Type() string
	event()
}

// OpenEvent is the open event: the connection is established and ReadyState
// is OPEN. Protocol and Extensions are known from then on.
type OpenEvent struct{}

// MessageEvent is the message event: a whole message arrived while the socket
// was OPEN.
type MessageEvent struct {
	// Data is the message: a string for a text message; for a binary message,
	// a *Blob when BinaryType was BinaryBlob at delivery, or a []byte when it
	// was BinaryArrayBuffer.
	Data any
	// Origin is the origin of the socket's URL, for example
	// "wss://example.com" or "ws://127.0.0.1:8080".
	Origin string
}

// ErrorEvent is the error event: the connection failed (it could not be
// established, it broke, the server broke the protocol or left the closing
// handshake unanswered, or Close was called before it opened). It is always
// followed by a CloseEvent with code 1006.
type ErrorEvent struct {
	// Err says what went wrong. The Web platform tells a script nothing about
	// the cause; a Go program gets it where the platform knows it (the native
	// build). Under GOOS=js it only says that the browser reported a failure.
	Err error
}

// CloseEvent is the close event, the last event of every WebSocket: the
// connection is closed and ReadyState is CLOSED.
type CloseEvent struct {
	// Code is the status code of the peer's close frame; 1005 when that frame
	// had no code; 1006 when the connection closed without a closing
	// handshake (then an ErrorEvent came first).
	Code int
	// Reason is the reason of the peer's close frame, or "".
	Reason string
	// WasClean reports whether the closing handshake completed.
	WasClean bool
}

// Type returns "open".
func (OpenEvent) Type() string { return "open" }

// Type returns "message".
func (MessageEvent) Type() string { return "message" }

// Type returns "error".
func (ErrorEvent) Type() string { return "error" }

// Type returns "close".
func (CloseEvent) Type() string { return "close" }

func (OpenEvent) event()    {}
func (MessageEvent) event() {}
func (ErrorEvent) event()   {}
func (CloseEvent) event()   {}

// Handlers are the functions that receive a WebSocket's events, the onopen,
// onmessage, onerror and onclose attributes of the Web platform. A nil field
// ignores that event. They are called one at a time, in the order the events
// happened, on a goroutine that belongs to the WebSocket; a handler may call
// any method of the WebSocket, and while one runs no other event is
// delivered.
type Handlers struct {
	OnOpen    func(OpenEvent)
	OnMessage func(MessageEvent)
	OnError   func(ErrorEvent)
	OnClose   func(CloseEvent)
}
