// Package wshttp is the HTTP side of the WebSocket opening handshakes:
// header tokens and the same-origin policy that the core package and
// package legacy share, and the core package's handshake mechanics over
// HTTP/1.1 and HTTP/2 (RFC 8441) at both ends. A server checks the request
// (CheckUpgrade, CheckExtendedConnect), chooses a subprotocol, and answers
// (Switch with 101, AcceptStream with 200) or refuses (SetRefusalHeaders);
// a client builds the request (Request), opens the connection through a
// proxy and TLS (Dialer), and checks the answer (RoundTrip, CheckResponse),
// or goes through an http.Client (DialThrough) or an HTTP/2 connection
// (DialHTTP2). A refused handshake is a *Refusal, which the core package
// turns into its HandshakeError.
//
// Its error messages speak as package websocket's: they reach users inside
// its errors, where an internal package's name means nothing.
package wshttp
