package websocket

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// member is the state OnOpen gives each connection in these tests.
type member struct{ id int64 }

// TestEngineStateAndConns checks OnOpen, State, Len and Conns: each
// connection's state is what OnOpen returned for it, in OnMessage and in
// OnClose; Len and Conns follow connections as they join and leave; a
// broadcast through Conns reaches every peer.
func TestEngineStateAndConns(t *testing.T) { run(t, testEngineStateAndConns, plainTCP, plainTLS) }

func testEngineStateAndConns(t *testing.T, m mode) {
	var ids atomic.Int64
	var mu sync.Mutex
	opened := map[*Conn]*member{} // what OnOpen returned, to check State against
	var e *Engine
	check := func(where string, c *Conn) {
		mu.Lock()
		want := opened[c]
		mu.Unlock()
		if got, _ := e.State(c).(*member); want == nil || got != want {
			t.Errorf("%s: State is %v, want %v, what OnOpen returned", where, got, want)
		}
	}
	var closed atomic.Int64
	e, err := NewEngine(&EngineOptions{
		OnOpen: func(c *Conn) any {
			if e.State(c) != nil {
				t.Error("State is set before OnOpen returned")
			}
			s := &member{id: ids.Add(1)}
			mu.Lock()
			opened[c] = s
			mu.Unlock()
			return s
		},
		OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			check("OnMessage", c)
			p, _ := io.ReadAll(r)
			for peer := range e.Conns() {
				peer.Write(context.Background(), typ, p)
			}
		},
		OnClose: func(c *Conn, err error) {
			check("OnClose", c)
			closed.Add(1)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, nil); err == nil {
			if err := e.Serve(c); err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}))
	t.Cleanup(func() { e.Close() })
	const n = 5
	clients := make([]*Conn, n)
	for i := range clients {
		clients[i] = srv.dial(t, nil)
	}
	waitFor(t, 10*time.Second, "Len to count every connection", func() bool { return e.Len() == n })
	if got := countConns(e); got != n {
		t.Fatalf("Conns yielded %d connections, want %d", got, n)
	}
	if e.State(clients[0]) != nil {
		t.Fatal("State of a connection the engine does not serve is not nil")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clients[0].Write(ctx, MessageText, []byte("to all")); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if _, p, err := c.Read(ctx); err != nil || string(p) != "to all" {
			t.Fatalf("client %d read %q, %v; want the broadcast", i, p, err)
		}
	}
	// One leaves: Len and Conns follow once its OnClose has run.
	clients[n-1].Close(StatusNormalClosure, "")
	waitFor(t, 10*time.Second, "Len to count the connection off", func() bool { return e.Len() == n-1 })
	if got := closed.Load(); got != 1 {
		t.Fatalf("Len counted a connection off with %d OnClose calls, want 1", got)
	}
	if got := countConns(e); got != n-1 {
		t.Fatalf("Conns yielded %d connections after one left, want %d", got, n-1)
	}
	// A loop may stop early.
	seen := 0
	for range e.Conns() {
		seen++
		break
	}
	if seen != 1 {
		t.Fatalf("a loop over Conns that breaks saw %d connections", seen)
	}
	for _, c := range clients[:n-1] {
		go func() { // answers the close frame
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.Len(); got != 0 || closed.Load() != n {
		t.Fatalf("after Close: Len %d, %d OnClose calls; want 0 and %d", got, closed.Load(), n)
	}
}

func countConns(e *Engine) int {
	n := 0
	for range e.Conns() {
		n++
	}
	return n
}

// TestEngineServeRefused checks what Serve leaves to its caller when it
// fails: the connection stays open and the caller's, and the engine calls
// neither OnOpen nor OnClose for it. An engine that has shut down refuses
// with an error matching ErrClosed, and a connection another engine serves
// is refused and goes on being served there.
func TestEngineServeRefused(t *testing.T) { run(t, testEngineServeRefused, plainTCP, plainTLS) }

func testEngineServeRefused(t *testing.T, m mode) {
	var calls atomic.Int64 // OnOpen and OnClose of the engines that refuse
	newEngine := func(counted bool) *Engine {
		opts := &EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			p, _ := io.ReadAll(r)
			c.Write(context.Background(), typ, p)
		}}
		if counted {
			opts.OnOpen = func(*Conn) any { calls.Add(1); return nil }
			opts.OnClose = func(*Conn, error) { calls.Add(1) }
		}
		e, err := NewEngine(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	down, other, busy := newEngine(true), newEngine(false), newEngine(true)
	if err := down.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		if r.URL.Path == "/down" {
			if err := down.Serve(c); !errors.Is(err, ErrClosed) {
				t.Errorf("Serve on an engine that shut down: %v, want ErrClosed", err)
			}
			// Still the handler's: it writes, then closes.
			c.Write(r.Context(), MessageText, []byte("still mine"))
			c.Close(StatusGoingAway, "shutting down")
			return
		}
		if err := other.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := busy.Serve(c); err == nil {
			t.Error("a second engine's Serve of a served connection succeeded")
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialT(t, srv.url+"/down", srv.dialOptions(nil))
	if _, p, err := c.Read(ctx); err != nil || string(p) != "still mine" {
		t.Fatalf("read %q, %v; want the handler's message", p, err)
	}
	if _, _, err := c.Read(ctx); CloseStatus(err) != StatusGoingAway {
		t.Fatalf("read %v; want the handler's 1001", err)
	}
	c = srv.dial(t, nil)
	if err := c.Write(ctx, MessageText, []byte("echo")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "echo" {
		t.Fatalf("read %q, %v; want the first engine's echo", p, err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls of OnOpen or OnClose by the engines that refused", n)
	}
}

// TestEngineCloseInCallbacks checks what the docs promise of Close in the
// callbacks: inside OnMessage it completes the closing handshake (the
// engine does not read meanwhile; Close reads the peer's answer itself)
// and OnClose follows once OnMessage has returned; inside OnClose a write
// fails with ErrClosed, Close returns at once, and State still answers.
func TestEngineCloseInCallbacks(t *testing.T) { run(t, testEngineCloseInCallbacks, plainTCP, plainTLS) }

func testEngineCloseInCallbacks(t *testing.T, m mode) {
	type result struct {
		closeErr, writeErr, closeAgain error
		took                           time.Duration
		state                          any
		inMessage                      bool
	}
	results := make(chan result, 1)
	var e *Engine
	var onMessage atomic.Bool
	var res result
	e, err := NewEngine(&EngineOptions{
		OnOpen: func(c *Conn) any { return "open" },
		OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			onMessage.Store(true)
			defer onMessage.Store(false)
			io.Copy(io.Discard, r)
			start := time.Now()
			res.closeErr = c.Close(StatusNormalClosure, "bye")
			res.took = time.Since(start)
		},
		OnClose: func(c *Conn, err error) {
			res.inMessage = onMessage.Load()
			res.writeErr = c.Write(context.Background(), MessageText, []byte("late"))
			res.closeAgain = c.Close(StatusNormalClosure, "")
			res.state = e.State(c)
			results <- res
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, nil); err == nil {
			e.Serve(c)
		}
	}))
	c := srv.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte("close, please")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("the client read %v, want the server's 1000", err)
	}
	r := <-results
	if r.closeErr != nil || r.took > 2*time.Second {
		t.Fatalf("Close inside OnMessage: %v after %v", r.closeErr, r.took)
	}
	if r.inMessage {
		t.Fatal("OnClose ran while OnMessage had not returned")
	}
	if !errors.Is(r.writeErr, ErrClosed) || r.closeAgain != nil || r.state != "open" {
		t.Fatalf("inside OnClose: Write %v, Close %v, State %v; want ErrClosed, nil, open", r.writeErr, r.closeAgain, r.state)
	}
}
