package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/duplexws/websocket/internal/h2stream"
)

// dialHTTP2 opens the WebSocket as an extended CONNECT stream (RFC 8441 §4)
// on an HTTP/2 connection of opts.HTTP2, falling back to HTTP/1.1 when the
// server does not offer it. req is the HTTP/1.1 handshake request Dial built.
// The stream is opened with the HTTP/2 round tripper net/http hands
// connections to after ALPN, on the transport's pool of HTTP/2 connections
// (h2stream.NextProto says why).
func dialHTTP2(ctx context.Context, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	t := opts.HTTP2
	overTLS := req.URL.Scheme == "https"
	next := h2stream.NextProto(t, overTLS)
	if next == nil {
		return nil, nil, errors.New("websocket: DialOptions.HTTP2 is a transport with HTTP/2 turned off; set its ForceAttemptHTTP2 or its Protocols")
	}
	authority := hostPort(req.URL)
	dial := func() (net.Conn, error) { return dialConn(ctx, req, opts, "h2", "http/1.1") }

	var resp *http.Response
	var s *h2stream.Conn
	var err error
	for attempt := 1; ; attempt++ {
		rt, nc, derr := h2stream.Pooled(ctx, t, next, authority, overTLS, dial)
		if derr != nil {
			return nil, nil, derr
		}
		if nc != nil {
			// The server speaks HTTP/1.1 only: carry on on this connection.
			return handshakeOn(ctx, nc, req, key, opts)
		}
		resp, s, err = connectStream(ctx, rt, req)
		if err != nil && attempt < 3 && h2stream.NoPooledConn(err) {
			// The pooled connection filled up or went away meanwhile.
			continue
		}
		break
	}
	if err != nil {
		if resp == nil && (h2stream.ExtendedConnectUnsupported(err) || !overTLS) {
			// No extended CONNECT on this server, or no HTTP/2 without TLS.
			return dialHTTP1(ctx, req, key, opts)
		}
		return nil, resp, err
	}
	cfg, err := opts.agreed(resp.Header)
	if err != nil {
		s.Close()
		resp.Body = http.NoBody
		return nil, resp, &HandshakeError{Status: resp.StatusCode, Reason: err.Error()}
	}
	resp.Body = http.NoBody
	return newConn(newConnReader(s, opts.ReadBufferSize), true, cfg), resp, nil
}

// connectStream sends the extended CONNECT through rt and returns the
// response and, when the server accepted, the stream as a net.Conn; a
// server that answered another status refused the WebSocket.
func connectStream(ctx context.Context, rt http.RoundTripper, h1 *http.Request) (*http.Response, *h2stream.Conn, error) {
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
	return resp, nil, &HandshakeError{Status: resp.StatusCode, Reason: reason}
}
