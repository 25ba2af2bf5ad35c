// Package webapi is the Web platform's WebSocket interface in Go: the API a
// web page uses (new WebSocket(url, protocols), readyState, onopen,
// onmessage, onerror, onclose, send, close, bufferedAmount, binaryType), with
// the WHATWG WebSockets standard's rules, for Go programs that talk to
// WebSocket servers the way a page does. Compiled with GOOS=js GOARCH=wasm,
// the same API runs on the browser's own WebSocket.
//
// # Life of a WebSocket
//
// New validates its arguments and returns at once, with the WebSocket
// CONNECTING; the connection is made in the background. Its events (open,
// message, error, close) go to the functions given to SetHandlers and to the
// channel returned by Events, whichever the program uses. Events wait in the
// WebSocket's queue until the first call of one of the two, so a program that
// calls it right after New misses none, as a script that sets onopen right
// after the constructor does.
//
// Events are delivered in the order they happened, one at a time, on a
// goroutine of the WebSocket's own: two handlers of one WebSocket never run
// at the same time, and a handler may call any method of the WebSocket.
// ReadyState changes as the events are delivered, as in a browser, where the
// task that fires an event also changes the state: it is OPEN from the open
// event on, and CLOSED from the close event on. It becomes CLOSING as soon as
// Close is called, or when the server starts the closing handshake.
//
// An open WebSocket sends with SendText and SendBinary, which queue the
// message and return at once; BufferedAmount counts the bytes not yet
// written. Close starts the closing handshake; the close event follows with
// the code and reason of the server's close frame and WasClean set. When the
// connection fails (it cannot be established, it breaks, the server sends
// what the protocol forbids or does not answer the closing handshake in time,
// or Close is called while CONNECTING), an error event comes first and the
// close event has code 1006.
// The close event is always the last event.
//
// # Errors
//
// Where the Web platform throws a DOMException, this package returns a
// *DOMException with the same name; errors.Is matches it against ErrSyntax,
// ErrInvalidAccess and ErrInvalidState:
//
//   - New: a URL whose scheme is not ws, wss, http or https, or that has a
//     fragment, or a subprotocol name that is not a token or is repeated:
//     SyntaxError.
//   - Close: a code other than 1000 or 3000–4999: InvalidAccessError; a
//     reason longer than 123 bytes of UTF-8: SyntaxError.
//   - SendText, SendBinary while CONNECTING: InvalidStateError. Once the
//     WebSocket is CLOSING or CLOSED, they return nil and send nothing, but
//     the data still adds to BufferedAmount, as the standard says.
//
// # Binary messages
//
// BinaryType says in which Go type a binary message arrives in
// MessageEvent.Data (a text message is always a string):
//
//   - BinaryBlob ("blob", the default): a *Blob, an immutable value. Nothing
//     can change its bytes, so it can be handed to other goroutines and kept
//     as it is; Bytes returns a copy.
//   - BinaryArrayBuffer ("arraybuffer"): a []byte that belongs to the
//     receiver, to modify or keep without copying.
//
// # Connection caps
//
// An Agent holds the limits a browser puts on the WebSockets of a page: at
// most 200 connections that are not yet CLOSED (Agent.MaxConnections; beyond
// it New fails with an error matching ErrTooManyConnections), and the rule of
// RFC 6455 §4.1 that at most one connection to a host and port is CONNECTING
// at a time: the others wait their turn, in the order New was called, while
// connections to other hosts proceed in parallel. The host is the URL's host
// as written (a name is not resolved to compare addresses).
//
// The package-level New uses a default Agent created with the package. That
// is this package's one piece of process-wide state, on purpose: like a
// browser's cap for a page, its cap of 200 counts every WebSocket the
// process opened with New. Programs that want other limits, or limits per
// part of the program, create Agents of their own.
//
// # Native and browser builds
//
// In a native build, a WebSocket is a client connection of this module's
// core (Dial): it offers permessage-deflate as browsers do, sends no Origin
// header, and fails the connection on a message larger than the core's
// default read limit (32 MiB). An opening handshake is bounded by
// Agent.HandshakeTimeout and a closing handshake by the core's close timeout
// (5 seconds).
//
// Under GOOS=js GOARCH=wasm the package wraps the browser's WebSocket: a
// relative URL is resolved against the page's, the browser applies its own
// limits besides the Agent's, and an ErrorEvent says no more than the browser
// tells a page. The program in internal/wasmdemo shows it in a page.
//
// One difference from a browser in both builds: Close without a code (code
// 0) sends the code 1000, where a browser sends a close frame with no code.
package webapi
