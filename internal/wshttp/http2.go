package wshttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/duplexws/websocket/internal/h2stream"
)

// CheckExtendedConnect checks an HTTP/2 request opening a WebSocket (RFC
// 8441 §4, §5) and says, for any other request, why it cannot be one.
func CheckExtendedConnect(r *http.Request) *Refusal {
	protocol := h2stream.Protocol(r)
	switch {
	case r.Method == http.MethodConnect && protocol == "websocket":
	case r.Method == http.MethodConnect && protocol == "":
		return refusef(http.StatusBadRequest, "an HTTP/2 CONNECT without :protocol websocket does not open a WebSocket")
	case r.Method == http.MethodConnect:
		return refusef(http.StatusBadRequest, "HTTP/2 CONNECT for protocol %q, not websocket", protocol)
	case r.Method == http.MethodGet && !h2stream.ExtendedConnectEnabled:
		return &Refusal{Status: http.StatusMethodNotAllowed, Reason: "a WebSocket over HTTP/2 is opened with an extended CONNECT (RFC 8441), not GET, and this server does not offer it: " + h2stream.HowToEnable + "; HTTP/1.1 clients can connect meanwhile"}
	default:
		return refusef(http.StatusMethodNotAllowed, "method %s over HTTP/2; a WebSocket is opened with an extended CONNECT (RFC 8441)", r.Method)
	}
	// RFC 6455 §11.3.5 (RFC 6454 §7 for Origin), as over HTTP/1.1.
	if name := Repeated(r.Header, "Sec-WebSocket-Version", "Origin"); name != "" {
		return refusef(http.StatusBadRequest, "%s appears more than once; RFC 6455 allows one", name)
	}
	if v := r.Header.Get("Sec-WebSocket-Version"); v != "13" {
		return refusef(http.StatusBadRequest, "unsupported Sec-WebSocket-Version %q over HTTP/2; this server speaks 13", v)
	}
	return nil
}

// AcceptStream answers the extended CONNECT r, which CheckExtendedConnect
// passed, with 200 naming subprotocol and extensions ("" for none) and the
// headers of extra, and returns its stream, whose DATA frames carry the
// WebSocket's frames.
func AcceptStream(w http.ResponseWriter, r *http.Request, subprotocol, extensions string, extra http.Header) (*h2stream.Conn, *Refusal) {
	h := w.Header()
	for k, vs := range extra {
		h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], vs...)
	}
	if subprotocol != "" {
		h.Set("Sec-WebSocket-Protocol", subprotocol)
	}
	if extensions != "" {
		h.Set("Sec-WebSocket-Extensions", extensions)
	}
	rc := http.NewResponseController(w)
	// The server's ReadTimeout and WriteTimeout would end the stream as
	// they end a request; a WebSocket lives on with deadlines of its own.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, &Refusal{Status: http.StatusInternalServerError, Reason: "the ResponseWriter cannot flush the 200 response: " + err.Error()}
	}
	return h2stream.NewServerConn(w, rc, r), nil
}

// DialHTTP2 opens the WebSocket of the HTTP/1.1 handshake request req as an
// extended CONNECT stream (RFC 8441 §4) on an HTTP/2 connection of t, and
// returns the server's answer and the stream. The stream is opened with the
// HTTP/2 round tripper net/http hands connections to after ALPN, on the
// transport's pool of HTTP/2 connections (h2stream.NextProto says why); a
// connection to pool is opened with d. When the server does not speak
// HTTP/2, or does not offer extended CONNECT, DialHTTP2 returns instead a
// connection (h1) to run the HTTP/1.1 handshake on. A server that answers
// the CONNECT with a status other than 2xx refuses the WebSocket: the
// answer comes back with a *Refusal.
func DialHTTP2(ctx context.Context, t *http.Transport, req *http.Request, d *Dialer) (resp *http.Response, s *h2stream.Conn, h1 net.Conn, err error) {
	overTLS := req.URL.Scheme == "https"
	next := h2stream.NextProto(t, overTLS)
	if next == nil {
		return nil, nil, nil, errors.New("websocket: DialOptions.HTTP2 is a transport with HTTP/2 turned off; set its ForceAttemptHTTP2 or its Protocols")
	}
	authority := HostPort(req.URL)
	dial := func() (net.Conn, error) { return d.Dial(ctx, req, "h2", "http/1.1") }
	for attempt := 1; ; attempt++ {
		rt, nc, err := h2stream.Pooled(ctx, t, next, authority, overTLS, dial)
		if err != nil || nc != nil {
			// nc: the server speaks HTTP/1.1 only; carry on on this connection.
			return nil, nil, nc, err
		}
		resp, s, err = ConnectStream(ctx, rt, req)
		if err != nil && attempt < 3 && h2stream.NoPooledConn(err) {
			// The pooled connection filled up or went away meanwhile.
			continue
		}
		if err != nil && resp == nil && (h2stream.ExtendedConnectUnsupported(err) || !overTLS) {
			// No extended CONNECT on this server, or no HTTP/2 without TLS.
			h1, err = d.Dial(ctx, req, "http/1.1")
			return nil, nil, h1, err
		}
		return resp, s, nil, err
	}
}

// ConnectStream sends the extended CONNECT for the handshake request h1
// through rt and returns the response and, when the server accepted, the
// stream as a net.Conn; a server that answered another status refused the
// WebSocket, which the *Refusal returned says.
func ConnectStream(ctx context.Context, rt http.RoundTripper, h1 *http.Request) (*http.Response, *h2stream.Conn, error) {
	resp, s, err := h2stream.Connect(ctx, rt, h1)
	if err != nil || s != nil {
		return resp, s, err
	}
	// RFC 8441 §5: any status but 2xx refuses the WebSocket.
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	reason := fmt.Sprintf("server answered %s to the extended CONNECT, not 200", resp.Status)
	if b := strings.TrimSpace(string(body)); b != "" {
		reason += ": " + b
	}
	return resp, nil, &Refusal{Status: resp.StatusCode, Reason: reason}
}
