package h2stream

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

// NextProto returns the HTTP/2 round tripper maker of t, for TLS ("h2") or
// without ("unencrypted_http2"), or nil when t has HTTP/2 turned off.
//
// net/http's Transport.RoundTrip refuses the :protocol pseudo-header that
// extended CONNECT needs, but the round tripper it hands connections to
// after ALPN (Transport.TLSNextProto) sends it (Go 1.24:
// TestRoundTripRefusesProtocol, TestNextProtoSendsProtocol). Transport sets
// TLSNextProto up lazily, on its first use or Clone (Go 1.6:
// TestCloneSetsUpNextProto).
func NextProto(t *http.Transport, overTLS bool) func(string, *tls.Conn) http.RoundTripper {
	t.Clone()
	if overTLS {
		return t.TLSNextProto["h2"]
	}
	return t.TLSNextProto["unencrypted_http2"]
}

// errExtendedConnectUnsupported is net/http's error (Go 1.24) for an
// extended CONNECT to a server that did not advertise
// SETTINGS_ENABLE_CONNECT_PROTOCOL; it is not exported, and matched by its
// text (TestExtendedConnectUnsupportedError).
const errExtendedConnectUnsupported = "extended connect not supported by peer"

// ExtendedConnectUnsupported reports whether err says the server does not
// offer extended CONNECT.
func ExtendedConnectUnsupported(err error) bool {
	return err != nil && strings.Contains(err.Error(), errExtendedConnectUnsupported)
}

// Pooled returns the round tripper of t's pooled HTTP/2 connection to
// authority with a free stream, made by next, opening a connection with
// dial and pooling it when there is none; or, when the server answers TLS
// with HTTP/1.1 only, that connection. The pool is asked, and a connection
// opened, by one caller at a time for a transport and server, so that
// Dials at once share one connection.
func Pooled(ctx context.Context, t *http.Transport, next func(string, *tls.Conn) http.RoundTripper, authority string, overTLS bool, dial func() (net.Conn, error)) (http.RoundTripper, net.Conn, error) {
	if err := dials.acquire(ctx, t, authority); err != nil {
		return nil, nil, fmt.Errorf("websocket: dial %s: %w", authority, err)
	}
	defer dials.release(t, authority)
	// Ask with a connection that cannot be used: the pool keeps to its
	// own when it has one with a free stream, and tries (and fails) to
	// use this one otherwise (TestProbeFindsPool).
	probe := &unusableConn{}
	rt := next(authority, wrapForNextProto(probe, overTLS))
	if !probe.used.Load() {
		return rt, nil, nil
	}
	nc, err := dial()
	if err != nil {
		return nil, nil, err
	}
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol != "h2" {
		return nil, nc, nil
	}
	return next(authority, wrapForNextProto(nc, overTLS)), nil, nil // pools nc
}

// NoPooledConn reports whether a round trip failed for want of a pooled
// connection with a free stream: the pool said it had none, in net/http's
// words (unexported, matched by its text: TestProbeFindsPool), or handed on
// the failure of a probe.
func NoPooledConn(err error) bool {
	return strings.Contains(err.Error(), errNoPooledConn.Error()) || err.Error() == errNoCachedConn
}

// errNoCachedConn is the text of net/http's http2ErrNoCachedConn.
const errNoCachedConn = "http2: no cached connection was available"

// errNoPooledConn is what the probe connection fails with: the transport
// held no HTTP/2 connection to the server with a free stream.
var errNoPooledConn = errors.New("no pooled HTTP/2 connection")

// unusableConn is the connection handed to the transport to learn whether
// its pool already holds one: it fails every use, and says it was used.
type unusableConn struct{ used atomic.Bool }

func (c *unusableConn) Read([]byte) (int, error)         { c.used.Store(true); return 0, errNoPooledConn }
func (c *unusableConn) Write([]byte) (int, error)        { c.used.Store(true); return 0, errNoPooledConn }
func (c *unusableConn) Close() error                     { return nil }
func (c *unusableConn) LocalAddr() net.Addr              { return addr("unused") }
func (c *unusableConn) RemoteAddr() net.Addr             { return addr("unused") }
func (c *unusableConn) SetDeadline(time.Time) error      { return nil }
func (c *unusableConn) SetReadDeadline(time.Time) error  { return nil }
func (c *unusableConn) SetWriteDeadline(time.Time) error { return nil }

// wrapForNextProto gives nc the shape Transport.TLSNextProto takes: the
// TLS connection itself, or for HTTP/2 without TLS a *tls.Conn over a
// connection that hands out the unencrypted one, which is net/http's
// convention for "unencrypted_http2" (Go 1.24's Protocols: TestEcho).
func wrapForNextProto(nc net.Conn, overTLS bool) *tls.Conn {
	if tc, ok := nc.(*tls.Conn); ok && overTLS {
		return tc
	}
	// The TLS layer is never used: the probe fails on its first write,
	// and an unencrypted connection is taken out of it unused.
	return tls.Client(unencrypted{nc}, &tls.Config{InsecureSkipVerify: true})
}

// unencrypted carries a connection without TLS through TLSNextProto.
type unencrypted struct{ net.Conn }

func (u unencrypted) UnencryptedNetConn() net.Conn { return u.Conn }

// dials serializes, per transport and server, the look into the pool and
// the opening of a connection, so that Dials at once find the connection
// one of them opened rather than open one each. An entry lives only while a
// Dial holds it.
var dials = dialsInFlight{m: map[dialKey]chan struct{}{}}

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

// Connect sends the extended CONNECT (RFC 8441 §4) for the WebSocket
// handshake request h1 through rt and returns the response and, when the
// server accepted with a 2xx status, the stream as a Conn. Any other status
// refuses the WebSocket (RFC 8441 §5): the response comes back with no
// Conn and no error, its body the first KiB the server sent.
func Connect(ctx context.Context, rt http.RoundTripper, h1 *http.Request) (*http.Response, *Conn, error) {
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
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		cancel()
		pw.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		return resp, nil, nil
	}
	body := resp.Body
	s := newConn(&Conn{
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
