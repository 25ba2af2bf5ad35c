package wshttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// UpgradeBufferSize is how much of a connection's first request
// ServeUpgrades reads before it decides: an upgrade whose request does not
// fit goes to net/http.
const UpgradeBufferSize = 4096

// ServeUpgrades accepts connections on ln and serves them with srv,
// reading each plain connection's first request itself: an upgrade that
// ParseUpgradeRequest takes goes to srv.Handler with a ResponseWriter that
// holds no buffers of its own, every other connection to srv, its bytes
// replayed. It returns what srv.Serve returns once srv is shut down or
// closed, or the error that ended ln.
func ServeUpgrades(srv *http.Server, ln net.Listener) error {
	s := NewUpgradeServer(srv, ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.Retry(err, &delay) {
				continue
			}
			return s.Finish(err)
		}
		delay = 0
		if _, ok := nc.(*tls.Conn); ok {
			// HTTP/2 and the request's TLS state are net/http's to set up.
			s.rest.push(nc)
			continue
		}
		go s.handshake(nc)
	}
}

// UpgradeServer is one call of ServeUpgrades, or of an engine's, which
// accepts the connections itself: it serves the upgrades whose request it
// read, and hands every other connection to srv.Serve, which runs from
// NewUpgradeServer to Finish.
type UpgradeServer struct {
	srv     *http.Server
	base    context.Context
	rest    *connQueue // srv's listener: the connections it serves
	served  chan error // srv.Serve's result
	buffers sync.Pool  // of *[UpgradeBufferSize]byte, a first request's
	// srvCtx is base with srv as its http.ServerContextKey; connCtx is
	// srvCtx with every connection's local address as its
	// http.LocalAddrContextKey, when ln is bound to one TCP address (nil
	// when each connection must be asked): what net/http gives every
	// request, made once.
	srvCtx, connCtx context.Context
}

// NewUpgradeServer starts serving, with srv, the connections the returned
// server hands on from ln.
func NewUpgradeServer(srv *http.Server, ln net.Listener) *UpgradeServer {
	s := &UpgradeServer{srv: srv, base: context.Background(), served: make(chan error, 1)}
	if srv.BaseContext != nil {
		s.base = srv.BaseContext(ln)
		if s.base == nil {
			panic("BaseContext returned a nil context")
		}
	}
	s.buffers.New = func() any { return new([UpgradeBufferSize]byte) }
	s.srvCtx = context.WithValue(s.base, http.ServerContextKey, srv)
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		s.connCtx = context.WithValue(s.srvCtx, http.LocalAddrContextKey, a)
	}
	s.rest = &connQueue{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
	go func() { s.served <- srv.Serve(s.rest) }()
	return s
}

// Retry reports whether accepting goes on after err: when err is
// temporary, as descriptor exhaustion is, it waits first, as net/http
// does, longer each time (delay, which the caller zeroes after an accept).
func (s *UpgradeServer) Retry(err error, delay *time.Duration) bool {
	if !isTemporary(err) {
		return false
	}
	*delay = min(max(2**delay, 5*time.Millisecond), time.Second)
	s.logf("http: Accept error: %v; retrying in %v", err, *delay)
	select {
	case <-time.After(*delay):
		return true
	case <-s.rest.done:
		return false
	}
}

// Finish stops srv.Serve and returns http.ErrServerClosed when srv was shut
// down or closed, or else err, what ended accepting.
func (s *UpgradeServer) Finish(err error) error {
	s.rest.Close()
	if serr := <-s.served; errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// Done is closed once srv is shut down or closed, or Finish was called.
func (s *UpgradeServer) Done() <-chan struct{} { return s.rest.done }

// HeaderTimeout bounds the wait for a connection's first request:
// srv.ReadHeaderTimeout, else srv.ReadTimeout; zero for none.
func (s *UpgradeServer) HeaderTimeout() time.Duration {
	if s.srv.ReadHeaderTimeout > 0 {
		return s.srv.ReadHeaderTimeout
	}
	return s.srv.ReadTimeout
}

// Buffer returns a pooled buffer for a first request, which Serve gives
// back.
func (s *UpgradeServer) Buffer() *[UpgradeBufferSize]byte {
	return s.buffers.Get().(*[UpgradeBufferSize]byte)
}

// PutBuffer gives back a buffer that Serve will not be given.
func (s *UpgradeServer) PutBuffer(buf *[UpgradeBufferSize]byte) { s.buffers.Put(buf) }

// ScanRequest looks at buf[:n], a connection's first bytes, of which the
// last m just arrived, and returns where the blank line that ends its
// request begins (-1 while it has not arrived), and whether those bytes
// cannot begin an upgrade, which makes the request net/http's.
func ScanRequest(buf []byte, n, m int) (end int, other bool) {
	if !bytes.HasPrefix(buf[:n], []byte("GET /")) && !bytes.HasPrefix([]byte("GET /"), buf[:n]) {
		return -1, true
	}
	from := max(0, n-m-3)
	end = bytes.Index(buf[from:n], []byte("\r\n\r\n"))
	if end >= 0 {
		end += from
	}
	return end, false
}

// handshake reads nc's first request and serves it.
func (s *UpgradeServer) handshake(nc net.Conn) {
	if t := s.HeaderTimeout(); t > 0 {
		nc.SetReadDeadline(time.Now().Add(t))
	}
	buf := s.Buffer()
	n, end, other := 0, -1, false
	for end < 0 && !other && n < len(buf) {
		m, err := nc.Read(buf[n:])
		if m > 0 {
			n += m
			end, other = ScanRequest(buf[:], n, m)
		}
		if err != nil && end < 0 && !other {
			// Closed, reset or too slow before the request's end, as
			// net/http would have found it.
			s.PutBuffer(buf)
			nc.Close()
			return
		}
	}
	s.Serve(nc, buf, n, end)
}

// Serve serves the connection nc whose first n bytes are in buf, the
// request ending at end (-1: not found in them), and gives buf back: an
// upgrade that ParseUpgradeRequest takes goes to srv.Handler, in this
// goroutine; anything else goes to srv, those bytes replayed.
func (s *UpgradeServer) Serve(nc net.Conn, buf *[UpgradeBufferSize]byte, n, end int) {
	var r http.Request // copied to the heap with its context (serve)
	if end < 0 || (s.srv.MaxHeaderBytes > 0 && end+4 > s.srv.MaxHeaderBytes) || !ParseUpgradeRequest(buf[:end+2], &r) {
		nc.SetReadDeadline(time.Time{})
		pc := &prefixConn{Conn: nc, prefix: append([]byte(nil), buf[:n]...)}
		s.PutBuffer(buf)
		s.rest.push(pc)
		return
	}
	w := &upgradeWriter{nc: nc, s: s}
	if after := buf[end+4 : n]; len(after) > 0 {
		w.after = append([]byte(nil), after...)
	}
	s.PutBuffer(buf)
	s.serve(w, &r)
}

// isTemporary reports whether err says so of itself, as descriptor
// exhaustion does.
func isTemporary(err error) bool {
	var te interface{ Temporary() bool }
	return errors.As(err, &te) && te.Temporary()
}

// serve runs srv.Handler for a copy of parsed as net/http would: in a
// context of its own, ended when the handler returns, with a panic logged
// and the connection closed.
func (s *UpgradeServer) serve(w *upgradeWriter, parsed *http.Request) {
	nc := w.nc
	ctx := s.connCtx
	if ctx == nil {
		ctx = context.WithValue(s.srvCtx, http.LocalAddrContextKey, nc.LocalAddr()) // a system call
	}
	if s.srv.ConnContext != nil {
		ctx = s.srv.ConnContext(ctx, nc)
		if ctx == nil {
			panic("ConnContext returned nil")
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := parsed.WithContext(ctx)
	r.RemoteAddr = remoteAddr(nc)
	s.state(nc, http.StateNew)
	s.state(nc, http.StateActive)
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				stack := make([]byte, 64<<10)
				stack = stack[:runtime.Stack(stack, false)]
				s.logf("http: panic serving %v: %v\n%s", r.RemoteAddr, v, stack)
			}
			if !w.hijacked {
				nc.Close()
				s.state(nc, http.StateClosed)
			}
		}
	}()
	h := s.srv.Handler
	if h == nil {
		h = http.DefaultServeMux
	}
	h.ServeHTTP(w, r)
	if !w.hijacked {
		w.finish()
	}
}

// remoteAddr is nc's remote address as a string, made in one allocation
// where nc can (an engine's socket).
func remoteAddr(nc net.Conn) string {
	if a, ok := nc.(interface{ RemoteAddrString() string }); ok {
		return a.RemoteAddrString()
	}
	return nc.RemoteAddr().String()
}

// state tells srv.ConnState, if set, that nc is in state st.
func (s *UpgradeServer) state(nc net.Conn, st http.ConnState) {
	if s.srv.ConnState != nil {
		s.srv.ConnState(nc, st)
	}
}

// logf logs to srv.ErrorLog, or the log package's standard logger.
func (s *UpgradeServer) logf(format string, args ...any) {
	if s.srv.ErrorLog != nil {
		s.srv.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// upgradeWriter is the ResponseWriter of an upgrade ServeUpgrades read:
// Hijack hands the connection over with what the client sent after its
// request; a handler that does not hijack has its response kept, then
// written with Connection: close.
type upgradeWriter struct {
	nc       net.Conn
	s        *UpgradeServer
	after    []byte // sent after the request
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

// Header returns the response's header fields.
func (w *upgradeWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

// WriteHeader sets the response's status, once.
func (w *upgradeWriter) WriteHeader(status int) {
	if w.status == 0 && !w.hijacked {
		w.status = status
	}
}

// Write adds p to the response's body.
func (w *upgradeWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Hijack hands the connection over, what the client sent after its
// request buffered in the reader.
func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, after, err := w.takeOver()
	if err != nil {
		return nil, nil, err
	}
	nc.SetReadDeadline(time.Time{})
	var br *bufio.Reader
	if len(after) > 0 {
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(after), nc), len(after))
		br.Peek(len(after))
	} else {
		br = bufio.NewReaderSize(nc, 16)
	}
	// The writer's buffer is as small as its reader's: a response
	// written whole goes straight to the connection.
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, 16)), nil
}

// takeOver hands the connection over as Hijack does, with what the client
// sent after its request, making no buffered reader or writer: Switch's
// way in.
func (w *upgradeWriter) takeOver() (net.Conn, []byte, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.hijacked = true
	w.s.state(w.nc, http.StateHijacked)
	after := w.after
	w.after = nil
	return w.nc, after, nil
}

// finish writes the response of a handler that did not hijack, and closes
// the connection.
func (w *upgradeWriter) finish() {
	w.WriteHeader(http.StatusOK)
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Length", strconv.Itoa(w.body.Len()))
	if h.Get("Content-Type") == "" && w.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(w.body.Bytes()))
	}
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + strconv.Itoa(w.status) + " " + http.StatusText(w.status) + "\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(w.body.Bytes())
	if t := w.s.srv.WriteTimeout; t > 0 {
		w.nc.SetWriteDeadline(time.Now().Add(t))
	}
	w.nc.Write(b.Bytes())
	if tcp, ok := w.nc.(interface{ CloseWrite() error }); ok {
		// Let the response reach the client before the close resets it.
		tcp.CloseWrite()
	}
	w.nc.Close()
	w.s.state(w.nc, http.StateClosed)
}

// prefixConn replays prefix, the bytes read to decide, before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

// Read reads the prefix first.
func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		if len(c.prefix) == 0 {
			c.prefix = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the connection underneath, for a listener's guard to
// find itself.
func (c *prefixConn) NetConn() net.Conn { return c.Conn }

// connQueue is srv's listener: the connections ServeUpgrades hands on.
// Closing it closes the listener underneath, so that srv.Shutdown ends
// ServeUpgrades too.
type connQueue struct {
	ln    net.Listener
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

// Accept returns the next connection handed on.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close closes the queue and the listener underneath.
func (q *connQueue) Close() error {
	err := net.ErrClosed
	q.once.Do(func() {
		close(q.done)
		err = q.ln.Close()
	})
	return err
}

// Addr returns the listener's address.
func (q *connQueue) Addr() net.Addr { return q.ln.Addr() }
