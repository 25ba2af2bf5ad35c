package websocket

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"

	"github.com/duplexws/websocket/internal/wshttp"
)

// EchoHandler lends the internal tests' echo server to the external ones.
var EchoHandler = echoHandler

// DialHTTP2Stream opens an extended CONNECT stream (RFC 8441) to the wss URL
// through tr, offering the extensions in offer, and returns the raw stream
// and the server's Sec-WebSocket-Extensions: the Autobahn-style suite plays
// its cases over it.
func DialHTTP2Stream(ctx context.Context, rawURL string, tr *http.Transport, offer string) (net.Conn, string, error) {
	u, err := wshttp.ParseURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	req := &http.Request{URL: u, Host: u.Host, Header: http.Header{"Sec-Websocket-Version": {"13"}}}
	if offer != "" {
		req.Header.Set("Sec-WebSocket-Extensions", offer)
	}
	tr.Clone()
	nc, err := (&wshttp.Dialer{TLSConfig: tr.TLSClientConfig}).Dial(ctx, req, "h2")
	if err != nil {
		return nil, "", err
	}
	rt := tr.TLSNextProto["h2"](wshttp.HostPort(u), nc.(*tls.Conn))
	resp, s, err := wshttp.ConnectStream(ctx, rt, req)
	if err != nil {
		return nil, "", err
	}
	return s, strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", "), nil
}
