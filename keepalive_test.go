package websocket

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEngineKeepAliveHoldsNoGoroutine checks that PingInterval on
// connections an Engine serves pings every one of them with a timer each
// and no goroutine each: the clients, served by an engine of their own,
// answer the pings, and the process gains far fewer goroutines than it
// holds connections.
func TestEngineKeepAliveHoldsNoGoroutine(t *testing.T) {
	const n = 100
	before := runtime.NumGoroutine()
	srvEngine, err := NewEngine(&EngineOptions{OnMessage: func(*Conn, MessageType, io.Reader) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer srvEngine.Close()
	cliEngine, err := NewEngine(&EngineOptions{OnMessage: func(*Conn, MessageType, io.Reader) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer cliEngine.Close()
	opts := &AcceptOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 5 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		srvEngine.Serve(c)
	}))
	defer srv.Close()
	var pings atomic.Int64
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for range n {
		c := dialT(t, url, &DialOptions{OnPing: func([]byte) { pings.Add(1) }})
		if err := cliEngine.Serve(c); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 20*time.Second, "every connection to be pinged 5 times", func() bool { return pings.Load() >= 5*n })
	// Beside the pollers, the HTTP server's and a worker or two, a few
	// timer callbacks may be sending a ping at any moment, the fewest
	// between two rounds of pings; a goroutine per connection would be n
	// more at every moment.
	extra := runtime.NumGoroutine() - before
	for range 20 {
		time.Sleep(5 * time.Millisecond)
		extra = min(extra, runtime.NumGoroutine()-before)
	}
	if extra > n/2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines more than before for %d pinged connections, want a timer, not a goroutine, each:\n%s", extra, n, buf[:runtime.Stack(buf, true)])
	}
	if got := srvEngine.Len(); got != n {
		t.Fatalf("the engine serves %d connections, want %d: the keep-alive closed some", got, n)
	}
}

// TestEngineKeepAliveDuringSlowMessage checks that the keep-alive of a
// connection an Engine serves does not close it while OnMessage takes its
// time over a message, the pong waiting behind the message's frames where
// the engine reads it only after OnMessage: the message in progress shows
// the peer is alive.
func TestEngineKeepAliveDuringSlowMessage(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // a slow consumer: 20 reads take a second, many ping timeouts
		}
		c.Write(context.Background(), typ, b.Bytes())
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	opts := &AcceptOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 300 * time.Millisecond}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		e.Serve(c)
	}))
	defer srv.Close()
	c := dialT(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	echoed := make(chan []byte, 1)
	go func() {
		_, p, err := c.Read(ctx) // and answers the pings meanwhile
		if err != nil {
			t.Errorf("Read: %v", err)
		}
		echoed <- p
	}()
	msg := bytes.Repeat([]byte{7}, 80<<10)
	// A ping first, so that the keep-alive has begun when the message comes.
	time.Sleep(80 * time.Millisecond)
	if err := c.Write(ctx, MessageBinary, msg); err != nil {
		t.Fatal(err)
	}
	if p := <-echoed; len(p) != len(msg) {
		t.Fatalf("echo of %d bytes, want %d: the keep-alive closed the connection", len(p), len(msg))
	}
}
