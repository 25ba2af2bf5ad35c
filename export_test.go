package websocket

// EchoHandler lends the internal tests' echo server to the external ones.
var EchoHandler = echoHandler
