package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// dialHTTP2 opens the WebSocket as an extended CONNECT stream (RFC 8441 §4)
// on an HTTP/2 connection of opts.HTTP2, falling back to HTTP/1.1 when the
// server does not offer it. req is the HTTP/1.1 handshake request Dial built.
//
// net/http's Transport.RoundTrip refuses the :protocol pseudo-header that
// extended CONNECT needs, but the HTTP/2 round tripper it hands connections
// to after ALPN (Transport.TLSNextProto) sends it; Dial uses that one, on
// the transport's pool of HTTP/2 connections.
func dialHTTP2(ctx context.Context, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	t := opts.HTTP2
	t.Clone() // makes t set up its HTTP/2 support, which net/http does lazily
	h2 := req.URL.Scheme == "https"
	next := t.TLSNextProto["h2"]
	if !h2 {
		next = t.TLSNextProto["unencrypted_http2"]
	}
	if next == nil {
		return nil, nil, errors.New("websocket: DialOptions.HTTP2 is a transport with HTTP/2 turned off; set its ForceAttemptHTTP2 or its Protocols")
	}
	authority := hostPort(req.URL)

	var resp *http.Response
	var s *streamConn
	var err error
	for attempt := 1; ; attempt++ {
		rt, nc, derr := pooledOrNew(ctx, t, next, authority, req, opts, h2)
		if derr != nil {
			return nil, nil, derr
		}
		if nc != nil {
			// The server speaks HTTP/1.1 only: carry on on this connection.
			return handshakeOn(ctx, nc, req, key, opts)
		}
		resp, s, err = connectStream(ctx, rt, req, opts)
		if err != nil && attempt < 3 && noPooledConn(err) {
			// The pooled connection filled up or went away meanwhile.
			continue
		}
		break
	}
	if err != nil {
		if resp == nil && (strings.Contains(err.Error(), "extended connect not supported by peer") || !h2) {
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

// pooledOrNew returns the round tripper of t's pooled HTTP/2 connection
// to authority with a free stream, opening and pooling one when there is
// none; or, when the server answers TLS with HTTP/1.1 only, that connection.
// The pool is asked, and a connection opened, by one Dial at a time for a
// transport and server, so that Dials at once share one connection.
func pooledOrNew(ctx context.Context, t *http.Transport, next func(string, *tls.Conn) http.RoundTripper, authority string, req *http.Request, opts *DialOptions, h2 bool) (http.RoundTripper, net.Conn, error) {
	if err := h2Dials.acquire(ctx, t, authority); err != nil {
		return nil, nil, fmt.Errorf("websocket: dial %s: %w", authority, err)
	}
	defer h2Dials.release(t, authority)
	// Ask with a connection that cannot be used: the pool keeps to its
	// own when it has one with a free stream, and tries (and fails) to
	// use this one otherwise.
	probe := &unusableConn{}
	rt := next(authority, wrapForNextProto(probe, h2))
	if !probe.used.Load() {
		return rt, nil, nil
	}
	nc, err := dialConn(ctx, req, opts, "h2", "http/1.1")
	if err != nil {
		return nil, nil, err
	}
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		return nil, nc, nil
	}
	return next(authority, wrapForNextProto(nc, h2)), nil, nil // pools nc
}

// connectStream sends the extended CONNECT through rt and returns the
// response and, when the server accepted, the stream as a net.Conn.
func connectStream(ctx context.Context, rt http.RoundTripper, h1 *http.Request, opts *DialOptions) (*http.Response, *streamConn, error) {
	// The stream lives as long as the WebSocket, past ctx, which bounds
	// only the handshake.
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var local, remote net.Addr
	streamCtx = httptrace.WithClientTrace(streamCtx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			local, remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
		},
	})
	pr, pw := io.Pipe()
	req := &http.Request{
		Method:        http.MethodConnect,
		URL:           h1.URL,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        make(http.Header, len(h1.Header)),
		Host:          h1.Host,
		Body:          pr,
		ContentLength: -1,
	}
	// RFC 8441 §5: the same header fields as RFC 6455's handshake, less
	// those of HTTP/1.1's upgrade and the key, which HTTP/2 has no use for.
	for k, vs := range h1.Header {
		switch k {
		case "Upgrade", "Connection", "Sec-Websocket-Key":
		default:
			req.Header[k] = vs
		}
	}
	req.Header[":protocol"] = []string{"websocket"}
	req = req.WithContext(streamCtx)

	stop := context.AfterFunc(ctx, cancel)
	resp, err := rt.RoundTrip(req)
	if !stop() {
		err = fmt.Errorf("websocket: handshake with %s: %w", h1.URL.Host, ctx.Err())
		if resp != nil {
			resp.Body.Close()
			resp = nil
		}
	}
	if err != nil {
		cancel()
		pw.Close()
		return nil, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// RFC 8441 §5: any status but 2xx refuses the WebSocket.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		cancel()
		pw.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		reason := fmt.Sprintf("server answered %s to the extended CONNECT, not 200", resp.Status)
		if b := strings.TrimSpace(string(body)); b != "" {
			reason += ": " + b
		}
		return resp, nil, &HandshakeError{Status: resp.StatusCode, Reason: reason}
	}
	body := resp.Body
	s := newStreamConn(&streamConn{
		r:          body,
		w:          pw,
		abortWrite: func() { pw.CloseWithError(errDeadline) },
		closeFn: func() error {
			pw.Close() // END_STREAM after what was written
			body.Close()
			cancel()
			return nil
		},
		local:  addrOf(local, ""),
		remote: addrOf(remote, h1.URL.Host),
	})
	return resp, s, nil
}

// h2Dials serializes, per transport and server, the look into the pool
// and the opening of a connection, so that Dials at once find the
// connection one of them opened rather than open one each. An entry lives
// only while a Dial holds it.
var h2Dials = dialsInFlight{m: map[dialKey]chan struct{}{}}

type dialKey struct {
	t         *http.Transport
	authority string
}

type dialsInFlight struct {
	mu sync.Mutex
	m  map[dialKey]chan struct{} // closed on release
}

// acquire waits until no other Dial holds t and authority, then holds them.
func (d *dialsInFlight) acquire(ctx context.Context, t *http.Transport, authority string) error {
	k := dialKey{t, authority}
	for {
		d.mu.Lock()
		held, ok := d.m[k]
		if !ok {
			d.m[k] = make(chan struct{})
			d.mu.Unlock()
			return nil
		}
		d.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release lets the next Dial waiting for t and authority go.
func (d *dialsInFlight) release(t *http.Transport, authority string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := dialKey{t, authority}
	close(d.m[k])
	delete(d.m, k)
}

// noPooledConn reports whether a round trip failed for want of a pooled
// connection with a free stream: the pool said it had none, or handed on the
// failure of a probe.
func noPooledConn(err error) bool {
	return strings.Contains(err.Error(), errNoPooledConn.Error()) || err.Error() == "http2: no cached connection was available"
}

// errNoPooledConn is what the probe connection fails with: the transport
// held no HTTP/2 connection to the server with a free stream.
var errNoPooledConn = errors.New("no pooled HTTP/2 connection")

// unusableConn is the connection handed to the transport to learn whether
// its pool already holds one: it fails every use, and says it was used.
type unusableConn struct{ used atomic.Bool }

func (c *unusableConn) Read([]byte) (int, error)         { c.used.Store(true); return 0, errNoPooledConn }
func (c *unusableConn) Write([]byte) (int, error)        { c.used.Store(true); return 0, errNoPooledConn }
func (c *unusableConn) Close() error                     { return nil }
func (c *unusableConn) LocalAddr() net.Addr              { return streamAddr("unused") }
func (c *unusableConn) RemoteAddr() net.Addr             { return streamAddr("unused") }
func (c *unusableConn) SetDeadline(time.Time) error      { return nil }
func (c *unusableConn) SetReadDeadline(time.Time) error  { return nil }
func (c *unusableConn) SetWriteDeadline(time.Time) error { return nil }

// wrapForNextProto gives nc the shape Transport.TLSNextProto takes: the
// TLS connection itself, or for HTTP/2 without TLS a *tls.Conn over a
// connection that hands out the unencrypted one, which is net/http's
// convention for "unencrypted_http2".
func wrapForNextProto(nc net.Conn, h2 bool) *tls.Conn {
	if tc, ok := nc.(*tls.Conn); ok && h2 {
		return tc
	}
	// The TLS layer is never used: the probe fails on its first write,
	// and an unencrypted connection is taken out of it unused.
	return tls.Client(unencrypted{nc}, &tls.Config{InsecureSkipVerify: true})
}

// unencrypted carries a connection without TLS through TLSNextProto.
type unencrypted struct{ net.Conn }

func (u unencrypted) UnencryptedNetConn() net.Conn { return u.Conn }
