package legacy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/wshttp"
)

// DialOptions configures Dial. A nil *DialOptions means all defaults.
type DialOptions struct {
	// HTTPHeader holds extra request headers, such as cookies. Header names
	// Dial writes itself (Host, Origin, Upgrade, Connection,
	// Sec-WebSocket-*) are ignored. Default: none.
	HTTPHeader http.Header
	// Host is the Host header, and the host Sec-WebSocket-Location must
	// name. Default: the URL's host.
	Host string
	// Origin is the Origin header, which the server must echo in
	// Sec-WebSocket-Origin. Default: http://HOST (https://HOST for wss),
	// where HOST is the URL's host.
	Origin string
	// Subprotocol asks the server for one subprotocol (a hixie-76 client
	// asks for at most one); the handshake fails unless the server agrees.
	// Default: none.
	Subprotocol string
	// TLSConfig configures wss connections; its ServerName defaults to the
	// URL's host name. Default: the crypto/tls defaults.
	TLSConfig *tls.Config
	// NetDialContext opens the TCP connection. Default: a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ReadLimit is the largest message Read and Reader accept, in bytes;
	// 0 means 32 MiB and -1 means no limit. Conn.SetReadLimit changes it.
	ReadLimit int64
	// CloseTimeout bounds the closing handshake; 0 means 5 seconds.
	CloseTimeout time.Duration
}

// Dial opens a hixie-76 WebSocket connection to a ws, wss, http or https URL
// (draft-hixie-76 §4.1): it sends two keys made as the draft describes and
// 8 random bytes, and checks the server's answer, origin, location and
// subprotocol. ctx bounds the connection and the handshake; it does not
// govern the connection afterwards.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("legacy: dial: %w", err)
	}
	var secure bool
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
	case "wss", "https":
		secure = true
	default:
		return nil, fmt.Errorf("legacy: dial %q: the scheme must be ws, wss, http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("legacy: dial %q: the URL has no host", rawURL)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("legacy: dial %q: a WebSocket URL cannot have a fragment", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	dial := opts.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("legacy: dial: %w", err)
	}
	if secure {
		cfg := &tls.Config{}
		if opts.TLSConfig != nil {
			cfg = opts.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("legacy: dial: %w: TLS handshake: %w", websocket.ErrBadHandshake, err)
		}
		nc = tc
	}
	c, err := clientHandshake(ctx, nc, u, secure, opts)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return c, nil
}

// clientHandshake sends the opening handshake on nc and checks the answer.
func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, secure bool, opts *DialOptions) (*Conn, error) {
	stop := interruptOnDone(ctx, nc)
	defer stop()

	host := opts.Host
	if host == "" {
		host = u.Host
	}
	scheme, originScheme := "ws", "http"
	if secure {
		scheme, originScheme = "wss", "https"
	}
	origin := opts.Origin
	if origin == "" {
		origin = originScheme + "://" + strings.ToLower(u.Host)
	}
	resource := u.RequestURI()
	extra, err := extraHeaders(opts.HTTPHeader, "DialOptions.HTTPHeader")
	if err != nil {
		return nil, err
	}
	for _, v := range []string{host, origin, opts.Subprotocol} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, errors.New("legacy: DialOptions Host, Origin and Subprotocol must not contain line breaks or NUL")
		}
	}

	var seed [32]byte
	_, _ = rand.Read(seed[:])
	rng := mathrand.New(mathrand.NewChaCha8(seed))
	key1, n1 := newKey(rng)
	key2, n2 := newKey(rng)
	var key3 [8]byte
	_, _ = rand.Read(key3[:])

	var req bytes.Buffer
	req.WriteString("GET " + resource + " HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n")
	req.WriteString("Host: " + host + "\r\nOrigin: " + origin + "\r\n")
	if opts.Subprotocol != "" {
		req.WriteString("Sec-WebSocket-Protocol: " + opts.Subprotocol + "\r\n")
	}
	req.WriteString("Sec-WebSocket-Key1: " + key1 + "\r\nSec-WebSocket-Key2: " + key2 + "\r\n")
	req.WriteString(extra)
	req.WriteString("\r\n")
	req.Write(key3[:])
	if _, err := nc.Write(req.Bytes()); err != nil {
		return nil, fmt.Errorf("legacy: dial: %w: sending the handshake: %w", websocket.ErrBadHandshake, err)
	}

	br := bufio.NewReaderSize(nc, writeBufferSize)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy: dial: %w: reading the handshake answer: %w", websocket.ErrBadHandshake, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("legacy: dial: %w: the server answered %q instead of 101", websocket.ErrBadHandshake, resp.Status)
	}
	location := scheme + "://" + host + resource
	for _, check := range []struct{ name, got, want string }{
		{"Upgrade", resp.Header.Get("Upgrade"), "WebSocket"},
		{"Sec-WebSocket-Origin", resp.Header.Get("Sec-WebSocket-Origin"), origin},
		{"Sec-WebSocket-Location", resp.Header.Get("Sec-WebSocket-Location"), location},
		{"Sec-WebSocket-Protocol", resp.Header.Get("Sec-WebSocket-Protocol"), opts.Subprotocol},
	} {
		if !strings.EqualFold(check.got, check.want) {
			return nil, fmt.Errorf("legacy: dial: %w: the server's %s is %q, not %q", websocket.ErrBadHandshake, check.name, check.got, check.want)
		}
	}
	if !wshttp.HasToken(resp.Header, "Connection", "upgrade") {
		return nil, fmt.Errorf("legacy: dial: %w: the server's Connection header %q does not contain Upgrade", websocket.ErrBadHandshake, resp.Header.Get("Connection"))
	}
	var answer [16]byte
	if _, err := io.ReadFull(br, answer[:]); err != nil {
		return nil, fmt.Errorf("legacy: dial: %w: reading the 16-byte answer to the keys: %w", websocket.ErrBadHandshake, err)
	}
	if answer != challengeAnswer(n1, n2, key3[:]) {
		return nil, fmt.Errorf("legacy: dial: %w: the server's 16-byte answer does not match the keys sent", websocket.ErrBadHandshake)
	}
	stop()
	_ = nc.SetDeadline(time.Time{})
	return newConn(nc, br, opts.Subprotocol, opts.ReadLimit, opts.CloseTimeout), nil
}
