package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// mode is one way of carrying a test's connections: with or without
// permessage-deflate, over TCP or TLS. Tests of the connection itself run in
// every mode, as net/http's tests run over HTTP/1 and HTTP/2.
type mode struct {
	deflate bool // both ends negotiate permessage-deflate and compress every message
	tls     bool // wss:// to httptest's TLS server
}

var (
	plainTCP   = mode{}
	deflateTCP = mode{deflate: true}
	plainTLS   = mode{tls: true}
	deflateTLS = mode{deflate: true, tls: true}
)

// allModes is what run uses when it is given no modes.
var allModes = []mode{plainTCP, deflateTCP, plainTLS, deflateTLS}

// String names the mode's subtest: plain-tcp, deflate-tcp, plain-tls, deflate-tls.
func (m mode) String() string {
	s := "plain"
	if m.deflate {
		s = "deflate"
	}
	if m.tls {
		return s + "-tls"
	}
	return s + "-tcp"
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
	url  string      // ws:// or wss://
	tls  *tls.Config // in TLS modes, trusts the server's certificate
}

// serve serves h in the mode's transport until the test ends.
func (m mode) serve(t testing.TB, h http.Handler) *testServer {
	t.Helper()
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

// echo serves echoHandler with the mode's accept options.
func (m mode) echo(t testing.TB, opts *AcceptOptions) *testServer {
	t.Helper()
	return m.serve(t, echoHandler(t, m.acceptOptions(opts)))
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
