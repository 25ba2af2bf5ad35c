// Package legacy speaks hixie-76, the WebSocket protocol of
// draft-hixie-thewebsocketprotocol-76 (published again as
// draft-ietf-hybi-thewebsocketprotocol-00), for the old clients that never
// learned RFC 6455.
//
// A server serves both protocols on one handler by asking IsHixie76 first:
//
//	if legacy.IsHixie76(r) {
//		c, err := legacy.Accept(w, r, nil)
//		...
//	} else {
//		c, err := websocket.Accept(w, r, nil)
//		...
//	}
//
// hixie-76 carries only text: a message is the byte 0x00, UTF-8 text and the
// byte 0xFF; the closing handshake is the two bytes 0xFF 0x00 in each
// direction. There are no pings, no binary messages and no close status codes.
// The *Conn of this package has the reading and writing methods of the core's
// *websocket.Conn, with the same names, signatures and error values, so code
// that moves text messages works with either.
//
// Dial is a hixie-76 client, for tests and for the rare program that must talk
// to a hixie-76 server.
package legacy
