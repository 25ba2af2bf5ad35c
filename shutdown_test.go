package websocket

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shutdownServer starts an http.Server with a Server tracking its
// WebSockets, serving handler, and returns its ws:// URL.
func shutdownServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *Server, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(handler)
	ws := NewServer(ts.Config)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, ws, "ws" + strings.TrimPrefix(ts.URL, "http")
}

// TestServerShutdownClosesEveryConn checks that after Shutdown returns no
// WebSocket of the server is left: every client got 1001, every handler
// returned, every connection (those handed to a goroutine of their own
// too) is closed.
func TestServerShutdownClosesEveryConn(t *testing.T) {
	n := 200
	if raceEnabled {
		n = 100
	}
	var running atomic.Int64
	var mu sync.Mutex
	var serverConns []*Conn
	echo := func(c *Conn) {
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				return
			}
			if c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	}
	_, ws, url := shutdownServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		serverConns = append(serverConns, c)
		mu.Unlock()
		if r.URL.Query().Has("detach") {
			go echo(c) // the connection outlives its handler
			return
		}
		running.Add(1)
		defer running.Add(-1)
		echo(c)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codes := make(chan StatusCode, n)
	for i := range n {
		u := url
		if i%2 == 1 {
			u += "/?detach"
		}
		c := dialT(t, u, nil)
		if err := c.Write(ctx, MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
		go func() {
			_, _, err := c.Read(ctx)
			codes <- CloseStatus(err)
		}()
	}
	if err := ws.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if r := running.Load(); r != 0 {
		t.Errorf("Shutdown returned with %d handlers still running", r)
	}
	mu.Lock()
	for _, c := range serverConns {
		select {
		case <-c.ended.Done():
		default:
			t.Fatal("Shutdown returned with a server connection still open")
		}
	}
	mu.Unlock()
	for range n {
		if code := <-codes; code != StatusGoingAway {
			t.Fatalf("a client read close status %v, want %v", code, StatusGoingAway)
		}
	}
}

// TestServerShutdownBounded checks that a peer that never answers the
// close frame holds Shutdown only until its context ends, and is then
// disconnected all the same.
func TestServerShutdownBounded(t *testing.T) {
	accepted := make(chan *Conn, 1)
	_, ws, url := shutdownServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{CloseTimeout: time.Minute})
		if err != nil {
			return
		}
		accepted <- c
		<-r.Context().Done() // never reads: its Close waits for the peer
	})
	peer := dialRaw(t, &testServer{url: url}, "") // sends nothing, answers nothing
	server := <-accepted
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ws.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v; want the context's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %v with a 300ms context", d)
	}
	select {
	case <-server.ended.Done():
	default:
		t.Fatal("the connection is still open after Shutdown gave up")
	}
	if code := peer.expectClose(); code != StatusGoingAway {
		t.Fatalf("peer got close status %v, want %v", code, StatusGoingAway)
	}
}

// TestHTTPServerShutdownClosesWebSockets checks the RegisterOnShutdown
// hook: a plain http.Server.Shutdown closes the WebSockets with 1001 too.
func TestHTTPServerShutdownClosesWebSockets(t *testing.T) {
	ts, _, url := shutdownServer(t, echoHandler(t, nil).ServeHTTP)
	c := dialT(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); CloseStatus(err) != StatusGoingAway {
		t.Fatalf("Read after http.Server.Shutdown: %v; want close status 1001", err)
	}
}

// TestAcceptRefusesDuringShutdown checks that a request reaching Accept
// once Shutdown has begun gets 503.
func TestAcceptRefusesDuringShutdown(t *testing.T) {
	s := NewServer(&http.Server{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(context.WithValue(ctx, serverKey{}, s), "GET", "http://example.com/", nil)
	req.Header = http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
	rec := httptest.NewRecorder()
	_, err := Accept(rec, req, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable || rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("Accept during shutdown: %v, answered %d; want 503", err, rec.Code)
	}
}

// TestServerShutdownEngineConns checks connections handed to an Engine,
// whose handlers return at once: Shutdown closes them with 1001 and waits
// for them to end.
func TestServerShutdownEngineConns(t *testing.T) {
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		p, _ := io.ReadAll(r)
		c.Write(context.Background(), typ, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var mu sync.Mutex
	var serverConns []*Conn
	_, ws, url := shutdownServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		serverConns = append(serverConns, c)
		mu.Unlock()
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 20
	codes := make(chan StatusCode, n)
	for range n {
		c := dialT(t, url, nil)
		c.Write(ctx, MessageText, []byte("hi"))
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
		go func() {
			_, _, err := c.Read(ctx)
			codes <- CloseStatus(err)
		}()
	}
	if err := ws.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range serverConns {
		select {
		case <-c.ended.Done():
		default:
			t.Fatal("Shutdown returned with an engine connection still open")
		}
	}
	for range n {
		if code := <-codes; code != StatusGoingAway {
			t.Fatalf("a client read close status %v, want %v", code, StatusGoingAway)
		}
	}
}
