package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// shutdownEngine is an Engine behind an http.Server with a Server, in some
// mode: over TCP the engine serves its connections in event mode, over TLS
// by a goroutine each. Its OnClose takes a while, as one that saves a
// session would, and records each call.
type shutdownEngine struct {
	e   *Engine
	ws  *Server
	url string
	tls *DialOptions

	mu     sync.Mutex
	closed int // OnClose calls that have returned
}

// onCloseWork is how long each OnClose of a shutdownEngine works.
const onCloseWork = 30 * time.Millisecond

func startShutdownEngine(t *testing.T, m mode, aopts *AcceptOptions) *shutdownEngine {
	t.Helper()
	se := &shutdownEngine{}
	e, err := NewEngine(&EngineOptions{
		OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			p, _ := io.ReadAll(r)
			c.Write(context.Background(), typ, p)
		},
		OnClose: func(c *Conn, err error) {
			time.Sleep(onCloseWork)
			se.mu.Lock()
			se.closed++
			se.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	se.e = e
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, m.acceptOptions(aopts))
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			c.CloseNow()
		}
	}))
	se.ws = NewServer(ts.Config)
	if m.tls {
		ts.StartTLS()
		se.url = "wss" + strings.TrimPrefix(ts.URL, "https")
		se.tls = &DialOptions{TLSConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}
	} else {
		ts.Start()
		se.url = "ws" + strings.TrimPrefix(ts.URL, "http")
	}
	t.Cleanup(func() {
		ts.Close()
		e.Close()
	})
	return se
}

// onClosed returns how many OnClose calls have returned.
func (se *shutdownEngine) onClosed() int {
	se.mu.Lock()
	defer se.mu.Unlock()
	return se.closed
}

// dial connects a client and has the engine echo one message, so that the
// engine serves the connection when dial returns. A client that answers
// reads on, from a goroutine, and sends on codes the close status it got.
func (se *shutdownEngine) dial(t *testing.T, answer bool, codes chan<- StatusCode) *Conn {
	t.Helper()
	c := dialT(t, se.url, se.tls)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if answer {
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					codes <- CloseStatus(err)
					return
				}
			}
		}()
	}
	return c
}

// TestEngineShutdownWaitsForOnClose checks that Engine.Shutdown,
// Engine.Close and Server.Shutdown return only once the OnClose of every
// connection they closed has returned, and that every peer got 1001.
func TestEngineShutdownWaitsForOnClose(t *testing.T) {
	run(t, testEngineShutdownWaitsForOnClose, plainTCP, plainTLS)
}

func testEngineShutdownWaitsForOnClose(t *testing.T, m mode) {
	for _, how := range []string{"Engine.Shutdown", "Engine.Close", "Server.Shutdown"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			se := startShutdownEngine(t, m, nil)
			const n = 20
			codes := make(chan StatusCode, n)
			for range n {
				se.dial(t, true, codes)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			var err error
			switch how {
			case "Engine.Shutdown":
				err = se.e.Shutdown(ctx)
			case "Engine.Close":
				err = se.e.Close()
			case "Server.Shutdown":
				err = se.ws.Shutdown(ctx)
			}
			took := time.Since(start)
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if got := se.onClosed(); got != n {
				t.Fatalf("%s returned after %v with OnClose done for %d of %d connections", how, took, got, n)
			}
			t.Logf("%s of %d connections: %v", how, n, took)
			for range n {
				if code := <-codes; code != StatusGoingAway {
					t.Fatalf("a client read close status %v, want %v", code, StatusGoingAway)
				}
			}
		})
	}
}

// TestEngineShutdownSlowPeers checks that peers that never answer the close
// frame cost Shutdown one close timeout in all, not one each or one per
// batch: every closing handshake runs at once.
func TestEngineShutdownSlowPeers(t *testing.T) {
	run(t, testEngineShutdownSlowPeers, plainTCP, plainTLS)
}

func testEngineShutdownSlowPeers(t *testing.T, m mode) {
	const closeTimeout = time.Second
	se := startShutdownEngine(t, m, &AcceptOptions{CloseTimeout: closeTimeout})
	n := 20
	if !m.tls {
		// Raw peers that read nothing: cheap enough for more than a batch
		// of 256 handshakes.
		n = 600
		frame := maskedFrame(opText, true, "hi")
		buf := make([]byte, 4)
		for range n {
			nc := rawUpgrade(t, se.url)
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(frame); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(nc, buf); err != nil {
				t.Fatalf("reading the echo: %v", err)
			}
		}
	} else {
		for range n {
			se.dial(t, false, nil)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := se.e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	took := time.Since(start)
	t.Logf("Shutdown of %d silent peers with a close timeout of %v: %v", n, closeTimeout, took)
	if got := se.onClosed(); got != n {
		t.Fatalf("OnClose done for %d of %d connections", got, n)
	}
	if took < closeTimeout || took > 2*closeTimeout+time.Second/2 {
		t.Fatalf("Shutdown took %v; want about one close timeout, %v", took, closeTimeout)
	}
}

// TestEngineShutdownContext checks that when Shutdown's context ends before
// the closing handshakes, what is left is closed at once, its OnClose still
// runs before Shutdown returns, and the error says how many were left.
func TestEngineShutdownContext(t *testing.T) {
	run(t, testEngineShutdownContext, plainTCP, plainTLS)
}

func testEngineShutdownContext(t *testing.T, m mode) {
	se := startShutdownEngine(t, m, nil) // the default close timeout, 5 s
	const n = 20
	for range n {
		se.dial(t, false, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := se.e.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(fmt.Sprint(err), fmt.Sprint(n)) {
		t.Fatalf("Shutdown: %v; want an error wrapping context.DeadlineExceeded that counts %d connections", err, n)
	}
	if took > 3*time.Second {
		t.Fatalf("Shutdown took %v after its context ended", took)
	}
	if got := se.onClosed(); got != n {
		t.Fatalf("Shutdown returned with OnClose done for %d of %d connections", got, n)
	}
	// A second Shutdown, and Serve, find the engine shut down.
	if err := se.e.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// TestEngineServeDuringClose checks a connection whose Close began (a
// server's shutdown closing it with 1001, say) as its handler hands it to
// the engine: Serve either takes it and OnClose runs once it has ended, or
// refuses it; before, Serve could deadlock on the connection's own lock.
func TestEngineServeDuringClose(t *testing.T) {
	run(t, testEngineServeDuringClose, plainEngine, plainEngTLS)
}

func testEngineServeDuringClose(t *testing.T, m mode) {
	for round := range 20 {
		done := make(chan error, 1)
		e, err := NewEngine(&EngineOptions{
			OnMessage: func(*Conn, MessageType, io.Reader) {},
			OnClose:   func(_ *Conn, err error) { done <- err },
		})
		if err != nil {
			t.Fatal(err)
		}
		s := m.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, nil)
			if err != nil {
				return
			}
			go c.Close(StatusGoingAway, "server shutting down")
			time.Sleep(time.Duration(round%5) * 50 * time.Microsecond)
			if err := e.Serve(c); err != nil {
				done <- err // refused: the connection had ended
			}
		}))
		c := s.dial(t, nil)
		go c.Read(context.Background()) // answers the close
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: neither OnClose ran nor Serve returned an error within 10s", round)
		}
		c.CloseNow()
		e.Close()
	}
}
