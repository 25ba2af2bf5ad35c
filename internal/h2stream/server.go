package h2stream

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// ExtendedConnectEnabled reports whether net/http's HTTP/2 server in this
// process advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
//
// Go 1.24 turned extended CONNECT off by default (golang.org/issue/71128)
// and on only when GODEBUG holds http2xconnect=1 as the process starts:
// net/http reads the variable once, in its init, which runs before this
// package's. TestExtendedConnectGODEBUG fails when a release changes either.
var ExtendedConnectEnabled = strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")

// HowToEnable is the advice given when a request shows that extended
// CONNECT is off.
const HowToEnable = "start the server with GODEBUG=http2xconnect=1 in its environment, or import github.com/duplexws/websocket/xconnect in package main"

// Protocol returns the :protocol pseudo-header of an HTTP/2 request, which
// net/http's server hands on as a header field of that name since Go 1.24
// (TestProtocolPseudoHeader).
func Protocol(r *http.Request) string { return r.Header.Get(":protocol") }

// NewServerConn makes the stream of an accepted extended CONNECT, whose
// 200 response w has sent, a net.Conn: the request body reads what the
// client sends, the ResponseWriter writes, flushing each write.
func NewServerConn(w http.ResponseWriter, rc *http.ResponseController, r *http.Request) *Conn {
	ctx := r.Context()
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	return newConn(&Conn{
		r: r.Body,
		w: &responseStream{ctx: ctx, w: w, rc: rc},
		abortWrite: func() {
			// Resetting the stream is the one way to end a write that
			// waits for flow control; net/http does it when a write
			// deadline passes (Go 1.20's ResponseController;
			// TestWriteDeadlineEndsBlockedWrite).
			handlerAlive(ctx, func() { rc.SetWriteDeadline(time.Unix(1, 0)) })
		},
		// The stream's END_STREAM goes out when the handler returns, as it
		// does for any response; until then, closing stops reading.
		closeFn: func() error { return r.Body.Close() },
		local:   addrOf(local, ""),
		remote:  addrOf(nil, r.RemoteAddr),
	})
}

// responseStream writes a WebSocket's bytes to an HTTP/2 response.
type responseStream struct {
	ctx context.Context // the request's: it ends as the handler returns
	w   http.ResponseWriter
	rc  *http.ResponseController
}

func (s *responseStream) Write(p []byte) (n int, err error) {
	err = ErrHandlerReturned
	handlerAlive(s.ctx, func() {
		n, err = s.w.Write(p)
		if err == nil {
			err = s.rc.Flush()
		}
	})
	return n, err
}

// ErrHandlerReturned is the error of a write to a stream whose handler has
// returned.
var ErrHandlerReturned = fmt.Errorf("the HTTP/2 stream ended (its handler returned, or the client reset it): %w", io.ErrClosedPipe)

// handlerAlive calls f unless the request's context has ended, which over
// HTTP/2 happens as the handler returns, just before net/http invalidates
// its ResponseWriter. A write from another goroutine racing with the
// handler's return makes net/http panic ("Write called after Handler
// finished", every release up to Go 1.26 at least:
// TestWriteAfterHandlerPanics); that panic is caught here and the write
// fails instead.
func handlerAlive(ctx context.Context, f func()) {
	if ctx.Err() != nil {
		return
	}
	defer func() { recover() }()
	f()
}
