package wshttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// DialThrough sends the opening handshake req through client: its
// Transport carries the request, its Jar adds and stores cookies, its
// CheckRedirect rules redirects, its Timeout bounds the handshake (not the
// connection, which a Timeout on the 101 response's body would cut off).
// check judges the answer, within that bound; when it passes, DialThrough
// returns the answer, its body emptied, and the connection it handed over.
//
// An *http.Transport is cloned for the one connection, kept to HTTP/1.1
// (the Upgrade mechanism is HTTP/1.1's), and its dialer wrapped to see the
// connection it opens: reads and writes go through the 101 response's body,
// deadlines (how contexts end blocked calls) to that connection. Any other
// RoundTripper (one that wraps a transport to add headers, trace or
// authenticate) carries the request as it is; the connection is the one
// net/http's trace reports it got, and net/http sends a WebSocket upgrade
// over HTTP/1.1 by itself.
func DialThrough(ctx context.Context, client *http.Client, req *http.Request, check func(*http.Response) error) (*http.Response, net.Conn, error) {
	if client.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, client.Timeout)
		defer cancel()
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	var seen dialedConn
	cl := *client
	cl.Timeout = 0
	base, ok := rt.(*http.Transport)
	if !ok {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { seen.set(info.Conn) }})
		return upgradeThrough(&cl, req.WithContext(ctx), check, &seen)
	}
	t := base.Clone()
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // not nil: no HTTP/2
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = seen.wrap(dial)
	if t.DialTLSContext != nil {
		t.DialTLSContext = seen.wrap(t.DialTLSContext)
	}
	cl.Transport = t
	defer t.CloseIdleConnections()
	return upgradeThrough(&cl, req.WithContext(ctx), check, &seen)
}

// upgradeThrough sends the handshake req through cl, has check judge the
// answer, and returns the connection of a 101 answer, whose bytes go
// through the answer's body and whose deadlines go to the connection seen
// reports.
func upgradeThrough(cl *http.Client, req *http.Request, check func(*http.Response) error, seen *dialedConn) (*http.Response, net.Conn, error) {
	resp, err := cl.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: handshake through DialOptions.HTTPClient: %w", err)
	}
	if err := check(resp); err != nil {
		resp.Body.Close()
		return resp, nil, err
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	nc := seen.get()
	if !ok || nc == nil {
		resp.Body.Close()
		return resp, nil, errors.New("websocket: DialOptions.HTTPClient's transport gave no connection to take over after 101")
	}
	resp.Body = http.NoBody
	return resp, &upgradedConn{ReadWriteCloser: rwc, nc: nc}, nil
}

// dialedConn remembers the connection a transport's dialer opened.
type dialedConn struct {
	mu sync.Mutex
	nc net.Conn
}

func (d *dialedConn) wrap(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dial(ctx, network, addr)
		if err == nil {
			d.mu.Lock()
			d.nc = nc
			d.mu.Unlock()
		}
		return nc, err
	}
}

func (d *dialedConn) set(nc net.Conn) {
	d.mu.Lock()
	d.nc = nc
	d.mu.Unlock()
}

func (d *dialedConn) get() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nc
}

// upgradedConn is the connection an http.Client handed over after 101:
// bytes go through the response's body, which reads what the transport
// buffered first; addresses and deadlines are the dialed connection's
// (under TLS, a deadline on the connection beneath ends TLS's reads and
// writes as well).
type upgradedConn struct {
	io.ReadWriteCloser
	nc net.Conn
}

func (u *upgradedConn) LocalAddr() net.Addr                { return u.nc.LocalAddr() }
func (u *upgradedConn) RemoteAddr() net.Addr               { return u.nc.RemoteAddr() }
func (u *upgradedConn) SetDeadline(t time.Time) error      { return u.nc.SetDeadline(t) }
func (u *upgradedConn) SetReadDeadline(t time.Time) error  { return u.nc.SetReadDeadline(t) }
func (u *upgradedConn) SetWriteDeadline(t time.Time) error { return u.nc.SetWriteDeadline(t) }
