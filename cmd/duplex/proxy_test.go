package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// The proxies run with the configuration files README.md shows
// (testdata/proxy/nginx-duplex.conf, haproxy-duplex.cfg), wrapped in what
// runs them as unprivileged child processes (nginx-test.conf,
// haproxy-test.cfg); only their listening address and the upstream's
// change, to loopback ports of the test's.
var proxies = []peer.Peer{peer.Nginx, peer.HAProxy}

// proxyProc is a reverse proxy running in front of one duplex serve.
type proxyProc struct {
	kind peer.Peer
	path string // the executable
	dir  string // its configuration and files
	args []string
	addr string // where it listens: 127.0.0.1:PORT

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs bytes.Buffer
}

// startProxy starts a proxy of kind in front of the server at upstream
// (HOST:PORT) and stops it when the test ends.
func startProxy(t testing.TB, kind peer.Peer, upstream string) *proxyProc {
	t.Helper()
	return startProxyAt(t, kind, peer.Require(t, kind).Path, upstream)
}

// startProxyAt is startProxy with the proxy's executable found at path.
func startProxyAt(t testing.TB, kind peer.Peer, path, upstream string) *proxyProc {
	t.Helper()
	p := &proxyProc{kind: kind, path: path, dir: t.TempDir(), addr: freeAddr(t)}
	switch kind {
	case peer.Nginx:
		copyConfig(t, "nginx-test.conf", p.dir, nil)
		copyConfig(t, "nginx-duplex.conf", p.dir, map[string]string{
			"listen 80;":             "listen " + p.addr + ";",
			"server 127.0.0.1:8080;": "server " + upstream + ";",
		})
		if err := os.MkdirAll(filepath.Join(p.dir, "tmp"), 0o700); err != nil {
			t.Fatal(err)
		}
		p.args = []string{"-p", p.dir + "/", "-c", "nginx-test.conf", "-e", "stderr"}
	case peer.HAProxy:
		copyConfig(t, "haproxy-test.cfg", p.dir, nil)
		copyConfig(t, "haproxy-duplex.cfg", p.dir, map[string]string{
			"bind :80":                     "bind " + p.addr,
			"server duplex 127.0.0.1:8080": "server duplex " + upstream,
		})
		p.args = []string{"-db", "-f", "haproxy-test.cfg", "-f", "haproxy-duplex.cfg"}
	}
	p.run(t)
	return p
}

// run starts p and stops it when the test ends.
func (p *proxyProc) run(t testing.TB) {
	t.Helper()
	p.start(t)
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", p.kind, p.output())
		}
	})
}

// copyConfig copies testdata/proxy/name into dir, replacing each key of
// replace, which must occur, with its value.
func copyConfig(t testing.TB, name, dir string, replace map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "proxy", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, new := range replace {
		if !strings.Contains(s, old) {
			t.Fatalf("testdata/proxy/%s has no %q for the test to replace", name, old)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the proxy and waits until it accepts connections.
func (p *proxyProc) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(p.path, p.args...)
	cmd.Dir = p.dir
	p.mu.Lock()
	cmd.Stdout, cmd.Stderr = &lockedWriter{&p.mu, &p.logs}, &lockedWriter{&p.mu, &p.logs}
	p.mu.Unlock()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.kind, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited at start-up: %s", p.kind, p.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections on %s after 20s: %s", p.kind, p.addr, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the proxy at once (SIGTERM: both proxies close every
// connection without waiting for it), killing it after 10 seconds.
func (p *proxyProc) stop(t testing.TB) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not exit within 10s of SIGTERM", p.kind)
		cmd.Process.Kill()
		<-done
	}
}

func (p *proxyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func (p *proxyProc) ws(path string) string { return "ws://" + p.addr + path }

// lockedWriter writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// serveBehind starts duplex serve with args and a proxy of kind in front
// of it, and returns both.
func serveBehind(t *testing.T, kind peer.Peer, args ...string) (*server, *proxyProc) {
	t.Helper()
	path := peer.Require(t, kind).Path // skips before duplex starts
	s := startServer(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	return s, startProxyAt(t, kind, path, strings.TrimPrefix(s.url, "http://"))
}

// TestReadmeShowsProxyConfigs checks that README.md shows the proxies'
// configurations as the tests run them, whole.
func TestReadmeShowsProxyConfigs(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nginx-duplex.conf", "haproxy-duplex.cfg", "haproxy-h2.cfg"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proxy", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, append(append([]byte("\n"), b...), "```"...)) {
			t.Errorf("README.md does not show testdata/proxy/%s whole, in a code block", name)
		}
	}
}

// TestBehindProxies runs duplex serve, in engine and goroutine modes,
// behind nginx and haproxy with the configurations README.md shows.
func TestBehindProxies(t *testing.T) {
	for _, kind := range proxies {
		for _, engine := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/engine=%v", kind, engine), func(t *testing.T) {
				t.Parallel()
				s, p := serveBehind(t, kind, fmt.Sprintf("--engine=%v", engine), "--read-limit", "80M", "--trusted-proxy", "127.0.0.1", "--subprotocols", "chat.v1")
				t.Run("echo", func(t *testing.T) { testProxyEcho(t, p) })
				t.Run("64MiB", func(t *testing.T) { testProxyBigMessage(t, p) })
				t.Run("close codes", func(t *testing.T) { testProxyCloseCodes(t, p) })
				t.Run("permessage-deflate and subprotocol", func(t *testing.T) { testProxyNegotiation(t, p) })
				t.Run("client address", func(t *testing.T) { testProxyClientAddr(t, s, p) })
				t.Run("1000 connections", func(t *testing.T) { testProxyManyConns(t, p, 1000) })
				t.Run("restart", func(t *testing.T) { testProxyRestart(t, p) })
			})
		}
	}
}

func testProxyEcho(t *testing.T, p *proxyProc) {
	c := dial(t, p.ws("/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []struct {
		typ websocket.MessageType
		p   string
	}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\x01\xff"}, {websocket.MessageText, ""}} {
		if err := c.Write(ctx, m.typ, []byte(m.p)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(got) != m.p {
			t.Fatalf("echo of %v %q: %v %q, %v", m.typ, m.p, typ, got, err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("closing handshake through the proxy: %v", err)
	}
}

// testProxyBigMessage sends a message of 64 MiB through the proxy and
// reads its echo as it comes, neither end holding it whole.
func testProxyBigMessage(t *testing.T, p *proxyProc) {
	const size = 64 << 20
	c := dial(t, p.ws("/echo"), &websocket.DialOptions{ReadLimit: size})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), 0x5a, 0xa5}, 16<<10) } // 64 KiB
	const chunks = size / (64 << 10)
	wrote := make(chan error, 1)
	go func() {
		w, err := c.Writer(ctx, websocket.MessageBinary)
		if err != nil {
			wrote <- err
			return
		}
		for i := range chunks {
			if _, err := w.Write(chunk(i)); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- w.Close()
	}()
	typ, r, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for i := range chunks {
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("echo cut after %d of %d bytes: %v", i*len(buf), size, err)
		}
		if !bytes.Equal(buf, chunk(i)) {
			t.Fatalf("echo differs in its bytes %d to %d", i*len(buf), (i+1)*len(buf))
		}
	}
	if n, err := io.Copy(io.Discard, r); n != 0 || err != nil || typ != websocket.MessageBinary {
		t.Fatalf("echo: %v, %d bytes too many, %v", typ, n, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// testProxyCloseCodes checks that close codes cross the proxy both ways:
// the server's 1007 for bad UTF-8 reaches the client, and the client's
// 4000 reaches the server, which sends it back (RFC 6455 §5.5.1).
func testProxyCloseCodes(t *testing.T, p *proxyProc) {
	// A raw frame: the client's Write refuses bad UTF-8 in text.
	nc := proxiedHandshake(t, p.addr, "/echo")
	nc.Write(maskFrame(0x1, []byte{0xc3, 0x28}))
	if op, payload := readRawFrame(t, nc); op != 0x8 || len(payload) < 2 || binary.BigEndian.Uint16(payload) != 1007 {
		t.Fatalf("bad UTF-8: frame %#x %q, want a close frame with 1007", op, payload)
	}
	nc.Close()

	nc = proxiedHandshake(t, p.addr, "/echo")
	defer nc.Close()
	nc.Write(maskFrame(0x8, append(binary.BigEndian.AppendUint16(nil, 4000), "bye"...)))
	if op, payload := readRawFrame(t, nc); op != 0x8 || len(payload) < 2 || binary.BigEndian.Uint16(payload) != 4000 {
		t.Fatalf("client's close 4000: answered with frame %#x %q, want a close frame with 4000", op, payload)
	}

	// And with Duplex's client: its Close(4001) completes the handshake.
	if err := dial(t, p.ws("/echo"), nil).Close(4001, "done"); err != nil {
		t.Fatalf("closing handshake with 4001: %v", err)
	}
}

// proxiedHandshake opens a WebSocket to path through the proxy at addr
// by hand, for frames written byte by byte.
func proxiedHandshake(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	nc, resp := rawHandshake(t, "ws://"+addr, path)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake through the proxy: %s", resp.Status)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

// maskFrame returns a final client frame with opcode op, masked.
func maskFrame(op byte, payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x80 | op, 0x80 | byte(len(payload))}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// readRawFrame reads one short unmasked server frame.
func readRawFrame(t *testing.T, nc net.Conn) (op byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(nc, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(nc, payload); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return h[0] & 0x0f, payload
}

// testProxyNegotiation checks that permessage-deflate and a subprotocol
// are negotiated through the proxy, which passes Sec-WebSocket-Extensions
// and Sec-WebSocket-Protocol both ways.
func testProxyNegotiation(t *testing.T, p *proxyProc) {
	c := dial(t, p.ws("/echo"), &websocket.DialOptions{Compression: &websocket.CompressionOptions{}, Subprotocols: []string{"other", "chat.v1"}})
	if !strings.HasPrefix(c.Extensions(), "permessage-deflate") {
		t.Fatalf("extensions %q through the proxy, want permessage-deflate", c.Extensions())
	}
	if c.Subprotocol() != "chat.v1" {
		t.Fatalf("subprotocol %q through the proxy, want chat.v1", c.Subprotocol())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := bytes.Repeat([]byte("compressible "), 10000)
	for range 3 {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("compressed echo: %d bytes, %v", len(got), err)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// testProxyClientAddr checks that the proxy's X-Forwarded-For reaches
// serve, which, trusting 127.0.0.1, logs the address the proxy gave
// (without a port) rather than the proxy's (with one).
func testProxyClientAddr(t *testing.T, s *server, p *proxyProc) {
	dial(t, p.ws("/chat?room=proxied"), nil).CloseNow()
	waitForLog(t, s, "chat connection", "remote=127.0.0.1 ")
}

// testProxyManyConns opens n connections through the proxy at once, each
// echoing a message, then closes them all.
func testProxyManyConns(t *testing.T, p *proxyProc, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range next {
				c, _, err := websocket.Dial(ctx, p.ws("/echo"), nil)
				if err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					continue
				}
				conns[i] = c
				msg := fmt.Sprint("hello ", i)
				if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					errs <- err
					continue
				}
				if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
					errs <- fmt.Errorf("connection %d: echo %q, %v", i, got, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	// Every connection is open at once before any closes.
	for i, c := range conns {
		if c == nil {
			continue
		}
		wg.Go(func() {
			if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
				errs <- fmt.Errorf("closing connection %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d failures over %d connections", failed, n)
	}
}

// testProxyRestart stops the proxy under open connections: their clients
// see 1006 (no close frame), and connect again once it is back.
func testProxyRestart(t *testing.T, p *proxyProc) {
	const n = 10
	ended := make(chan error, n)
	for range n {
		c := dial(t, p.ws("/echo"), nil)
		go func() {
			_, _, err := c.Read(context.Background())
			ended <- err
		}()
	}
	p.stop(t)
	for range n {
		select {
		case err := <-ended:
			if got := websocket.CloseStatus(err); got != websocket.StatusAbnormalClosure {
				t.Fatalf("a client saw %v (code %d) when the proxy stopped, want 1006", err, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a client saw nothing within 10s of the proxy stopping")
		}
	}
	p.start(t)
	testProxyEcho(t, p)
}

// TestBehindProxiesIdle checks that a connection that carries nothing
// stays open through nginx (which cuts one after 60s) and haproxy (50s)
// for 75 seconds, thanks to serve's default keep-alive pings, in engine
// and goroutine modes; and that without them (--ping-interval 0) the
// proxy cuts it, the client seeing 1006. It takes 75 seconds: every pair
// of proxy and server waits at once.
func TestBehindProxiesIdle(t *testing.T) {
	t.Parallel()
	const idle = 75 * time.Second
	type pair struct {
		name  string
		alive bool // with pings
		c     *websocket.Conn
		msgs  chan string
		ended chan error
	}
	ctx, cancel := context.WithTimeout(context.Background(), idle+time.Minute)
	defer cancel()
	var pairs []*pair
	for _, kind := range proxies {
		// A subtest finds the proxy, so that a missing one skips (or fails,
		// under CI) alone; the servers and proxies live as long as the test.
		var path string
		t.Run(string(kind), func(t *testing.T) { path = peer.Require(t, kind).Path })
		if path == "" {
			continue
		}
		for _, m := range []struct {
			name  string
			args  []string
			alive bool
		}{
			{"engine", []string{"--engine=true"}, true},
			{"goroutine", []string{"--engine=false"}, true},
			{"no pings", []string{"--ping-interval", "0"}, false},
		} {
			s := startServer(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, m.args...)...)
			p := startProxyAt(t, kind, path, strings.TrimPrefix(s.url, "http://"))
			pr := &pair{name: string(kind) + ", " + m.name, alive: m.alive, c: dial(t, p.ws("/echo"), nil), msgs: make(chan string, 1), ended: make(chan error, 1)}
			go func() {
				for {
					_, b, err := pr.c.Read(ctx) // answers the server's pings
					if err != nil {
						pr.ended <- err
						return
					}
					pr.msgs <- string(b)
				}
			}()
			pairs = append(pairs, pr)
		}
	}
	deadline := time.Now().Add(idle)
	for _, pr := range pairs {
		var err error
		select {
		case err = <-pr.ended:
		case <-time.After(time.Until(deadline)):
			select {
			case err = <-pr.ended:
			default:
			}
		}
		if err != nil {
			if pr.alive {
				t.Errorf("%s: the idle connection ended: %v", pr.name, err)
			} else if got := websocket.CloseStatus(err); got != websocket.StatusAbnormalClosure {
				t.Errorf("%s: the proxy ended the connection with %v (code %d), want 1006", pr.name, err, got)
			}
			continue
		}
		if !pr.alive {
			t.Errorf("%s: the connection is still open after %v: the proxy's timeout is not what the test expects", pr.name, idle)
			continue
		}
		if err := pr.c.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
			t.Errorf("%s: after %v idle: %v", pr.name, idle, err)
			continue
		}
		select {
		case m := <-pr.msgs:
			if m != "still here" {
				t.Errorf("%s: echo %q", pr.name, m)
			}
		case err := <-pr.ended:
			t.Errorf("%s: the connection ended after %v idle: %v", pr.name, idle, err)
		}
	}
}
