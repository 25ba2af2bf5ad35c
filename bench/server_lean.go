package bench

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serveLeanUpgrades serves handler on ln, reading each connection's first
// request itself with a small pooled buffer: a WebSocket upgrade goes
// straight to handler with a ResponseWriter that can be hijacked and
// nothing else from net/http (no bufio pair, no request context), every
// other connection to a net/http server, its bytes replayed.
//
// It is a prototype of an opt-in upgrade path, measured by the cold-start
// rows (duplex-engine-lean-release) to see what net/http's share of a
// handshake costs a storm; it still runs a goroutine per handshake, reads
// one request per connection and answers what the handler does not
// hijack with Connection: close.
func serveLeanUpgrades(ln net.Listener, handler http.Handler) (stop func(), err error) {
	fwd := &connQueue{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(fwd)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				fwd.Close()
				return
			}
			go leanHandshake(nc, handler, fwd)
		}
	}()
	return func() { ln.Close(); srv.Close() }, nil
}

// leanBuffers lends the buffer a lean handshake reads its request into.
var leanBuffers = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// leanHandshake reads nc's first request and serves it: an upgrade with
// handler, anything else through fwd.
func leanHandshake(nc net.Conn, handler http.Handler, fwd *connQueue) {
	bp := leanBuffers.Get().(*[]byte)
	buf := *bp
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, end := 0, -1
	for end < 0 && n < len(buf) {
		m, err := nc.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
		end = bytes.Index(buf[:n], []byte("\r\n\r\n"))
	}
	nc.SetReadDeadline(time.Time{})
	r := (*http.Request)(nil)
	if end >= 0 {
		r = parseLeanRequest(buf[:end+2])
	}
	if r == nil || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		rest := append([]byte(nil), buf[:n]...)
		leanBuffers.Put(bp)
		fwd.push(&prefixConn{Conn: nc, prefix: rest})
		return
	}
	rest := buf[end+4 : n]
	r.RemoteAddr = nc.RemoteAddr().String()
	w := &leanWriter{nc: nc, header: http.Header{}}
	if len(rest) > 0 {
		w.rest = bufio.NewReaderSize(bytes.NewReader(append([]byte(nil), rest...)), max(16, len(rest)))
		w.rest.Peek(len(rest))
	}
	leanBuffers.Put(bp)
	handler.ServeHTTP(w, r)
	if !w.hijacked {
		w.finish()
	}
}

// parseLeanRequest parses a request line and header fields, or returns nil.
func parseLeanRequest(p []byte) *http.Request {
	line, p, ok := bytes.Cut(p, []byte("\r\n"))
	if !ok {
		return nil
	}
	method, rest, ok1 := strings.Cut(string(line), " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return nil
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return nil
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	h := make(http.Header, 8)
	for len(p) > 0 {
		var l []byte
		l, p, _ = bytes.Cut(p, []byte("\r\n"))
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return nil
		}
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		h[key] = append(h[key], string(bytes.TrimSpace(v)))
	}
	r := &http.Request{Method: method, URL: u, Proto: proto, ProtoMajor: major, ProtoMinor: minor,
		Header: h, Host: h.Get("Host"), RequestURI: target, Body: http.NoBody}
	delete(h, "Host")
	return r.WithContext(context.Background())
}

// leanWriter is the ResponseWriter of a lean handshake.
type leanWriter struct {
	nc       net.Conn
	header   http.Header
	status   int
	body     bytes.Buffer
	rest     *bufio.Reader
	hijacked bool
}

// Header, WriteHeader and Write keep the response of a handler that does
// not hijack, for finish.
func (w *leanWriter) Header() http.Header { return w.header }
func (w *leanWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *leanWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Hijack hands the connection over, with the bytes read past the request.
func (w *leanWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.hijacked = true
	br := w.rest
	if br == nil {
		br = bufio.NewReaderSize(w.nc, 16)
	}
	return w.nc, bufio.NewReadWriter(br, bufio.NewWriterSize(w.nc, 256)), nil
}

// finish answers what the handler wrote, and closes the connection.
func (w *leanWriter) finish() {
	w.WriteHeader(http.StatusOK)
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(w.status) + " " + http.StatusText(w.status) + "\r\n")
	w.header.Set("Connection", "close")
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	w.header.Write(&b)
	b.WriteString("\r\n")
	b.Write(w.body.Bytes())
	w.nc.Write(b.Bytes())
	w.nc.Close()
}

// prefixConn replays prefix before reading from Conn.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// connQueue is a net.Listener fed by push.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// push hands c to Accept, or closes it once the queue is closed.
func (q *connQueue) push(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		c.Close()
	}
}

// Accept, Close and Addr make the queue the listener of a net/http server.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}
func (q *connQueue) Close() error   { q.once.Do(func() { close(q.done) }); return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }
