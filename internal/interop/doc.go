// Package interop holds Duplex's interoperability tests: the package
// websocket, used as a program would use it, against WebSocket
// implementations written elsewhere — headless Chromium, Python's websockets,
// Node's ws, gorilla/websocket and coder/websocket — in both directions, with
// and without permessage-deflate.
//
// The tests need the outside peers installed; see package
// github.com/duplexws/websocket/internal/peer for what to install and how a
// missing peer is reported.
package interop
