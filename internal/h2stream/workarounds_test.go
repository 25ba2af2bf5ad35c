package h2stream

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duplexws/websocket/xconnect" // the HTTP/2 servers here offer extended CONNECT
)

// Each test here holds one behaviour of net/http that this package works
// around, and names the Go release it came with: when one fails, a Go
// release changed that behaviour, and the workaround it names must follow.

// startServer serves h over HTTP/2, with TLS or without (h2c).
func startServer(t *testing.T, overTLS bool, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if overTLS {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// transport returns an HTTP/2 client transport that trusts srv.
func transport(srv *httptest.Server) *http.Transport {
	tr := &http.Transport{ForceAttemptHTTP2: true, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(true)
	if srv.TLS != nil {
		tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	} else {
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return tr
}

// connect opens a stream to srv as Dial does: through the pool of an
// HTTP/2 transport's round tripper.
func connect(t *testing.T, srv *httptest.Server) *Conn {
	t.Helper()
	tr := transport(srv)
	t.Cleanup(tr.CloseIdleConnections)
	u, _ := url.Parse(srv.URL)
	overTLS := srv.TLS != nil
	dial := func() (net.Conn, error) {
		if overTLS {
			return tls.Dial("tcp", u.Host, &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com", NextProtos: []string{"h2"}})
		}
		return net.Dial("tcp", u.Host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rt, nc, err := Pooled(ctx, tr, NextProto(tr, overTLS), u.Host, overTLS, dial)
	if err != nil || nc != nil {
		t.Fatalf("Pooled: %v, %v", nc, err)
	}
	resp, s, err := Connect(ctx, rt, &http.Request{URL: u, Host: u.Host, Header: http.Header{"Sec-Websocket-Version": {"13"}}})
	if err != nil || s == nil {
		t.Fatalf("Connect: %v, %v", resp, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// echoStream echoes what a stream carries, after a 200.
func echoStream(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	s := NewServerConn(w, rc, r)
	io.Copy(s, s)
}

// TestEcho carries bytes both ways on a stream, over TLS and over h2c,
// whose connections reach the HTTP/2 round tripper wrapped as net/http's
// "unencrypted_http2" convention asks (Go 1.24's Protocols).
func TestEcho(t *testing.T) {
	for _, overTLS := range []bool{true, false} {
		t.Run(fmt.Sprintf("tls=%t", overTLS), func(t *testing.T) {
			t.Parallel()
			s := connect(t, startServer(t, overTLS, http.HandlerFunc(echoStream)))
			if _, err := s.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 5)
			s.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "hello" {
				t.Fatalf("echo %q, %v", buf, err)
			}
			if s.RemoteAddr().String() == "unknown" {
				t.Errorf("RemoteAddr %v: the trace saw no connection", s.RemoteAddr())
			}
		})
	}
}

// TestExtendedConnectGODEBUG holds ExtendedConnectEnabled: Go 1.24's
// HTTP/2 server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL when GODEBUG
// held http2xconnect=1 at start (here, package xconnect put it there), and
// not when it held http2xconnect=0 (a child process).
func TestExtendedConnectGODEBUG(t *testing.T) {
	if os.Getenv("H2STREAM_CHILD") == "1" {
		fmt.Printf("advertised=%t enabled=%t\n", advertisesExtendedConnect(t), ExtendedConnectEnabled)
		return
	}
	if got := advertisesExtendedConnect(t); !got || !ExtendedConnectEnabled {
		t.Errorf("with GODEBUG=%q: advertised %t, ExtendedConnectEnabled %t; want both", os.Getenv("GODEBUG"), got, ExtendedConnectEnabled)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestExtendedConnectGODEBUG$")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=0", "H2STREAM_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "advertised=false enabled=false") {
		t.Errorf("with GODEBUG=http2xconnect=0: %s %v; want neither advertised nor enabled", out, err)
	}
}

// advertisesExtendedConnect reports whether an HTTP/2 server of this
// process sends SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) = 1.
func advertisesExtendedConnect(t *testing.T) bool {
	srv := startServer(t, true, http.NotFoundHandler())
	nc, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	nc.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0}) // an empty SETTINGS
	br := bufio.NewReader(nc)
	for {
		var hdr [9]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, int(hdr[0])<<16|int(hdr[1])<<8|int(hdr[2]))
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		if hdr[3] != 4 || hdr[4]&1 != 0 {
			continue // not the server's SETTINGS
		}
		for p := payload; len(p) >= 6; p = p[6:] {
			if binary.BigEndian.Uint16(p) == 8 {
				return binary.BigEndian.Uint32(p[2:]) == 1
			}
		}
		return false
	}
}

// TestProtocolPseudoHeader holds Protocol and NextProto: the HTTP/2 round
// tripper of Transport.TLSNextProto sends the :protocol pseudo-header, and
// net/http's server hands it to the handler as a header field (Go 1.24).
func TestProtocolPseudoHeader(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := startServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + Protocol(r)
		echoStream(w, r)
	}))
	connect(t, srv)
	if g := <-got; g != "CONNECT websocket" {
		t.Fatalf("the handler saw %q, want CONNECT websocket", g)
	}
}

// TestRoundTripRefusesProtocol holds why NextProto is used: net/http's
// Transport.RoundTrip refuses the :protocol pseudo-header (Go 1.24).
func TestRoundTripRefusesProtocol(t *testing.T) {
	t.Parallel()
	srv := startServer(t, true, http.HandlerFunc(echoStream))
	req, _ := http.NewRequest(http.MethodConnect, srv.URL, http.NoBody)
	req.Header[":protocol"] = []string{"websocket"}
	resp, err := transport(srv).RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("Transport.RoundTrip sent :protocol (%s): Dial could use it instead of TLSNextProto", resp.Status)
	}
}

// TestCloneSetsUpNextProto holds NextProto's Clone: a Transport sets
// TLSNextProto up lazily, on its first use or Clone (Go 1.6).
func TestCloneSetsUpNextProto(t *testing.T) {
	tr := &http.Transport{ForceAttemptHTTP2: true}
	if tr.TLSNextProto["h2"] != nil {
		t.Fatal("a new Transport has TLSNextProto set up already: NextProto's Clone can go")
	}
	if NextProto(tr, true) == nil {
		t.Fatal("NextProto found no h2 round tripper after Clone")
	}
}

// TestExtendedConnectUnsupportedError holds ExtendedConnectUnsupported: to
// a server that does not advertise extended CONNECT, net/http's round
// tripper fails with "extended connect not supported by peer" (Go 1.24).
func TestExtendedConnectUnsupportedError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an h2c server whose SETTINGS leave extended CONNECT out
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0})
		io.Copy(io.Discard, nc)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	rt := NextProto(tr, false)(ln.Addr().String(), wrapForNextProto(nc, false))
	u, _ := url.Parse("http://" + ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = Connect(ctx, rt, &http.Request{URL: u, Host: u.Host, Header: http.Header{}})
	if !ExtendedConnectUnsupported(err) {
		t.Fatalf("Connect = %v, want net/http's %q", err, errExtendedConnectUnsupported)
	}
}

// TestProbeFindsPool holds Pooled's probe: a round tripper maker asked with
// a connection while its transport pools none to the server uses that
// connection, and a round trip on it fails as NoPooledConn says; once a
// connection is pooled the maker keeps to it; once the pool is emptied, a
// round trip fails with "http2: no cached connection was available" (Go
// 1.24).
func TestProbeFindsPool(t *testing.T) {
	t.Parallel()
	srv := startServer(t, false, http.HandlerFunc(echoStream))
	tr := transport(srv)
	defer tr.CloseIdleConnections()
	u, _ := url.Parse(srv.URL)
	next := NextProto(tr, false)
	probe := &unusableConn{}
	rt := next(u.Host, wrapForNextProto(probe, false))
	if !probe.used.Load() {
		t.Fatal("an empty pool did not use the connection it was given")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	if _, err := rt.RoundTrip(req); err == nil || !NoPooledConn(err) {
		t.Fatalf("a round trip on the probe = %v; NoPooledConn does not recognise it", err)
	}
	var dialled atomic.Int32
	dial := func() (net.Conn, error) { dialled.Add(1); return net.Dial("tcp", u.Host) }
	var pooled http.RoundTripper
	for range 2 {
		rt, nc, err := Pooled(context.Background(), tr, next, u.Host, false, dial)
		if err != nil || nc != nil {
			t.Fatalf("Pooled: %v, %v", nc, err)
		}
		pooled = rt
	}
	if n := dialled.Load(); n != 1 {
		t.Fatalf("two Pooled calls dialled %d connections, want 1", n)
	}

	// The pooled connection goes away before the round trip: net/http
	// says so in the words errNoCachedConn holds.
	tr.CloseIdleConnections()
	req, _ = http.NewRequest(http.MethodGet, srv.URL, nil)
	_, err := pooled.RoundTrip(req)
	if err == nil || err.Error() != errNoCachedConn || !NoPooledConn(err) {
		t.Fatalf("a round trip with the pool emptied = %v, want net/http's %q", err, errNoCachedConn)
	}
}

// TestWriteAfterHandlerPanics holds handlerAlive's recover: net/http's
// HTTP/2 ResponseWriter panics when written after its handler returned
// (every release to Go 1.26).
func TestWriteAfterHandlerPanics(t *testing.T) {
	if raceEnabled {
		t.Skip("it writes a ResponseWriter after its handler returned, a race inside net/http the race detector reports; it runs without -race")
	}
	t.Parallel()
	kept := make(chan http.ResponseWriter, 1)
	srv := startServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { kept <- w }))
	tr := transport(srv)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("served over %s", resp.Proto)
	}
	w := <-kept
	var p any
	func() {
		defer func() { p = recover() }()
		w.Write([]byte("late"))
	}()
	if s, _ := p.(string); !strings.Contains(s, "after Handler finished") {
		t.Fatalf("a write after the handler returned: panic %v; want net/http's", p)
	}
	handlerAlive(context.Background(), func() { w.Write([]byte("late")) }) // no panic escapes
	var n int
	err = ErrHandlerReturned
	handlerAlive(context.Background(), func() { n, err = w.Write([]byte("late")) })
	if n != 0 || !errors.Is(err, ErrHandlerReturned) {
		t.Fatalf("handlerAlive let a write through: %d, %v", n, err)
	}
}

// TestWriteDeadlineEndsBlockedWrite holds a server stream's abortWrite:
// ResponseController.SetWriteDeadline in the past resets an HTTP/2 stream
// and ends a write that waits for flow control (Go 1.20).
func TestWriteDeadlineEndsBlockedWrite(t *testing.T) {
	if raceEnabled {
		t.Skip("it writes a ResponseWriter after its handler returned, a race inside net/http the race detector reports; it runs without -race")
	}
	t.Parallel()
	done := make(chan error, 1)
	srv := startServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		s := NewServerConn(w, rc, r)
		time.AfterFunc(300*time.Millisecond, func() { s.SetWriteDeadline(time.Unix(1, 0)) })
		chunk := make([]byte, 64<<10)
		for {
			if _, err := s.Write(chunk); err != nil {
				done <- err
				return
			}
		}
	}))
	connect(t, srv) // and never read
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the blocked write returned %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write blocked on flow control outlived its deadline")
	}
}
