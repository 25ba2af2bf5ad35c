package websocket

import (
	"fmt"
	"net/http"
	"time"

	"github.com/duplexws/websocket/internal/h2stream"
	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

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

	sc := h2stream.NewServerConn(w, rc, r)
	wsconn.Claim(sc, r.Context())
	return accepted(sc, newConnReader(sc, opts.ReadBufferSize), cfg, srv, r), nil
}

// checkExtendedConnect checks an HTTP/2 request opening a WebSocket (RFC
// 8441 §4, §5) and says, for any other request, why it cannot be one.
func checkExtendedConnect(r *http.Request) *HandshakeError {
	bad := func(format string, args ...any) *HandshakeError {
		return &HandshakeError{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
	}
	protocol := h2stream.Protocol(r)
	switch {
	case r.Method == http.MethodConnect && protocol == "websocket":
	case r.Method == http.MethodConnect && protocol == "":
		return bad("an HTTP/2 CONNECT without :protocol websocket does not open a WebSocket")
	case r.Method == http.MethodConnect:
		return bad("HTTP/2 CONNECT for protocol %q, not websocket", protocol)
	case r.Method == http.MethodGet && !h2stream.ExtendedConnectEnabled:
		return &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "a WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441), not GET, and this server does not offer it: " + h2stream.HowToEnable + "; HTTP/1.1 clients can connect meanwhile"}
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
