package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// rawHandshake sends a WebSocket handshake for path over a new TCP
// connection to the server at base and returns the connection and the
// response.
func rawHandshake(t *testing.T, base, path string) (net.Conn, *http.Response) {
	t.Helper()
	u, _ := url.Parse(base)
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: "+u.Host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	return &bufferedConn{nc, br}, resp
}

// bufferedConn reads what the handshake's reader holds before the conn.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// TestServeRefusalClosesConnection checks that a handshake over
// --max-conns gets 503 with Connection: close, and that the server closes
// the connection at once rather than keeping it for keep-alive; /metrics
// counts the refusal by its reason.
func TestServeRefusalClosesConnection(t *testing.T) {
	for _, path := range []string{"/echo", "/chat?room=r"} {
		s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--max-conns", "1")
		dial(t, s.ws("/echo"), nil)
		nc, resp := rawHandshake(t, s.url, path)
		if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
			t.Fatalf("%s over --max-conns: %s, Connection %q; want 503 and close", path, resp.Status, resp.Header.Get("Connection"))
		}
		start := time.Now()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("%s: read after the 503: %v; want EOF", path, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: connection closed %v after the 503", path, d)
		}
		expectMetrics(t, s.url+"/metrics", "\nduplex_refused_total{reason=\"max_conns\"} 1\n")
	}
}

// TestServeHandshakeTimeout checks that a TCP connection that sends
// nothing is closed after --handshake-timeout, and counted.
func TestServeHandshakeTimeout(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--handshake-timeout", "300ms")
	ws := dial(t, s.ws("/echo"), nil)
	u, _ := url.Parse(s.url)
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("silent connection: %v; want EOF", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("silent connection closed after %v", d)
	}
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := ws.Read(ctx); err != nil || string(p) != "hi" {
		t.Fatalf("the WebSocket after the handshake timeout: %q, %v", p, err)
	}
	expectMetrics(t, s.url+"/metrics", "\nduplex_refused_total{reason=\"handshake_timeout\"} 1\n")
}

// TestServeConnectionStormUnderDescriptorLimit runs duplex serve with a
// limit of 256 descriptors and opens 400 WebSockets against it, 40 at a
// time: every client is answered, 101 or 503, within a second, the
// server never runs out of descriptors, and once the connections close
// clients get 101 again.
func TestServeConnectionStormUnderDescriptorLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 400 connections")
	}
	args := []string{"serve", "--addr", "127.0.0.1:0"}
	cmd := exec.Command("sh", append([]string{"-c", `ulimit -n 256 && exec "$0" "$@"`, duplexBin}, args...)...)
	s := startServerCmd(t, cmd, args)
	var mu sync.Mutex
	var held []*websocket.Conn
	defer func() {
		for _, c := range held {
			c.CloseNow()
		}
	}()
	count := map[int]int{}
	var wg sync.WaitGroup
	for range 10 {
		for range 40 {
			wg.Go(func() {
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				c, _, err := websocket.Dial(ctx, s.ws("/echo"), nil)
				mu.Lock()
				defer mu.Unlock()
				var he *websocket.HandshakeError
				switch {
				case err == nil:
					held = append(held, c)
					count[101]++
				case errors.As(err, &he):
					count[he.Status]++
				default:
					t.Errorf("client not answered after %v: %v", time.Since(start), err)
				}
			})
		}
		wg.Wait()
	}
	t.Logf("answers: %v", count)
	// 256 less a headroom of 64 is 192, of which 12 are kept for refusals.
	if count[101] < 150 || count[101] > 180 || count[503] < 200 {
		t.Errorf("answers %v; want 150-180 × 101 and the rest 503", count)
	}
	if strings.Contains(s.logs(), "too many open files") {
		t.Errorf("the server ran out of descriptors")
	}
	for _, c := range held {
		c.CloseNow()
	}
	held = nil
	if !eventually(func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, s.ws("/echo"), nil)
		if err != nil {
			return false
		}
		c.CloseNow()
		return true
	}) {
		t.Fatal("no 101 after the connections closed")
	}
	expectMetrics(t, s.url+"/metrics", "\nduplex_refused_total{reason=\"descriptors\"} ")
}

// TestServeStallTimeout checks that duplex serve fails with 1008 a client
// that sends half a message and goes silent, on /echo and /chat.
func TestServeStallTimeout(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--stall-timeout", "300ms")
	for _, path := range []string{"/echo", "/chat?room=r"} {
		nc, resp := rawHandshake(t, s.url, path)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		// A masked text frame without FIN: the message's first fragment.
		payload := []byte("half")
		frame := append([]byte{0x01, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
		if _, err := nc.Write(frame); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			t.Fatalf("%s: no close frame: %v", path, err)
		}
		if hdr[0] != 0x88 || int(hdr[2])<<8|int(hdr[3]) != int(websocket.StatusPolicyViolation) {
			t.Fatalf("%s: got % x, want a close frame with 1008", path, hdr)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: closed after %v", path, d)
		}
	}
}

// TestServeRefusalsLogRateLimited checks that 60 handshakes refused over
// --max-conns within a second are logged in at most 10 lines, and that a
// later line counts those left out.
func TestServeRefusalsLogRateLimited(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--max-conns", "1")
	dial(t, s.ws("/echo"), nil)
	start := time.Now()
	for range 60 {
		rawHandshake(t, s.url, "/echo")
	}
	if time.Since(start) < time.Second {
		if n := strings.Count(s.logs(), "refused: too many connections"); n > 10 {
			t.Errorf("%d lines for 60 refusals within a second, want at most 10", n)
		}
	}
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	rawHandshake(t, s.url, "/echo")
	if !eventually(func() bool { return strings.Contains(s.logs(), "suppressed=") }) {
		t.Errorf("no line counts the refusals left out:\n%s", s.logs())
	}
}
