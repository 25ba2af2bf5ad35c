package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// mode is one way of serving a test's connections: with or without
// permessage-deflate, a goroutine per connection over TCP or TLS, an Engine
// over TCP (event mode on Linux) or TLS (a goroutine per connection inside
// the engine), or HTTP/2 streams over TLS (RFC 8441). Tests of the
// connection itself run in every mode, as net/http's tests run over HTTP/1
// and HTTP/2.
type mode struct {
	deflate bool // both ends negotiate permessage-deflate and compress every message
	tls     bool // wss:// to httptest's TLS server
	engine  bool // the server's connections are served by an Engine
	http2   bool // the WebSocket is an HTTP/2 stream (with tls)
	// accept: the Engine accepts the server's sockets itself
	// (Engine.ServeUpgrades), with engine and without tls.
	accept bool
}

var (
	plainTCP      = mode{}
	deflateTCP    = mode{deflate: true}
	plainTLS      = mode{tls: true}
	deflateTLS    = mode{deflate: true, tls: true}
	plainEngine   = mode{engine: true}
	deflateEngine = mode{deflate: true, engine: true}
	plainEngTLS   = mode{engine: true, tls: true}
	deflateEngTLS = mode{deflate: true, engine: true, tls: true}
	plainEngAcc   = mode{engine: true, accept: true}
	deflateEngAcc = mode{deflate: true, engine: true, accept: true}
	plainHTTP2    = mode{http2: true, tls: true}
	deflateHTTP2  = mode{deflate: true, http2: true, tls: true}
)

// allModes is what run uses when it is given no modes: every way a Conn
// is served, plain and compressed.
var allModes = []mode{
	plainTCP, deflateTCP, plainTLS, deflateTLS,
	plainEngine, deflateEngine, plainEngTLS, deflateEngTLS,
	plainEngAcc, deflateEngAcc,
	plainHTTP2, deflateHTTP2,
}

// String names the mode's subtest: plain-tcp, deflate-tls,
// plain-engine-tcp, deflate-engine-tls, plain-engine-accept, plain-http2
// and so on.
func (m mode) String() string {
	s := "plain"
	if m.deflate {
		s = "deflate"
	}
	switch {
	case m.http2:
		return s + "-http2"
	case m.accept:
		return s + "-engine-accept"
	case m.engine:
		s += "-engine"
	}
	if m.tls {
		return s + "-tls"
	}
	return s + "-tcp"
}

// needsReadingServer skips a test whose server calls Read or Reader in its
// handler, which an Engine's connection refuses: in engine modes the
// server's side of a test is written with start instead. It is the
// one place that says what a mode cannot do.
func (m mode) needsReadingServer(t testing.TB) {
	t.Helper()
	if m.engine {
		t.Skipf("%v: the test's server reads with Read or Reader, which an Engine's connection refuses (ErrReadOwned); its messages reach OnMessage", m)
	}
}

// run runs f in each of modes (every mode when none is given), each a
// parallel subtest of t, which runs in parallel too.
func run(t *testing.T, f func(t *testing.T, m mode), modes ...mode) {
	t.Helper()
	t.Parallel()
	if len(modes) == 0 {
		modes = allModes
	}
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// acceptOptions returns opts (nil: new defaults) set to compress every
// message in deflate modes, unless opts sets its own Compression. It
// changes opts, which is the caller's own and not yet used (an
// AcceptOptions is not copied).
func (m mode) acceptOptions(opts *AcceptOptions) *AcceptOptions {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if m.deflate && opts.Compression == nil {
		opts.Compression = &CompressionOptions{Threshold: -1}
	}
	return opts
}

// testServer is a server a test started in some mode.
type testServer struct {
	mode mode
	url  string          // ws:// or wss://
	tls  *tls.Config     // in TLS modes, trusts the server's certificate
	h2   *http.Transport // in HTTP/2 modes, the client's transport

	engine *Engine        // in engine modes, start's Engine
	ends   chan serverEnd // in start's servers, each connection's end
}

// serverEnd is a server connection that ended, with the error that ended
// it: what Read returned in goroutine modes, what OnClose got in engine
// modes.
type serverEnd struct {
	c   *Conn
	err error
}

// serve serves h, a handler that reads its connection with Read or
// Reader, in the mode's transport until the test ends; in engine modes
// the test is skipped (see needsReadingServer).
func (m mode) serve(t testing.TB, h http.Handler) *testServer {
	t.Helper()
	m.needsReadingServer(t)
	return m.serveHTTP(t, h)
}

// serveHTTP serves h in the mode's transport until the test ends.
func (m mode) serveHTTP(t testing.TB, h http.Handler) *testServer {
	t.Helper()
	if m.http2 {
		srv := startH2(t, true, h)
		tr := srv.h2Transport()
		t.Cleanup(tr.CloseIdleConnections)
		return &testServer{mode: m, url: srv.wsURL(), tls: tr.TLSClientConfig, h2: tr}
	}
	if !m.tls {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return &testServer{mode: m, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &testServer{mode: m, url: "wss" + strings.TrimPrefix(srv.URL, "https"), tls: &tls.Config{RootCAs: roots}}
}

// serveAccepted serves h on a loopback listener through
// e.ServeUpgrades until the test ends: the bare TCP listener in plain
// mode; with deflate, the TCP listener inside a Listener guard inside a
// ReleaseListener, as duplex serve stacks them.
func serveAccepted(t testing.TB, m mode, e *Engine, h http.Handler) *testServer {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tl
	srv := &http.Server{Handler: h}
	if m.deflate {
		wl := NewListener(tl, nil)
		srv.ConnContext = wl.ConnContext
		ln = NewReleaseListener(wl, nil)
	}
	served := make(chan error, 1)
	go func() { served <- e.ServeUpgrades(srv, ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Engine.ServeUpgrades returned %v, want http.ErrServerClosed", err)
		}
	})
	return &testServer{mode: m, url: "ws://" + tl.Addr().String()}
}

// echo serves an echo of every message, with the mode's accept options.
func (m mode) echo(t testing.TB, opts *AcceptOptions) *testServer {
	t.Helper()
	return m.start(t, handler{Accept: opts})
}

// handler is a test's server side, written once for every mode. In
// goroutine modes the HTTP handler reads the connection in a loop and calls
// OnMessage with each message; in engine modes the Engine does. Either way
// OnMessage may write to c, Ping or Close it, never read it but through r,
// and what it leaves of r is discarded.
type handler struct {
	Accept *AcceptOptions // the mode's compression is added
	Engine *EngineOptions // engine modes: options beside OnMessage and OnClose
	// OnAccept, when set, is called with each connection once it is
	// served: before its first message in goroutine modes, while the engine
	// already reads it in engine modes. It may write, Ping (from another
	// goroutine) or Close.
	OnAccept  func(c *Conn)
	OnMessage func(c *Conn, typ MessageType, r io.Reader) // nil: echo
}

// start serves h in mode m until the test ends.
func (m mode) start(t testing.TB, h handler) *testServer {
	t.Helper()
	onMessage := h.OnMessage
	if onMessage == nil && h.Engine != nil {
		onMessage = h.Engine.OnMessage
	}
	if onMessage == nil {
		onMessage = echoMessage
	}
	opts := m.acceptOptions(h.Accept)
	ends := make(chan serverEnd, 1024)
	// ended records a connection's end for testServer.ended; a test that
	// does not look at them never blocks a server on a full channel.
	ended := func(c *Conn, err error) {
		select {
		case ends <- serverEnd{c, err}:
		default:
		}
	}
	var e *Engine
	if m.engine {
		var eo EngineOptions
		if h.Engine != nil {
			eo = *h.Engine
		}
		eo.OnMessage = onMessage
		eo.OnClose = func(c *Conn, err error) {
			if h.Engine != nil && h.Engine.OnClose != nil {
				h.Engine.OnClose(c, err)
			}
			ended(c, err)
		}
		var err error
		if e, err = NewEngine(&eo); err != nil {
			t.Fatal(err)
		}
		// After the server's Close, in cleanup order: no Serve comes later.
		t.Cleanup(func() { e.Close() })
	}
	serve := m.serveHTTP
	if m.accept {
		serve = func(t testing.TB, h http.Handler) *testServer { return serveAccepted(t, m, e, h) }
	}
	s := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		if e != nil {
			if err := e.Serve(c); err != nil {
				// ErrClosed: the client left, or the test is over and
				// the engine closed, before the handler got here.
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Serve: %v", err)
				}
				c.CloseNow()
				return
			}
			if h.OnAccept != nil {
				h.OnAccept(c)
			}
			return
		}
		defer c.CloseNow()
		if h.OnAccept != nil {
			h.OnAccept(c)
		}
		for {
			typ, rd, err := c.Reader(context.Background())
			if err != nil {
				ended(c, err)
				return
			}
			onMessage(c, typ, rd)
			io.Copy(io.Discard, rd)
		}
	}))
	s.engine, s.ends = e, ends
	return s
}

// ended returns the next server connection to end.
func (s *testServer) ended(t testing.TB) serverEnd {
	t.Helper()
	select {
	case e := <-s.ends:
		return e
	case <-time.After(10 * time.Second):
		t.Fatalf("%v: no server connection ended within 10s", s.mode)
		return serverEnd{}
	}
}

// echoMessage sends a message back as it arrives.
func echoMessage(c *Conn, typ MessageType, r io.Reader) {
	w, err := c.Writer(context.Background(), typ)
	if err != nil {
		return
	}
	if _, err := io.Copy(w, r); err != nil {
		return
	}
	w.Close()
}

// dialOptions returns a copy of opts (nil: the defaults) that offers
// compression of every message in deflate modes, unless opts sets its own,
// and trusts the server's certificate in TLS modes.
func (s *testServer) dialOptions(opts *DialOptions) *DialOptions {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	if s.mode.deflate && o.Compression == nil {
		o.Compression = &CompressionOptions{Threshold: -1}
	}
	if o.TLSConfig == nil {
		o.TLSConfig = s.tls
	}
	if o.HTTP2 == nil {
		o.HTTP2 = s.h2
	}
	return &o
}

// dial connects to the server's root with the mode's options added to
// opts, checks that compression was negotiated in deflate modes, and closes
// the connection when the test ends.
func (s *testServer) dial(t testing.TB, opts *DialOptions) *Conn {
	t.Helper()
	c := dialT(t, s.url, s.dialOptions(opts))
	if s.mode.deflate && !strings.Contains(c.Extensions(), "permessage-deflate") {
		t.Fatalf("%v: negotiated extensions %q, want permessage-deflate", s.mode, c.Extensions())
	}
	return c
}

// dialT dials url and closes the connection when the test ends.
func dialT(t testing.TB, url string, opts *DialOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// startEcho starts an echo server over TCP and returns its ws:// URL.
func startEcho(t testing.TB, opts *AcceptOptions) string {
	t.Helper()
	return plainTCP.echo(t, opts).url
}
