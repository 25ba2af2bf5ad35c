package websocket

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
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// serveFunc serves srv on ln until srv is shut down: ServeUpgrades, or an
// Engine's.
type serveFunc func(srv *http.Server, ln net.Listener) error

// eachUpgradeServer runs f as two subtests: with ServeUpgrades, and with
// the ServeUpgrades of an Engine (echoing its connections), which accepts
// the sockets itself.
func eachUpgradeServer(t *testing.T, f func(t *testing.T, serve serveFunc)) {
	t.Run("ServeUpgrades", func(t *testing.T) { f(t, ServeUpgrades) })
	t.Run("Engine.ServeUpgrades", func(t *testing.T) {
		f(t, echoEngine(t).ServeUpgrades)
	})
}

// echoEngine returns an Engine that echoes every message, closed when the
// test ends.
func echoEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		p, _ := io.ReadAll(r)
		c.Write(context.Background(), typ, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// upgradeServer serves srv with serve on a fresh loopback listener,
// wrapped by wrap when not nil, and returns its address. The server is
// shut down when the test ends, and serve must then return
// http.ErrServerClosed.
func upgradeServer(t *testing.T, serve serveFunc, srv *http.Server, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	served := make(chan error, 1)
	go func() { served <- serve(srv, ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("ServeUpgrades returned %v after Shutdown, want http.ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("ServeUpgrades did not return after Shutdown")
		}
	})
	return addr
}

// pageOrEcho answers a page, or accepts a WebSocket with opts and echoes it in goroutine
// mode; it reports on seen whether net/http served the request (its
// ResponseWriter flushes; the one of ServeUpgrades does not).
func pageOrEcho(opts *AcceptOptions, seen chan<- bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocketUpgrade(r) {
			io.WriteString(w, "a page at "+r.URL.Path)
			return
		}
		_, byNetHTTP := w.(http.Flusher)
		if seen != nil {
			seen <- byNetHTTP
		}
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil || c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	}
}

// roundTrip dials url with opts, and checks that a message comes back.
func roundTrip(t *testing.T, url string, opts *DialOptions) *Conn {
	t.Helper()
	c := dialT(t, url, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_, p, err := c.Read(ctx)
	if err != nil || string(p) != "hello" {
		t.Fatalf("echo: %q, %v", p, err)
	}
	return c
}

func TestServeUpgradesReadsUpgradesItself(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesReadsUpgradesItself)
}

func testServeUpgradesReadsUpgradesItself(t *testing.T, serve serveFunc) {
	type key struct{}
	seen := make(chan bool, 1)
	var got *http.Request
	returned := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r
			pageOrEcho(nil, seen)(w, r)
			close(returned)
		}),
		BaseContext: func(net.Listener) context.Context { return context.WithValue(context.Background(), key{}, "base") },
	}
	addr := upgradeServer(t, serve, srv, nil)
	c := roundTrip(t, "ws://"+addr+"/chat?room=1", &DialOptions{HTTPHeader: http.Header{"X-Trace": {"a", "b"}}})
	if byNetHTTP := <-seen; byNetHTTP {
		t.Error("a plain upgrade was served by net/http, not by ServeUpgrades")
	}
	if got.URL.Path != "/chat" || got.URL.RawQuery != "room=1" || got.Host != addr ||
		got.RemoteAddr != c.LocalAddr().String() || strings.Join(got.Header["X-Trace"], ",") != "a,b" {
		t.Errorf("the request seen: %s %q host %q from %q, X-Trace %q", got.Method, got.URL, got.Host, got.RemoteAddr, got.Header["X-Trace"])
	}
	ctx := got.Context()
	if ctx.Value(key{}) != "base" || ctx.Value(http.ServerContextKey) != srv || ctx.Value(http.LocalAddrContextKey) == nil {
		t.Error("the request's context lacks BaseContext's value, http.ServerContextKey or http.LocalAddrContextKey")
	}
	if ctx.Err() != nil {
		t.Error("the request's context ended while the handler ran")
	}
	c.CloseNow()
	<-returned // closed by the handler just before it returns
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Error("the request's context did not end when the handler returned")
	}
}

func TestServeUpgradesHandsOtherRequestsToNetHTTP(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesHandsOtherRequestsToNetHTTP)
}

func testServeUpgradesHandsOtherRequestsToNetHTTP(t *testing.T, serve serveFunc) {
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(nil, nil)}, nil)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for i, path := range []string{"/one", "/two"} {
		var reused bool
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused },
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "a page at "+path {
			t.Errorf("GET %s: %q", path, body)
		}
		if i == 1 && !reused {
			t.Error("the second request did not reuse the first's connection: keep-alive is lost")
		}
	}
	resp, err := client.Post("http://"+addr+"/form", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST: %s", resp.Status)
	}
}

func TestServeUpgradesLeavesLargeRequestsToNetHTTP(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesLeavesLargeRequestsToNetHTTP)
}

func testServeUpgradesLeavesLargeRequestsToNetHTTP(t *testing.T, serve serveFunc) {
	seen := make(chan bool, 1)
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(nil, seen)}, nil)
	roundTrip(t, "ws://"+addr+"/", &DialOptions{HTTPHeader: http.Header{"Cookie": {strings.Repeat("c", 6000)}}})
	if byNetHTTP := <-seen; !byNetHTTP {
		t.Error("an upgrade larger than the 4 KiB buffer was not left to net/http")
	}
}

func TestServeUpgradesRefusalIsAnswered(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesRefusalIsAnswered)
}

func testServeUpgradesRefusalIsAnswered(t *testing.T, serve serveFunc) {
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(&AcceptOptions{OriginPatterns: []string{"good.example"}}, nil)}, nil)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n")
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the refusal's body: %v", err)
	}
	if resp.StatusCode != http.StatusForbidden || len(body) == 0 || !resp.Close {
		t.Errorf("refusal: %s, close %v, body %q; want 403 with a reason and Connection: close", resp.Status, resp.Close, body)
	}
}

func TestServeUpgradesKeepsWhatFollowsTheRequest(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesKeepsWhatFollowsTheRequest)
}

func testServeUpgradesKeepsWhatFollowsTheRequest(t *testing.T, serve serveFunc) {
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(nil, nil)}, nil)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The request and a masked text frame "hi" in one write.
	frame := []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"+string(frame))
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v, %v", resp, err)
	}
	echo := make([]byte, 4)
	if _, err := io.ReadFull(br, echo); err != nil || !bytes.Equal(echo, []byte{0x81, 2, 'h', 'i'}) {
		t.Fatalf("the frame sent with the request came back as %x, %v", echo, err)
	}
}

func TestServeUpgradesTimesOutSlowRequests(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesTimesOutSlowRequests)
}

func testServeUpgradesTimesOutSlowRequests(t *testing.T, serve serveFunc) {
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(nil, nil), ReadHeaderTimeout: 200 * time.Millisecond}, nil)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n")
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a request unfinished past ReadHeaderTimeout: read %v, want the connection closed (EOF)", err)
	}
}

func TestServeUpgradesListenerGuard(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesListenerGuard)
}

func testServeUpgradesListenerGuard(t *testing.T, serve serveFunc) {
	var wl *Listener
	srv := &http.Server{Handler: pageOrEcho(nil, nil)}
	addr := upgradeServer(t, serve, srv, func(ln net.Listener) net.Listener {
		wl = NewListener(ln, &ListenerOptions{HandshakeTimeout: 300 * time.Millisecond})
		srv.ConnContext = wl.ConnContext
		return wl
	})
	c := roundTrip(t, "ws://"+addr+"/", nil)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(600 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte("still")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "still" {
		t.Errorf("a WebSocket past the handshake timeout: %q, %v; the guard was not told of it", p, err)
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("a connection that sent nothing outlived the handshake timeout")
	}
	if st := wl.Stats(); st.HandshakeTimeouts != 1 {
		t.Errorf("HandshakeTimeouts = %d, want 1", st.HandshakeTimeouts)
	}
}

func TestServeUpgradesLeavesTLSToNetHTTP(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesLeavesTLSToNetHTTP)
}

func testServeUpgradesLeavesTLSToNetHTTP(t *testing.T, serve serveFunc) {
	seen := make(chan bool, 1)
	cert := httptest.NewTLSServer(nil) // for its certificate
	cert.Close()
	conf := &tls.Config{Certificates: cert.TLS.Certificates, NextProtos: []string{"http/1.1"}}
	addr := upgradeServer(t, serve, &http.Server{Handler: pageOrEcho(nil, seen)}, func(ln net.Listener) net.Listener {
		return tls.NewListener(ln, conf)
	})
	roundTrip(t, "wss://"+addr+"/", &DialOptions{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if byNetHTTP := <-seen; !byNetHTTP {
		t.Error("an upgrade over TLS was not left to net/http")
	}
}

func TestServeUpgradesRecoversHandlerPanics(t *testing.T) {
	eachUpgradeServer(t, testServeUpgradesRecoversHandlerPanics)
}

func testServeUpgradesRecoversHandlerPanics(t *testing.T, serve serveFunc) {
	var logged logBuffer
	srv := &http.Server{
		Handler:  http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		ErrorLog: log.New(&logged, "", 0),
	}
	addr := upgradeServer(t, serve, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := Dial(ctx, "ws://"+addr+"/", nil); err == nil {
		t.Fatal("Dial succeeded against a handler that panics")
	}
	if !strings.Contains(logged.String(), "boom") {
		t.Errorf("the panic was not logged to ErrorLog: %q", logged.String())
	}
}
