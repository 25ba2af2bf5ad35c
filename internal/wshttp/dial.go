package wshttp

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
)

// maxResponseHeader bounds the handshake response a client reads, so a
// hostile server cannot make it buffer without end.
const maxResponseHeader = 64 << 10

// ParseURL checks a WebSocket URL (ws, wss, http or https) and maps it to
// the http or https URL the handshake request goes to.
func ParseURL(rawURL string) (*url.URL, error) {
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

// HostPort returns u's host with the scheme's default port added when missing.
func HostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// Request is what a client's opening handshake asks for, besides its URL.
type Request struct {
	Header       http.Header // extra headers
	Host         string      // the Host header, when not the URL's host
	Origin       string      // the page's origin, "" for none
	Subprotocols []string    // offered, in order of preference
	Version      int         // 13, or 8 for hybi-08 to hybi-12
}

// New builds the opening handshake request to u (as ParseURL returns it)
// bounded by ctx (RFC 6455 §4.1) and returns it with its Sec-WebSocket-Key.
func (o *Request) New(ctx context.Context, u *url.URL) (*http.Request, string, error) {
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
	for k, vs := range o.Header {
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	if o.Host != "" {
		req.Host = o.Host
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", fmt.Sprint(o.Version))
	if o.Origin != "" {
		if o.Version == 13 {
			req.Header.Set("Origin", o.Origin)
		} else {
			req.Header.Set("Sec-WebSocket-Origin", o.Origin)
		}
	}
	for _, p := range o.Subprotocols {
		if !IsToken(p) {
			return nil, "", fmt.Errorf("websocket: subprotocol %q is not a valid token", p)
		}
	}
	if len(o.Subprotocols) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(o.Subprotocols, ", "))
	}
	return req, key, nil
}

// Dialer opens the connections a client's handshake runs on.
type Dialer struct {
	// TLSConfig configures TLS for https URLs; nil is a zero tls.Config.
	TLSConfig *tls.Config
	// Proxy chooses an HTTP proxy for a request; nil is http.ProxyFromEnvironment.
	Proxy func(*http.Request) (*url.URL, error)
	// NetDialContext opens TCP connections; nil is a net.Dialer's.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dial opens the connection the handshake of req runs on: TCP, through the
// proxy when one applies, then TLS for https, offering the ALPN protocols
// alpn.
func (d *Dialer) Dial(ctx context.Context, req *http.Request, alpn ...string) (net.Conn, error) {
	dial := d.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	proxy := d.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	proxyURL, err := proxy(req)
	if err != nil {
		return nil, fmt.Errorf("websocket: choosing a proxy: %w", err)
	}
	target := HostPort(req.URL)
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
	cfg := d.TLSConfig.Clone()
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

// RoundTrip sends the handshake request req on nc and reads the server's
// answer, at most 64 KiB of it, through a reader of size bytes, which
// holds whatever the server sent after the answer.
func RoundTrip(nc net.Conn, req *http.Request, size int) (*http.Response, *bufio.Reader, error) {
	if err := req.Write(nc); err != nil {
		return nil, nil, fmt.Errorf("websocket: sending the handshake: %w", err)
	}
	br := bufio.NewReaderSize(&limitedConnReader{r: nc, n: maxResponseHeader}, size)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: reading the handshake response: %w", err)
	}
	return resp, br, nil
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

// CheckResponse checks that resp switches protocols as the handshake of
// key asked (RFC 6455 §4.1): status 101, the Upgrade and Connection tokens,
// one Sec-WebSocket-Accept and that one right, at most one
// Sec-WebSocket-Protocol. A refusal's body, up to 1 KiB, stays readable in
// resp and ends the Refusal's reason.
func CheckResponse(resp *http.Response, key string) *Refusal {
	fail := func(format string, args ...any) *Refusal {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) > 0 {
			format += ": " + strings.TrimSpace(string(body))
		}
		return refusef(resp.StatusCode, format, args...)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail("server answered %s, not 101 Switching Protocols", resp.Status)
	}
	// The body of a 101 is the WebSocket's connection, not the refusal's.
	fail = func(format string, args ...any) *Refusal {
		resp.Body = http.NoBody
		return refusef(resp.StatusCode, format, args...)
	}
	if !HasToken(resp.Header, "Upgrade", "websocket") {
		return fail("Upgrade header %q is not websocket", resp.Header.Get("Upgrade"))
	}
	if !HasToken(resp.Header, "Connection", "upgrade") {
		return fail("Connection header %q lacks upgrade", resp.Header.Get("Connection"))
	}
	// RFC 6455 §11.3.3 and §11.3.4: these appear at most once in a
	// response. (AgreedSubprotocol checks the second again, for HTTP/2's
	// answers.)
	if name := Repeated(resp.Header, "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"); name != "" {
		return fail("%s appears more than once; RFC 6455 allows one", name)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), AcceptKey(key); got != want {
		return fail("Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return nil
}

// AgreedSubprotocol returns the subprotocol a server's answer h chose, ""
// for none, or why it may not: RFC 6455 §11.3.4 allows one, and one of
// those offered.
func AgreedSubprotocol(h http.Header, offered []string) (string, error) {
	if Repeated(h, "Sec-WebSocket-Protocol") != "" {
		return "", errors.New("Sec-WebSocket-Protocol appears more than once; RFC 6455 allows one")
	}
	s := h.Get("Sec-WebSocket-Protocol")
	if s != "" && !slices.Contains(offered, s) {
		return "", fmt.Errorf("server chose subprotocol %q, which was not offered", s)
	}
	return s, nil
}
