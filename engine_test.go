package websocket

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/engine"
)

// engineEcho serves an echo through an Engine: the handler hands every
// connection to the engine and returns.
type engineEcho struct {
	e      *Engine
	url    string
	mu     sync.Mutex
	closed []error // what OnClose reported
	conns  []*Conn // the connections OnClose was called with
	ended  chan struct{}
}

func startEngineEcho(t testing.TB, aopts *AcceptOptions, eopts *EngineOptions) *engineEcho {
	t.Helper()
	ee := &engineEcho{ended: make(chan struct{}, 1<<16)}
	if eopts == nil {
		eopts = &EngineOptions{}
	}
	o := *eopts
	o.OnMessage = func(c *Conn, typ MessageType, r io.Reader) {
		w, err := c.Writer(context.Background(), typ)
		if err != nil {
			return
		}
		if _, err := io.Copy(w, r); err != nil {
			return
		}
		w.Close()
	}
	o.OnClose = func(c *Conn, err error) {
		ee.mu.Lock()
		ee.closed = append(ee.closed, err)
		ee.conns = append(ee.conns, c)
		ee.mu.Unlock()
		ee.ended <- struct{}{}
	}
	e, err := NewEngine(&o)
	if err != nil {
		t.Fatal(err)
	}
	ee.e = e
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, aopts)
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	ee.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return ee
}

// served counts the connections the engine still holds.
func (e *Engine) served() int { return e.loop.Len() }

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEngineEcho(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		comp *CompressionOptions
	}{{"plain", nil}, {"deflate", &CompressionOptions{}}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ee := startEngineEcho(t, &AcceptOptions{Compression: mode.comp}, nil)
			c := dialT(t, ee.url, &DialOptions{Compression: mode.comp})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			checkEchoes(t, ctx, c)
			// Many messages in flight at once arrive in order.
			const n = 200
			go func() {
				for i := range n {
					c.Write(ctx, MessageText, []byte(strings.Repeat("m", i)))
				}
			}()
			for i := range n {
				_, got, err := c.Read(ctx)
				if err != nil || len(got) != i {
					t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
				}
			}
			go c.Read(ctx) // pongs are seen by a reader
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := c.Close(StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			<-ee.ended
			var ce *CloseError
			if !errors.As(ee.closed[0], &ce) || ce.Code != StatusNormalClosure || ce.Reason != "bye" {
				t.Fatalf("OnClose got %v, want the peer's 1000 bye", ee.closed[0])
			}
			waitFor(t, 5*time.Second, "the engine to let go", func() bool { return ee.e.served() == 0 })
		})
	}
}

// TestEngineServerPings checks that a ping from the server side of an
// event-mode connection sees its pong, which only the engine reads.
func TestEngineServerPings(t *testing.T) {
	t.Parallel()
	got := make(chan *Conn, 1)
	e, err := NewEngine(&EngineOptions{OnMessage: func(*Conn, MessageType, io.Reader) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		e.Serve(c)
		got <- c
	}))
	defer srv.Close()
	c := dialT(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go c.Read(ctx) // the client answers pings while it reads
	sc := <-got
	for range 3 {
		if err := sc.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}
}

// TestEngineSlowCallback checks that a callback that blocks holds back its
// own connection only.
func TestEngineSlowCallback(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e, err := NewEngine(&EngineOptions{Pollers: 1, OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		b, _ := io.ReadAll(r)
		if string(b) == "block" {
			<-release
		}
		c.Write(context.Background(), typ, b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, &AcceptOptions{CloseTimeout: 200 * time.Millisecond}); err == nil {
			e.Serve(c)
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slow := dialT(t, url, nil)
	if err := slow.Write(ctx, MessageText, []byte("block")); err != nil {
		t.Fatal(err)
	}
	fast := dialT(t, url, nil)
	for range 10 {
		if err := fast.Write(ctx, MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, b, err := fast.Read(ctx); err != nil || string(b) != "hi" {
			t.Fatalf("fast connection: %q, %v", b, err)
		}
	}
}

// rawUpgrade opens a TCP connection to url and completes the opening
// handshake by hand, so a test can send whatever bytes it likes.
func rawUpgrade(t testing.TB, url string) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(url, "ws://")
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var resp []byte
	buf := make([]byte, 1)
	for !strings.HasSuffix(string(resp), "\r\n\r\n") {
		if _, err := nc.Read(buf); err != nil {
			t.Fatalf("reading the handshake response: %v", err)
		}
		resp = append(resp, buf[0])
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101") {
		t.Fatalf("handshake refused: %q", resp)
	}
	nc.SetReadDeadline(time.Time{})
	return nc
}

// maskedFrame is a client frame with a zero masking key (which leaves the
// payload as it is).
func maskedFrame(op opcode, fin bool, payload string) []byte {
	b := appendFrameHeader(nil, frameHeader{fin: fin, op: op, masked: true, length: int64(len(payload))})
	return append(b, payload...)
}

// TestEngineFaults checks that connections whose peer misbehaves at the
// transport level end, and leave nothing behind in the engine: no entry,
// no goroutine.
func TestEngineFaults(t *testing.T) {
	ee := startEngineEcho(t, &AcceptOptions{CloseTimeout: 200 * time.Millisecond}, &EngineOptions{IdleTimeout: 300 * time.Millisecond})
	before := runtime.NumGoroutine()
	partial := func(nc net.Conn) {
		// A header that announces 100 bytes, and 10 of them.
		f := maskedFrame(opBinary, true, strings.Repeat("p", 100))
		nc.Write(f[:len(f)-90])
	}
	for _, tc := range []struct {
		name string
		act  func(nc net.Conn)
	}{
		{"vanishes mid-header", func(nc net.Conn) {
			nc.Write(maskedFrame(opText, true, "x")[:3])
			nc.Close()
		}},
		{"vanishes mid-frame", func(nc net.Conn) {
			partial(nc)
			nc.Close()
		}},
		{"vanishes mid-message", func(nc net.Conn) {
			nc.Write(maskedFrame(opText, false, "first fragment"))
			nc.Close()
		}},
		{"reset", func(nc net.Conn) {
			partial(nc)
			nc.(*net.TCPConn).SetLinger(0)
			nc.Close()
		}},
		{"reset when idle", func(nc net.Conn) {
			nc.(*net.TCPConn).SetLinger(0)
			nc.Close()
		}},
		{"half-open mid-frame", func(nc net.Conn) {
			partial(nc) // and then silence: the idle timeout ends it
		}},
		{"half-open", func(nc net.Conn) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawUpgrade(t, ee.url)
			waitFor(t, 5*time.Second, "the engine to serve the connection", func() bool { return ee.e.served() == 1 })
			tc.act(nc)
			select {
			case <-ee.ended:
			case <-time.After(5 * time.Second):
				t.Fatal("the connection did not end")
			}
			waitFor(t, 5*time.Second, "the engine to let go", func() bool { return ee.e.served() == 0 })
			ee.mu.Lock()
			c := ee.conns[len(ee.conns)-1]
			ee.mu.Unlock()
			waitFor(t, 5*time.Second, "the read side to be free", c.readLock.TryLock)
			if c.br.buf != nil {
				t.Errorf("the connection ended holding a read buffer of %d bytes", cap(*c.br.buf))
			}
			c.readLock.Unlock()
		})
	}
	waitFor(t, 5*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestEngineProtocolErrors checks that bad input gets the close code
// goroutine mode gives it.
func TestEngineProtocolErrors(t *testing.T) {
	t.Parallel()
	ee := startEngineEcho(t, &AcceptOptions{ReadLimit: 1000}, nil)
	for _, tc := range []struct {
		name  string
		input []byte
		code  StatusCode
	}{
		{"unmasked", appendFrameHeader(nil, frameHeader{fin: true, op: opText, length: 0}), StatusProtocolError},
		{"reserved opcode", maskedFrame(3, true, ""), StatusProtocolError},
		{"bad UTF-8", maskedFrame(opText, true, "\xff\xfe"), StatusInvalidFramePayloadData},
		{"too big", maskedFrame(opBinary, true, strings.Repeat("b", 1001)), StatusMessageTooBig},
		{"continuation first", maskedFrame(opContinuation, true, "x"), StatusProtocolError},
		{"long ping", append(appendFrameHeader(nil, frameHeader{fin: true, op: opPing, masked: true, length: 126}), make([]byte, 126)...), StatusProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc := rawUpgrade(t, ee.url)
			nc.Write(tc.input)
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := new(connReader)
			*br = newConnReader(nc, 0)
			h, err := readFrameHeader(br)
			if err != nil || h.op != opClose {
				t.Fatalf("got frame %+v, %v; want a close frame", h, err)
			}
			var p [2]byte
			if _, err := io.ReadFull(br, p[:]); err != nil {
				t.Fatal(err)
			}
			if code := StatusCode(int(p[0])<<8 | int(p[1])); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
		})
	}
}

// envManyClients makes the test binary, run as TestEngineManyConns's
// child, the client side of that test: "URL N".
const envManyClients = "DUPLEX_TEST_ENGINE_CLIENTS"

// manyConns is the number of connections of TestEngineManyConns.
func manyConns() int {
	if testing.Short() {
		return 1000
	}
	return 10000
}

// TestEngineManyConns serves 10,000 connections from one engine, with the
// clients in a child process (a process may hold 20,000 descriptors here).
// Each connection echoes one message; then the server holds them with no
// goroutine each, and every one still answers a ping from each side.
func TestEngineManyConns(t *testing.T) {
	n := manyConns()
	// Goroutines are counted against those running before the engine
	// started: earlier tests in this process may leave some that end later.
	before := runtime.NumGoroutine()
	var mu sync.Mutex
	var conns []*Conn
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		b, _ := io.ReadAll(r)
		c.Write(context.Background(), typ, b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{CloseTimeout: time.Second})
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		e.Serve(c)
	}))
	srv.Start()
	defer srv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestEngineManyConnsClient$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), envManyClients+"=ws"+strings.TrimPrefix(srv.URL, "http")+" "+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	}()
	lines := bufio.NewScanner(stdout)
	expect := func(want string) {
		t.Helper()
		got := make(chan string, 1)
		go func() {
			lines.Scan()
			got <- lines.Text()
		}()
		select {
		case line := <-got:
			if line != want {
				t.Fatalf("client process said %q, want %q", line, want)
			}
		case <-time.After(4 * time.Minute):
			t.Fatalf("client process did not say %q in time", want)
		}
	}
	expect("echoed")
	if got := e.served(); got != n {
		t.Fatalf("engine serves %d connections, want %d", got, n)
	}
	// Idle connections hold no goroutine: what is left beside the earlier
	// ones is the test's, the HTTP server's and the pollers', once the
	// workers that delivered the echoes have exited (engine.WorkerIdle).
	deadline := time.Now().Add(engine.WorkerIdle + 10*time.Second)
	for runtime.NumGoroutine()-before > 100 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines more than before the engine for %d idle connections", runtime.NumGoroutine()-before, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if f := pingAll(ctx, conns); f > 0 {
		t.Fatalf("%d of %d server pings got no pong", f, n)
	}
	io.WriteString(stdin, "ping\n")
	expect("pinged")
}

// atomicCounter counts failures across goroutines.
type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add()      { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *atomicCounter) load() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestEngineManyConnsClient is the client process of TestEngineManyConns;
// it does nothing when run on its own. Its connections are served by an
// engine too, so that it holds no goroutine each either.
func TestEngineManyConnsClient(t *testing.T) {
	spec := os.Getenv(envManyClients)
	if spec == "" {
		t.Skip("the client side of TestEngineManyConns")
	}
	url, ns, _ := strings.Cut(spec, " ")
	n, _ := strconv.Atoi(ns)
	echoed := make(chan struct{}, n)
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		io.Copy(io.Discard, r)
		echoed <- struct{}{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				c, _, err := Dial(ctx, url, nil)
				if err != nil {
					t.Errorf("Dial %d: %v", i, err)
					cancel()
					continue
				}
				conns[i] = c
				e.Serve(c)
				if err := c.Write(ctx, MessageText, []byte("hello")); err != nil {
					t.Errorf("Write %d: %v", i, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		return
	}
	for range n {
		select {
		case <-echoed:
		case <-ctx.Done():
			t.Fatal("echoes did not all come back")
		}
	}
	fmt.Println("echoed")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "ping" {
		return
	}
	if f := pingAll(ctx, conns); f > 0 {
		t.Fatalf("%d of %d client pings got no pong", f, n)
	}
	fmt.Println("pinged")
	in.Scan() // until the parent closes stdin
	for _, c := range conns {
		c.CloseNow()
	}
	e.Close()
}

// TestEngineTLS checks that a connection whose TLS Go terminates, which has
// no descriptor the poller can read, is served through the same API by a
// goroutine of its own.
func TestEngineTLS(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		b, _ := io.ReadAll(r)
		c.Write(context.Background(), typ, b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := Accept(w, r, nil); err == nil {
			e.Serve(c)
		}
	}))
	defer srv.Close()
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig
	c := dialT(t, "wss"+strings.TrimPrefix(srv.URL, "https"), &DialOptions{TLSConfig: tlsConf})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, msg := range []string{"over", "tls"} {
		if err := c.Write(ctx, MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, b, err := c.Read(ctx); err != nil || string(b) != msg {
			t.Fatalf("echo: %q, %v", b, err)
		}
	}
	c.Close(StatusNormalClosure, "")
	waitFor(t, 5*time.Second, "the engine to let go", func() bool { return e.served() == 0 })
}

// pingAll pings every connection, 64 at a time, and returns how many got
// no pong.
func pingAll(ctx context.Context, conns []*Conn) int {
	var wg sync.WaitGroup
	var failed atomicCounter
	sem := make(chan struct{}, 64)
	for _, c := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.Ping(ctx); err != nil {
				failed.add()
			}
		})
	}
	wg.Wait()
	return int(failed.load())
}
