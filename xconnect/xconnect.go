// Package xconnect turns on extended CONNECT (RFC 8441) in net/http's
// HTTP/2 server, so that browsers open WebSockets to a Go server as streams
// of the HTTP/2 connection they already hold. Import it for its side effect,
// in package main:
//
//	import _ "github.com/duplexws/websocket/xconnect"
//
// It does what starting the process with GODEBUG=http2xconnect=1 in its
// environment does. net/http reads that variable once, in its own
// initialization, and a //go:debug directive does not reach it; this package
// sets the variable before net/http reads it. That works because Go
// initializes packages in import path order wherever their dependencies
// allow (the Go 1.21 specification, "Package initialization"), and this
// package, which depends only on os and strings, sorts before net/http.
//
// Once it is on, every HTTP/2 server in the process advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL, and browsers will open every WebSocket
// to them over HTTP/2: serve those with Duplex's Accept, which handles both.
// The variable is also inherited by child processes. A GODEBUG that already
// names http2xconnect, to turn it on or off, is left as it is.
package xconnect

import (
	"os"
	"strings"
)

func init() {
	v := os.Getenv("GODEBUG")
	if strings.Contains(v, "http2xconnect=") {
		return
	}
	if v != "" {
		v += ","
	}
	os.Setenv("GODEBUG", v+"http2xconnect=1")
}
