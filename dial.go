package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/duplexws/websocket/internal/pmdeflate"
	"github.com/duplexws/websocket/internal/wsconn"
	"github.com/duplexws/websocket/internal/wshttp"
)

// maxResponseHeader bounds the handshake response a client reads, so a
// hostile server cannot make it buffer without end.
const maxResponseHeader = 64 << 10

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
	u, err := parseWebSocketURL(rawURL)
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

	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       u.Host,
	}
	req = req.WithContext(ctx)
	for k, vs := range opts.HTTPHeader {
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	if opts.Host != "" {
		req.Host = opts.Host
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", fmt.Sprint(version))
	if opts.Origin != "" {
		if version == 13 {
			req.Header.Set("Origin", opts.Origin)
		} else {
			req.Header.Set("Sec-WebSocket-Origin", opts.Origin)
		}
	}
	for _, p := range opts.Subprotocols {
		if !wshttp.IsToken(p) {
			return nil, nil, fmt.Errorf("websocket: subprotocol %q is not a valid token", p)
		}
	}
	if len(opts.Subprotocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(opts.Subprotocols, ", "))
	}
	if opts.Compression != nil {
		if err := opts.Compression.validate(); err != nil {
			return nil, nil, fmt.Errorf("websocket: invalid DialOptions.Compression: %w", err)
		}
		req.Header.Set("Sec-WebSocket-Extensions", pmdeflate.Offer(opts.Compression.params()))
	}

	if opts.HTTPClient != nil {
		if opts.HTTP2 != nil {
			return nil, nil, errors.New("websocket: DialOptions.HTTPClient and HTTP2 are both set; set one")
		}
		return dialHTTPClient(ctx, req, key, opts)
	}
	if opts.HTTP2 != nil && version == 13 {
		return dialHTTP2(ctx, req, key, opts)
	}
	return dialHTTP1(ctx, req, key, opts)
}

// dialHTTP1 opens a connection and runs the HTTP/1.1 opening handshake on it.
func dialHTTP1(ctx context.Context, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	nc, err := dialConn(ctx, req, opts, "http/1.1")
	if err != nil {
		return nil, nil, err
	}
	return handshakeOn(ctx, nc, req, key, opts)
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
// configuration, or why the answer is refused.
func (o *DialOptions) agreed(answer http.Header) (connConfig, error) {
	// RFC 6455 §11.3.4: one Sec-WebSocket-Protocol at most.
	if wshttp.Repeated(answer, "Sec-WebSocket-Protocol") != "" {
		return connConfig{}, errors.New("Sec-WebSocket-Protocol appears more than once; RFC 6455 allows one")
	}
	subprotocol := answer.Get("Sec-WebSocket-Protocol")
	if subprotocol != "" && !slices.Contains(o.Subprotocols, subprotocol) {
		return connConfig{}, fmt.Errorf("server chose subprotocol %q, which was not offered", subprotocol)
	}
	comp, err := dialCompression(answer, o.Compression)
	if err != nil {
		return connConfig{}, err
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
		extensions:      strings.Join(answer.Values("Sec-WebSocket-Extensions"), ", "),
		comp:            comp,
		compression:     o.Compression,
	}, nil
}

// parseWebSocketURL checks a WebSocket URL and maps it to the http or https
// URL the handshake request goes to.
func parseWebSocketURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("websocket: bad URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("websocket: URL %q has scheme %q; want ws, wss, http or https", rawURL, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("websocket: URL %q has no host", rawURL)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("websocket: URL %q has a fragment, which WebSocket URLs cannot have", rawURL)
	}
	return u, nil
}

// hostPort returns u's host with the scheme's default port added when missing.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// dialConn opens the connection the handshake runs on: TCP, through the
// proxy when one applies, then TLS for wss, offering the ALPN protocols alpn.
func dialConn(ctx context.Context, req *http.Request, opts *DialOptions, alpn ...string) (net.Conn, error) {
	dial := opts.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	proxy := opts.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	proxyURL, err := proxy(req)
	if err != nil {
		return nil, fmt.Errorf("websocket: choosing a proxy: %w", err)
	}
	target := hostPort(req.URL)
	var nc net.Conn
	if proxyURL != nil {
		nc, err = dialProxy(ctx, dial, proxyURL, target)
	} else {
		nc, err = dial(ctx, "tcp", target)
	}
	if err != nil {
		return nil, fmt.Errorf("websocket: dial %s: %w", target, err)
	}
	if req.URL.Scheme != "https" {
		return nc, nil
	}
	cfg := opts.TLSConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = req.URL.Hostname()
	}
	cfg.NextProtos = alpn
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket: TLS handshake with %s: %w", target, err)
	}
	return tc, nil
}

// limitedConnReader reads from a connection, allowing at most n bytes: the
// handshake response's bound.
type limitedConnReader struct {
	r io.Reader
	n int64
}

func (l *limitedConnReader) Read(p []byte) (int, error) {
	if l.n == 0 {
		return 0, fmt.Errorf("handshake response longer than %d bytes", maxResponseHeader)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// handshake sends the opening request and checks the server's answer (RFC 6455 §4.1).
func handshake(nc net.Conn, req *http.Request, key string, opts *DialOptions) (*Conn, *http.Response, error) {
	if err := req.Write(nc); err != nil {
		return nil, nil, fmt.Errorf("websocket: sending the handshake: %w", err)
	}
	lr := &limitedConnReader{r: nc, n: maxResponseHeader}
	size := opts.ReadBufferSize
	if size <= 0 {
		size = defaultBufferSize
	}
	br := bufio.NewReaderSize(lr, size)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: reading the handshake response: %w", err)
	}
	cfg, err := checkResponse(resp, key, opts)
	if err != nil {
		return nil, resp, err
	}
	resp.Body = http.NoBody
	return newConn(newConnReaderFrom(nc, br, opts.ReadBufferSize), true, cfg), resp, nil
}

// checkResponse checks the server's answer to the opening handshake (RFC
// 6455 §4.1) and returns the configuration of the connection it agreed to.
// A refusal's body, up to 1 KiB, stays readable in resp.
func checkResponse(resp *http.Response, key string, opts *DialOptions) (connConfig, error) {
	fail := func(format string, args ...any) (connConfig, error) {
		if resp.StatusCode != http.StatusSwitchingProtocols {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if len(body) > 0 {
				format += ": " + strings.TrimSpace(string(body))
			}
		} else {
			resp.Body = http.NoBody
		}
		return connConfig{}, &HandshakeError{Status: resp.StatusCode, Reason: fmt.Sprintf(format, args...)}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail("server answered %s, not 101 Switching Protocols", resp.Status)
	}
	if !wshttp.HasToken(resp.Header, "Upgrade", "websocket") {
		return fail("Upgrade header %q is not websocket", resp.Header.Get("Upgrade"))
	}
	if !wshttp.HasToken(resp.Header, "Connection", "upgrade") {
		return fail("Connection header %q lacks upgrade", resp.Header.Get("Connection"))
	}
	// RFC 6455 §11.3.3 and §11.3.4: these appear at most once in a
	// response. (agreed checks the second again, for HTTP/2's answers.)
	if name := wshttp.Repeated(resp.Header, "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"); name != "" {
		return fail("%s appears more than once; RFC 6455 allows one", name)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return fail("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	cfg, err := opts.agreed(resp.Header)
	if err != nil {
		return fail("%v", err)
	}
	return cfg, nil
}
