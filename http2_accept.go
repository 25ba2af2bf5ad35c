package websocket

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/duplexws/websocket/internal/wshttp"
)

// extendedConnectEnabled reports whether net/http's HTTP/2 server in this
// process advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, which it does only
// when GODEBUG held http2xconnect=1 as the process started (net/http reads
// the variable once, in its init, which runs before this package's).
var extendedConnectEnabled = strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")

// howToEnableExtendedConnect is the advice given when a request shows that
// extended CONNECT is off.
const howToEnableExtendedConnect = "start the server with GODEBUG=http2xconnect=1 in its environment, or import github.com/duplexws/websocket/xconnect in package main"

// acceptHTTP2 serves a WebSocket over an HTTP/2 stream (RFC 8441): the
// client's extended CONNECT is checked and negotiated as an HTTP/1.1 upgrade
// is, answered with 200, and the stream's DATA frames carry the frames.
func acceptHTTP2(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	herr := checkExtendedConnect(r)
	var cfg connConfig
	var srv *Server
	if herr == nil {
		cfg, srv, herr = opts.negotiate(r, r.Header.Get("Origin"))
	}
	if herr != nil {
		refuse(w, r, herr, opts)
		return nil, herr
	}

	h := w.Header()
	for k, vs := range opts.ResponseHeader {
		h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], vs...)
	}
	if cfg.subprotocol != "" {
		h.Set("Sec-WebSocket-Protocol", cfg.subprotocol)
	}
	if cfg.extensions != "" {
		h.Set("Sec-WebSocket-Extensions", cfg.extensions)
	}
	rc := http.NewResponseController(w)
	// The server's ReadTimeout and WriteTimeout would end the stream as
	// they end a request; a WebSocket lives on with deadlines of its own.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, &HandshakeError{Status: http.StatusInternalServerError, Reason: "the ResponseWriter cannot flush the 200 response: " + err.Error()}
	}

	sc := newServerStream(w, rc, r)
	return accepted(sc, newConnReader(sc, opts.ReadBufferSize), cfg, srv, r), nil
}

// checkExtendedConnect checks an HTTP/2 request opening a WebSocket (RFC
// 8441 §4, §5) and says, for any other request, why it cannot be one.
func checkExtendedConnect(r *http.Request) *HandshakeError {
	bad := func(format string, args ...any) *HandshakeError {
		return &HandshakeError{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
	}
	protocol := r.Header.Get(":protocol")
	switch {
	case r.Method == http.MethodConnect && protocol == "websocket":
	case r.Method == http.MethodConnect && protocol == "":
		return bad("an HTTP/2 CONNECT without :protocol websocket does not open a WebSocket")
	case r.Method == http.MethodConnect:
		return bad("HTTP/2 CONNECT for protocol %q, not websocket", protocol)
	case r.Method == http.MethodGet && !extendedConnectEnabled:
		return &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "a WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441), not GET, and this server does not offer it: " + howToEnableExtendedConnect + "; HTTP/1.1 clients can connect meanwhile"}
	default:
		return &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: fmt.Sprintf("method %s over HTTP/2; a WebSocket is opened with an extended CONNECT (RFC 8441)", r.Method)}
	}
	// RFC 6455 §11.3.5 (RFC 6454 §7 for Origin), as over HTTP/1.1.
	if name := wshttp.Repeated(r.Header, "Sec-WebSocket-Version", "Origin"); name != "" {
		return bad("%s appears more than once; RFC 6455 allows one", name)
	}
	if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
		return bad("unsupported Sec-WebSocket-Version %q over HTTP/2; this server speaks 13", v)
	}
	return nil
}

// newServerStream makes the stream of an accepted extended CONNECT a
// net.Conn: the request body reads what the client sends, the
// ResponseWriter writes, flushing each write.
func newServerStream(w http.ResponseWriter, rc *http.ResponseController, r *http.Request) *streamConn {
	ctx := r.Context()
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	return newStreamConn(&streamConn{
		r: r.Body,
		w: &responseStream{ctx: ctx, w: w, rc: rc},
		abortWrite: func() {
			// Resetting the stream is the one way to end a write that
			// waits for flow control; net/http does it when a write
			// deadline passes.
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
	err = errHandlerReturned
	handlerAlive(s.ctx, func() {
		n, err = s.w.Write(p)
		if err == nil {
			err = s.rc.Flush()
		}
	})
	return n, err
}

// errHandlerReturned is the error of a write to a stream whose handler has returned.
var errHandlerReturned = fmt.Errorf("the HTTP/2 stream ended (its handler returned, or the client reset it): %w", io.ErrClosedPipe)

// handlerAlive calls f unless the request's context has ended, which over
// HTTP/2 happens as the handler returns, just before net/http invalidates
// its ResponseWriter. A write from another goroutine racing with the
// handler's return would make net/http panic; that panic is caught here and
// the write fails instead.
func handlerAlive(ctx context.Context, f func()) {
	if ctx.Err() != nil {
		return
	}
	defer func() { recover() }()
	f()
}
