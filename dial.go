package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/duplexws/websocket/internal/pmdeflate"
	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

// DialOptions configures Dial. The zero value, like a nil pointer, gives the
// defaults each field names.
type DialOptions struct {
	// HTTPHeader holds extra request headers, such as Authorization or Cookie.
	HTTPHeader http.Header

	// Host overrides the Host header; by default it is the URL's host.
	Host string

	// Origin sets the Origin header, as a browser would. None by default.
	Origin string

	// Subprotocols lists the subprotocols to offer, in order of preference.
	Subprotocols []string

	// TLSConfig configures TLS for wss URLs; its ServerName defaults to the
	// URL's host name. The default is a zero tls.Config.
	TLSConfig *tls.Config

	// Proxy chooses an HTTP proxy for a request, tunnelling through it with
	// CONNECT; credentials in the proxy URL are sent as Basic authorization.
	// Nil means http.ProxyFromEnvironment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)

	// NetDialContext opens the TCP connection (to the proxy when there is
	// one). Nil means a net.Dialer's DialContext.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Compression offers permessage-deflate (RFC 7692). Nil, the default,
	// offers no compression.
	Compression *CompressionOptions

	// ReadLimit is the largest message accepted, in bytes after
	// decompression: 32 MiB when zero, no limit when negative.
	ReadLimit int64

	// ReadBufferSize is the size of the connection's read buffer: 4096 when
	// zero, at most 1 GiB.
	ReadBufferSize int

	// WriteBufferSize is the frame size of messages written through Writer: 4096 when zero.
	WriteBufferSize int

	// PingInterval and PingTimeout enable keep-alive pings, as in AcceptOptions.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// CloseTimeout bounds each wait of the closing handshake: 5 seconds when zero.
	CloseTimeout time.Duration

	// OnPing and OnPong are called with the payload of each ping and pong
	// the server sends, as in AcceptOptions. None by default.
	OnPing func(payload []byte)
	OnPong func(payload []byte)

	// OnPingConn and OnPongConn are OnPing and OnPong given the connection
	// too, as in AcceptOptions. None by default.
	OnPingConn func(c *Conn, payload []byte)
	OnPongConn func(c *Conn, payload []byte)

	// Version is the protocol version to speak: 13 (RFC 6455), the default,
	// or 8 (hybi-08 to hybi-12, for old servers), which sends the origin as
	// Sec-WebSocket-Origin.
	Version int

	// HTTP2, when set, opens the WebSocket as a stream of an HTTP/2
	// connection (RFC 8441 extended CONNECT) that this transport holds:
	// WebSockets dialled with one transport share its HTTP/2 connection to a
	// server, with one another and with the transport's other requests, up to
	// the streams the server allows on one connection. When the transport
	// holds none with a free stream, Dial opens one with the options above
	// (TLSConfig, Proxy, NetDialContext; TLS negotiating h2 for wss URLs,
	// HTTP/2 with prior knowledge for ws URLs) and leaves it in the
	// transport's pool. The transport must have HTTP/2 on: a zero
	// http.Transport has, one with its own TLSClientConfig or DialContext
	// needs ForceAttemptHTTP2 or Protocols.
	//
	// When the server does not speak HTTP/2 or does not advertise extended
	// CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL), Dial falls back to
	// HTTP/1.1; the response it returns tells which was used in Proto
	// ("HTTP/2.0" or "HTTP/1.1"). Nil, the default, dials HTTP/1.1. Version
	// 8 always dials HTTP/1.1.
	HTTP2 *http.Transport

	// HTTPClient, when set, sends the opening handshake through this
	// client, for code that configures its HTTP in one: its Transport
	// dials, proxies and does TLS (TLSConfig, Proxy and NetDialContext must
	// then be unset), its Jar sends cookies and stores those the answer
	// sets, its CheckRedirect rules redirects, its Timeout bounds the
	// handshake (beside Dial's context) and not the connection. An
	// *http.Transport (nil means http.DefaultTransport) is cloned for the
	// one connection, over HTTP/1.1, so the client's pool is left alone;
	// any other RoundTripper, such as one that wraps a transport to add
	// headers or traces, carries the request as it is, and must in the end
	// send it through an *http.Transport (whose connection Dial learns from
	// net/http's client trace). Nil, the default, dials with the fields above.
	HTTPClient *http.Client
}

// Dial opens a WebSocket connection to the ws, wss, http or https URL
// (RFC 6455 §4.1). ctx bounds the whole opening handshake: DNS, TCP, proxy,
// TLS and HTTP. When the server answers but refuses, Dial returns its
// response (with up to 1 KiB of its body readable) beside a *HandshakeError.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := wshttp.ParseURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	version := opts.Version
	if version == 0 {
		version = 13
	}
	if version != 13 && version != 8 {
		return nil, nil, fmt.Errorf("websocket: DialOptions.Version %d is not 13 or 8", version)
	}
	ask := wshttp.Request{Header: opts.HTTPHeader, Host: opts.Host, Origin: opts.Origin, Subprotocols: opts.Subprotocols, Version: version}
	req, key, err := ask.New(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if opts.Compression != nil {
		if err := opts.Compression.validate(); err != nil {
			return nil, nil, fmt.Errorf("websocket: invalid DialOptions.Compression: %w", err)
		}
		req.Header.Set("Sec-WebSocket-Extensions", pmdeflate.Offer(opts.Compression.params()))
	}

	switch {
	case opts.HTTPClient != nil && opts.HTTP2 != nil:
		return nil, nil, errors.New("websocket: DialOptions.HTTPClient and HTTP2 are both set; set one")
	case opts.HTTPClient != nil:
		return dialHTTPClient(ctx, req, key, opts)
	case opts.HTTP2 != nil && version == 13:
		return dialHTTP2(ctx, req, key, opts)
	}
	nc, err := opts.dialer().Dial(ctx, req, "http/1.1")
	if err != nil {
		return nil, nil, err
	}
	return handshakeOn(ctx, nc, req, key, opts)
}

// dialer opens the connections of opts' handshakes.
func (o *DialOptions) dialer() *wshttp.Dialer {
	return &wshttp.Dialer{TLSConfig: o.TLSConfig, Proxy: o.Proxy, NetDialContext: o.NetDialContext}
}

// dialHTTPClient runs the opening handshake through opts.HTTPClient (see
// [wshttp.DialThrough]).
func dialHTTPClient(ctx context.Context, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts.TLSConfig != nil || opts.Proxy != nil || opts.NetDialContext != nil {
		return nil, nil, errors.New("websocket: DialOptions.HTTPClient is set: configure TLS, the proxy and dialing on its Transport, not in TLSConfig, Proxy and NetDialContext")
	}
	var cfg connConfig
	resp, nc, err := wshttp.DialThrough(ctx, opts.HTTPClient, req, func(resp *http.Response) (err error) {
		cfg, err = checkResponse(resp, key, opts)
		return err
	})
	if err != nil {
		return nil, resp, err
	}
	return newConn(newConnReader(nc, opts.ReadBufferSize), true, cfg), resp, nil
}

// dialHTTP2 opens the WebSocket as an extended CONNECT stream (RFC 8441 §4)
// on an HTTP/2 connection of opts.HTTP2, or over HTTP/1.1 when the server
// does not offer it (see [wshttp.DialHTTP2]).
func dialHTTP2(ctx context.Context, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	resp, s, h1, err := wshttp.DialHTTP2(ctx, opts.HTTP2, req, opts.dialer())
	switch {
	case err != nil:
		return nil, resp, handshakeError(err)
	case h1 != nil:
		return handshakeOn(ctx, h1, req, key, opts)
	}
	cfg, err := opts.agreed(resp)
	if err != nil {
		s.Close()
		return nil, resp, err
	}
	resp.Body = http.NoBody
	return newConn(newConnReader(s, opts.ReadBufferSize), true, cfg), resp, nil
}

// handshakeOn runs the HTTP/1.1 opening handshake on nc, bounded by ctx.
func handshakeOn(ctx context.Context, nc net.Conn, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	u := req.URL
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(wsconn.Past) })
	c, resp, err := handshake(nc, req, key, opts)
	if !stop() {
		err = fmt.Errorf("websocket: handshake with %s: %w", u.Host, ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	nc.SetDeadline(time.Time{})
	return c, resp, nil
}

// agreed checks what a server's answer agreed to over HTTP/1.1 and HTTP/2
// alike (RFC 8441 §5: the Sec-WebSocket-* fields mean there what they mean
// in RFC 6455): at most one subprotocol, and one this end offered, and the
// permessage-deflate answer to its offer. It returns the connection's
// configuration, or a *HandshakeError saying why the answer is refused,
// resp's body then emptied.
func (o *DialOptions) agreed(resp *http.Response) (connConfig, error) {
	subprotocol, err := wshttp.AgreedSubprotocol(resp.Header, o.Subprotocols)
	var comp *pmdeflate.State
	if err == nil {
		comp, err = dialCompression(resp.Header, o.Compression)
	}
	if err != nil {
		resp.Body = http.NoBody
		return connConfig{}, &HandshakeError{Status: resp.StatusCode, Reason: err.Error()}
	}
	return connConfig{
		readLimit:       o.ReadLimit,
		writeBufferSize: o.WriteBufferSize,
		pingInterval:    o.PingInterval,
		pingTimeout:     o.PingTimeout,
		closeTimeout:    o.CloseTimeout,
		onPing:          o.OnPing,
		onPong:          o.OnPong,
		onPingConn:      o.OnPingConn,
		onPongConn:      o.OnPongConn,
		subprotocol:     subprotocol,
		extensions:      strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", "),
		comp:            comp,
		compression:     o.Compression,
	}, nil
}

// handshake sends the opening request and checks the server's answer (RFC 6455 §4.1).
func handshake(nc net.Conn, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	size := opts.ReadBufferSize
	if size <= 0 {
		size = defaultBufferSize
	}
	resp, br, err := wshttp.RoundTrip(nc, req, size)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := checkResponse(resp, key, opts)
	if err != nil {
		return nil, resp, err
	}
	resp.Body = http.NoBody
	after, _ := br.Peek(br.Buffered())
	return newConn(newConnReaderFrom(nc, after, opts.ReadBufferSize), true, cfg), resp, nil
}

// checkResponse checks the server's answer to the opening handshake (RFC
// 6455 §4.1) and returns the configuration of the connection it agreed to.
// A refusal's body, up to 1 KiB, stays readable in resp.
func checkResponse(resp *http.Response, key string, opts *DialOptions) (connConfig, error) {
	if rf := wshttp.CheckResponse(resp, key); rf != nil {
		return connConfig{}, refused(rf)
	}
	return opts.agreed(resp)
}
