package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestConcurrentWritersNeverInterleave(t *testing.T) { run(t, testConcurrentWritersNeverInterleave) }

func testConcurrentWritersNeverInterleave(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, &DialOptions{WriteBufferSize: 512})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 100+i*37)
				var err error
				if i%2 == 0 {
					err = c.Write(ctx, MessageBinary, msg)
				} else {
					// Streamed in several frames while others write whole messages.
					var wr io.WriteCloser
					if wr, err = c.Writer(ctx, MessageBinary); err == nil {
						for chunk := range slices.Chunk(msg, 200) {
							wr.Write(chunk)
						}
						err = wr.Close()
					}
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait() }()
	for range writers * each {
		_, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(bytes.Trim(msg, string(msg[:1]))) != 0 {
			t.Fatalf("a message mixes the bytes of two writers: %q...", msg[:min(40, len(msg))])
		}
	}
	wg.Wait()
}

func TestPing(t *testing.T) { run(t, testPing) }

func testPing(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go c.Read(ctx) // pongs are seen by a reader
	for range 3 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}
}

func TestKeepAliveClosesSilentPeer(t *testing.T) { run(t, testKeepAliveClosesSilentPeer) }

func testKeepAliveClosesSilentPeer(t *testing.T, m mode) {
	// A server that never reads does not answer pings; it holds the
	// connection until the test is over.
	over := make(chan struct{})
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, m.acceptOptions(nil))
		if err != nil {
			return
		}
		<-over
		c.CloseNow()
	}))
	t.Cleanup(func() { close(over) }) // before the server's Close, which waits for the handler
	c := srv.dial(t, &DialOptions{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if !errors.Is(err, ErrClosed) || ctx.Err() != nil {
		t.Fatalf("Read: %v; want the keep-alive to close the connection", err)
	}
}

func TestPeerCloseReported(t *testing.T) { run(t, testPeerCloseReported) }

func testPeerCloseReported(t *testing.T, m mode) {
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, m.acceptOptions(nil))
		if err != nil {
			return
		}
		c.Close(4001, "custom reason")
	}))
	c := srv.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "custom reason" {
		t.Fatalf("Read: %v, want CloseError 4001 custom reason", err)
	}
	if err := c.Write(ctx, MessageText, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after the peer closed: %v, want ErrClosed", err)
	}
}

func TestCloseFromManyGoroutines(t *testing.T) { run(t, testCloseFromManyGoroutines) }

func testCloseFromManyGoroutines(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				c.Close(StatusNormalClosure, "")
			} else {
				c.CloseNow()
			}
		}()
	}
	wg.Wait()
	if err := c.Write(context.Background(), MessageText, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

// TestCloseWhileReading closes a connection whose Read is blocked: the Read
// returns ErrClosed. synctest.Wait makes sure the Read is blocked first.
func TestCloseWhileReading(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		server, client := pipePair(t)
		go server.Read(context.Background()) // answers the close
		readErr := make(chan error, 1)
		go func() {
			_, _, err := client.Read(context.Background())
			readErr <- err
		}()
		synctest.Wait()
		if err := client.Close(StatusGoingAway, "leaving"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-readErr; !errors.Is(err, ErrClosed) {
			t.Fatalf("concurrent Read returned %v", err)
		}
	})
}

func TestCloseArgumentsChecked(t *testing.T) {
	t.Parallel()
	url := startEcho(t, nil)
	c := dialT(t, url, nil)
	if err := c.Close(1006, ""); err == nil {
		t.Error("Close(1006) accepted")
	}
	if err := c.Close(1005, "reason"); err == nil {
		t.Error("Close(1005) with a reason accepted: a frame without a code has none")
	}
	if err := c.Close(1000, strings.Repeat("x", 124)); err == nil {
		t.Error("a 124-byte reason accepted")
	}
}

func TestReadContextCancel(t *testing.T) { run(t, testReadContextCancel) }

func testReadContextCancel(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read: %v, want the context's error", err)
	}
}

func TestStreamingLargeMessage(t *testing.T) { run(t, testStreamingLargeMessage) }

func testStreamingLargeMessage(t *testing.T, m mode) {
	// A message larger than the read limit passes through Reader/Writer
	// streams; memory stays bounded by buffers (see TestStream2GiB for 2 GiB).
	c := m.echo(t, &AcceptOptions{ReadLimit: -1}).dial(t, &DialOptions{ReadLimit: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	size := int64(64 << 20)
	if raceEnabled {
		size = 8 << 20
	}
	go func() {
		w, err := c.Writer(ctx, MessageBinary)
		if err != nil {
			return
		}
		io.Copy(w, io.LimitReader(&patternReader{}, size))
		w.Close()
	}()
	typ, r, err := c.Reader(ctx)
	if err != nil || typ != MessageBinary {
		t.Fatalf("Reader: %v %v", typ, err)
	}
	n, err := io.Copy(&countingWriter{t: t}, r)
	if err != nil || n != size {
		t.Fatalf("streamed %d bytes, err %v", n, err)
	}
}

// countingWriter checks that every byte of a streamed message is the one sent.
type countingWriter struct {
	t   *testing.T
	off int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	for i, c := range b {
		if c != byte((w.off+int64(i))%251) {
			w.t.Fatalf("byte %d is %d, want %d", w.off+int64(i), c, (w.off+int64(i))%251)
		}
	}
	w.off += int64(len(b))
	return len(b), nil
}

// patternReader yields the bytes countingWriter expects.
type patternReader struct{ off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(echoHandler(t, &AcceptOptions{OriginPatterns: []string{"*.trusted.example"}}))
	defer srv.Close()
	good := func() http.Header {
		return http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"keep-alive, Upgrade"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Version": {"13"},
		}
	}
	tests := []struct {
		name   string
		method string
		edit   func(h http.Header)
		status int
		body   string
	}{
		{"POST", "POST", func(h http.Header) {}, 405, "not GET"},
		{"no upgrade", "GET", func(h http.Header) { h.Del("Upgrade") }, 400, "Upgrade"},
		{"no connection upgrade", "GET", func(h http.Header) { h.Set("Connection", "keep-alive") }, 400, "Connection"},
		{"short key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, 400, "16 bytes"},
		{"version 8", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, 426, "13"},
		{"no version", "GET", func(h http.Header) { h.Del("Sec-Websocket-Version") }, 426, "13"},
		{"cross-site origin", "GET", func(h http.Header) { h.Set("Origin", "https://evil.example") }, 403, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL, nil)
			req.Header = good()
			tc.edit(req.Header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
				t.Fatalf("got %d %q, want %d and a body mentioning %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 without Sec-WebSocket-Version: %v", resp.Header)
			}
		})
	}
	for _, origin := range []string{"", "http://" + strings.TrimPrefix(srv.URL, "http://"), "https://app.trusted.example"} {
		c, _, err := Dial(context.Background(), srv.URL, &DialOptions{Origin: origin})
		if err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
			continue
		}
		c.CloseNow()
	}
}

func TestLegacyVersion8(t *testing.T) {
	t.Parallel()
	url := startEcho(t, &AcceptOptions{LegacyVersions: []int{7, 8}})
	c := dialT(t, url, &DialOptions{Version: 8, Origin: "http://" + strings.TrimPrefix(url, "ws://")})
	ctx := context.Background()
	if err := c.Write(ctx, MessageText, []byte("v8")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "v8" {
		t.Fatalf("echo over version 8: %q %v", got, err)
	}
}

func TestDialReportsRefusal(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no websockets for you", http.StatusForbidden)
	}))
	defer srv.Close()
	_, resp, err := Dial(context.Background(), srv.URL, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != 403 || !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "no websockets for you") {
		t.Fatalf("Dial error: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "no websockets") {
		t.Fatalf("response: %d %q", resp.StatusCode, body)
	}
}

func TestDialChecksSubprotocol(t *testing.T) {
	t.Parallel()
	srv := plainTCP.echo(t, &AcceptOptions{Subprotocols: []string{"chat.v2", "chat.v1"}})
	c := srv.dial(t, &DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
	if c.Subprotocol() != "chat.v2" {
		t.Fatalf("negotiated %q, want the server's preference chat.v2", c.Subprotocol())
	}
	c2 := srv.dial(t, &DialOptions{Subprotocols: []string{"other"}})
	if c2.Subprotocol() != "" {
		t.Fatalf("negotiated %q from no common subprotocol", c2.Subprotocol())
	}
}

func TestDialBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"ftp://x/", "ws://", "ws://host/#frag", "::"} {
		if _, _, err := Dial(context.Background(), u, nil); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}

func TestDialThroughProxy(t *testing.T) { run(t, testDialThroughProxy, plainTCP, plainTLS) }

// testDialThroughProxy tunnels through an HTTP proxy with CONNECT; in TLS
// modes the TLS session runs inside the tunnel.
func testDialThroughProxy(t *testing.T, m mode) {
	srv := m.echo(t, nil)
	var sawAuth string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", 405)
			return
		}
		sawAuth = r.Header.Get("Proxy-Authorization")
		up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		nc, brw, _ := http.NewResponseController(w).Hijack()
		nc.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(nc, up)
		nc.Close()
	}))
	defer proxy.Close()
	proxyURL, err := url.Parse(strings.Replace(proxy.URL, "http://", "http://user:secret@", 1))
	if err != nil {
		t.Fatal(err)
	}
	c := srv.dial(t, &DialOptions{Proxy: http.ProxyURL(proxyURL)})
	ctx := context.Background()
	c.Write(ctx, MessageText, []byte("via proxy"))
	if _, got, err := c.Read(ctx); err != nil || string(got) != "via proxy" {
		t.Fatalf("echo through the proxy: %q %v", got, err)
	}
	if sawAuth != "Basic dXNlcjpzZWNyZXQ=" {
		t.Fatalf("proxy saw authorization %q", sawAuth)
	}
}

func TestMessageTypeString(t *testing.T) {
	t.Parallel()
	if fmt.Sprint(MessageText, MessageBinary, MessageType(7)) != "text binary MessageType(7)" {
		t.Fatal(fmt.Sprint(MessageText, MessageBinary, MessageType(7)))
	}
}

// TestEndedContextLeavesConnUsable checks that a context ending between
// calls fails only the calls made with it: the connection goes on with
// another context.
func TestEndedContextLeavesConnUsable(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testEndedContextLeavesConnUsable)
}

func testEndedContextLeavesConnUsable(t *testing.T) {
	server, client := pipePair(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			typ, p, err := server.Read(context.Background())
			if err != nil {
				return
			}
			server.Write(context.Background(), typ, p)
		}
	}()
	if err := client.Write(ctx, MessageText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := client.Read(ctx); err != nil || string(p) != "one" {
		t.Fatalf("Read = %q, %v", p, err)
	}
	cancel()
	synctest.Wait() // the watch of ctx has seen it end
	if err := client.Write(ctx, MessageText, []byte("two")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with an ended context: %v, want context.Canceled", err)
	}
	if _, _, err := client.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with an ended context: %v, want context.Canceled", err)
	}
	fresh, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := client.Write(fresh, MessageText, []byte("three")); err != nil {
		t.Fatalf("Write with a new context: %v", err)
	}
	if _, p, err := client.Read(fresh); err != nil || string(p) != "three" {
		t.Fatalf("Read with a new context = %q, %v", p, err)
	}
}

// TestContextEndsBlockedRead checks that a read blocked with a context that
// earlier calls used too still returns when that context ends.
func TestContextEndsBlockedRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testContextEndsBlockedRead)
}

func testContextEndsBlockedRead(t *testing.T) {
	server, client := pipePair(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		typ, p, err := server.Read(context.Background())
		if err == nil {
			server.Write(context.Background(), typ, p)
		}
	}()
	if err := client.Write(ctx, MessageText, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Read(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		synctest.Wait() // the Read below is blocked
		cancel()
	}()
	if _, _, err := client.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked Read after cancel: %v, want context.Canceled", err)
	}
}

// hijackRecorder is a ResponseWriter whose Hijack hands over one end of a
// pipe with 4 KiB buffers, as net/http does, the reader already holding
// bytes the client sent right after its handshake.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	nc  net.Conn
	brw *bufio.ReadWriter
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) { return h.nc, h.brw, nil }

func TestAcceptReleasesHijackedBuffers(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer client.Close()
	early := appendFrameHeader(nil, frameHeader{fin: true, op: opText, length: 5, masked: true})
	early = append(early, "early"...) // masked with a zero key
	rec := &hijackRecorder{
		ResponseRecorder: httptest.NewRecorder(),
		nc:               server,
		brw:              bufio.NewReadWriter(bufio.NewReader(io.MultiReader(bytes.NewReader(early), server)), bufio.NewWriter(server)),
	}
	rec.brw.Reader.Peek(len(early))
	go io.Copy(io.Discard, client) // the handshake response
	req := httptest.NewRequest("GET", "/", nil)
	req.Header = http.Header{
		"Upgrade":               {"websocket"},
		"Connection":            {"Upgrade"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
	c, err := Accept(rec, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if rec.brw.Reader.Size() > 16 || rec.brw.Writer.Size() > 16 {
		t.Errorf("the hijacked buffers are still %d and %d bytes", rec.brw.Reader.Size(), rec.brw.Writer.Size())
	}
	if _, err := rec.brw.Reader.ReadByte(); !errors.Is(err, http.ErrHijacked) {
		t.Errorf("reading the released reader: %v, want http.ErrHijacked", err)
	}
	typ, p, err := c.Read(context.Background())
	if err != nil || typ != MessageText || string(p) != "early" {
		t.Fatalf("Read = %v %q %v; want the message the client sent with its handshake", typ, p, err)
	}
}

// TestReaderEndsWithLastBytes checks that a message reader returns io.EOF
// together with the last bytes of the message, so a reader sized for the
// message needs no further call to learn that it ended.
func TestReaderEndsWithLastBytes(t *testing.T) {
	t.Parallel()
	server, client := pipePair(t)
	ctx := context.Background()
	go func() {
		client.Write(ctx, MessageText, []byte("hello"))
		w, _ := client.Writer(ctx, MessageBinary)
		w.Write([]byte("two "))
		w.Close()
	}()
	for _, want := range []string{"hello", "two "} {
		_, r, err := server.Reader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, err := r.Read(buf)
		if string(buf[:n]) != want || err != io.EOF {
			t.Fatalf("Read = %q, %v; want %q, io.EOF", buf[:n], err, want)
		}
	}
}
