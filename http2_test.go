package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duplexws/websocket/xconnect" // the HTTP/2 server offers extended CONNECT
)

// h2Server is an HTTP/2 server for the tests, with TLS or h2c, counting the
// TCP connections it accepted and the protocols WebSockets came over.
type h2Server struct {
	*httptest.Server
	conns atomic.Int64
	mu    sync.Mutex
	proto map[string]int
}

func startH2(t testing.TB, tlsOn bool, h http.Handler) *h2Server {
	t.Helper()
	s := &h2Server{proto: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.proto[r.Proto+" "+r.Method]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1000}
	if tlsOn {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.Server = srv
	return s
}

func (s *h2Server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func (s *h2Server) seen(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proto[key]
}

// h2Transport is a client transport that trusts s and speaks HTTP/2.
func (s *h2Server) h2Transport() *http.Transport {
	tr := &http.Transport{ForceAttemptHTTP2: true}
	if s.TLS != nil {
		tr.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(true)
	tr.Protocols.SetUnencryptedHTTP2(s.TLS == nil)
	return tr
}

func (s *h2Server) dialOptions(tr *http.Transport) *DialOptions {
	o := &DialOptions{HTTP2: tr}
	if s.TLS != nil {
		o.TLSConfig = tr.TLSClientConfig
	}
	return o
}

func dialH2(t testing.TB, url string, opts *DialOptions) (*Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

func TestHTTP2Echo(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name    string
		tls     bool
		deflate bool
	}{{"tls", true, false}, {"tls+deflate", true, true}, {"h2c", false, false}, {"h2c+deflate", false, true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			var aopts AcceptOptions
			aopts.Subprotocols = []string{"chat"}
			if mode.deflate {
				aopts.Compression = &CompressionOptions{}
			}
			s := startH2(t, mode.tls, echoHandler(t, &aopts))
			url := s.wsURL()
			if mode.tls {
				url = "wss" + strings.TrimPrefix(s.URL, "https")
			}
			opts := s.dialOptions(s.h2Transport())
			opts.Subprotocols = []string{"x", "chat"}
			if mode.deflate {
				opts.Compression = &CompressionOptions{}
			}
			c, resp := dialH2(t, url, opts)
			if resp.Proto != "HTTP/2.0" || s.seen("HTTP/2.0 CONNECT") != 1 {
				t.Fatalf("response %s, server saw %v; want HTTP/2 extended CONNECT", resp.Proto, s.proto)
			}
			if c.Subprotocol() != "chat" {
				t.Errorf("subprotocol %q", c.Subprotocol())
			}
			if mode.deflate != strings.Contains(c.Extensions(), "permessage-deflate") {
				t.Errorf("extensions %q", c.Extensions())
			}
			ctx := context.Background()
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
			for _, m := range []struct {
				typ MessageType
				p   []byte
			}{{MessageText, []byte("hello")}, {MessageBinary, []byte{0, 1, 2, 255}}, {MessageBinary, big}, {MessageText, nil}} {
				if err := c.Write(ctx, m.typ, m.p); err != nil {
					t.Fatal(err)
				}
				typ, p, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if typ != m.typ || !bytes.Equal(p, m.p) {
					t.Fatalf("echo of %d bytes: got %v %d bytes", len(m.p), typ, len(p))
				}
			}
			// Pongs are seen by a reader.
			readErr := make(chan error, 1)
			go func() {
				_, _, err := c.Read(ctx)
				readErr <- err
			}()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := c.Close(StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-readErr; !errors.Is(err, ErrClosed) {
				t.Fatalf("Read after Close: %v", err)
			}
		})
	}
}

// TestHTTP2ManyStreams opens many WebSockets through one transport and
// checks they share one TCP connection, each echoing on its own.
func TestHTTP2ManyStreams(t *testing.T) {
	t.Parallel()
	s := startH2(t, true, echoHandler(t, nil))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	url := "wss" + strings.TrimPrefix(s.URL, "https")
	const n = 100
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := Dial(ctx, url, s.dialOptions(tr))
			if err != nil {
				errs <- err
				return
			}
			if resp.Proto != "HTTP/2.0" {
				errs <- errors.New("dialled over " + resp.Proto)
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, c := range conns {
		msg := []byte(strings.Repeat("x", i))
		if err := c.Write(ctx, MessageBinary, msg); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		_, p, err := c.Read(ctx)
		if err != nil || len(p) != i {
			t.Fatalf("conn %d: %d bytes, %v", i, len(p), err)
		}
	}
	// A connection that stops reading stalls no other stream.
	stalled := conns[0]
	for range 40 {
		if err := stalled.Write(ctx, MessageBinary, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns[1:] {
		if err := c.Write(ctx, MessageText, []byte("still here")); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.Read(ctx); err != nil || string(p) != "still here" {
			t.Fatalf("%q, %v", p, err)
		}
	}
	if got := s.conns.Load(); got != 1 {
		t.Errorf("%d TCP connections, want 1", got)
	}
}

// TestHTTP2ReadLimit checks each stream enforces its own read limit.
func TestHTTP2ReadLimit(t *testing.T) {
	t.Parallel()
	s := startH2(t, true, echoHandler(t, &AcceptOptions{ReadLimit: 1000}))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	url := "wss" + strings.TrimPrefix(s.URL, "https")
	small, _ := dialH2(t, url, s.dialOptions(tr))
	big, _ := dialH2(t, url, s.dialOptions(tr))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := big.Write(ctx, MessageBinary, make([]byte, 1001)); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if _, _, err := big.Read(ctx); !errors.As(err, &ce) || ce.Code != StatusMessageTooBig {
		t.Fatalf("read after a message over the limit: %v", err)
	}
	if err := small.Write(ctx, MessageBinary, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := small.Read(ctx); err != nil || len(p) != 1000 {
		t.Fatalf("%d bytes, %v", len(p), err)
	}
}

// TestHTTP2ContextCancel checks that a read blocked on a stream ends with
// its context.
func TestHTTP2ContextCancel(t *testing.T) {
	t.Parallel()
	s := startH2(t, true, echoHandler(t, nil))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	c, _ := dialH2(t, "wss"+strings.TrimPrefix(s.URL, "https"), s.dialOptions(tr))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Read returned after %v", d)
	}
}

// TestHTTP2PeerClose checks close codes both ways and what the stream's end means.
func TestHTTP2PeerClose(t *testing.T) {
	t.Parallel()
	serverErr := make(chan error, 1)
	s := startH2(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, p, err := c.Read(context.Background())
		if err != nil {
			serverErr <- err
			return
		}
		if string(p) == "close" {
			serverErr <- c.Close(4001, "server says bye")
			return
		}
		_, _, err = c.Read(context.Background())
		serverErr <- err
	}))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	url := "wss" + strings.TrimPrefix(s.URL, "https")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// The server closes with a code of its own.
	c, _ := dialH2(t, url, s.dialOptions(tr))
	c.Write(ctx, MessageText, []byte("close"))
	var ce *CloseError
	if _, _, err := c.Read(ctx); !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "server says bye" {
		t.Fatalf("client read: %v", err)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server Close: %v", err)
	}

	// The client closes with a code of its own.
	c, _ = dialH2(t, url, s.dialOptions(tr))
	c.Write(ctx, MessageText, []byte("wait"))
	if err := c.Close(4002, "client says bye"); err != nil {
		t.Fatalf("client Close: %v", err)
	}
	if err := <-serverErr; !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "client says bye" {
		t.Fatalf("server read: %v", err)
	}

	// A stream that ends without a close frame is an abnormal closure.
	c, _ = dialH2(t, url, s.dialOptions(tr))
	c.Write(ctx, MessageText, []byte("wait"))
	c.CloseNow()
	if err := <-serverErr; !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure {
		t.Fatalf("server read after the stream ended: %v", err)
	}
}

// TestHTTP2Refusals checks what Accept answers to HTTP/2 requests that
// cannot open a WebSocket.
func TestHTTP2Refusals(t *testing.T) {
	t.Parallel()
	s := startH2(t, true, echoHandler(t, &AcceptOptions{OriginPatterns: []string{"good.example"}}))
	client := s.Client()
	for _, tc := range []struct {
		name   string
		method string
		header http.Header
		status int
		reason string
	}{
		{"GET", "GET", nil, http.StatusMethodNotAllowed, "extended CONNECT"},
		{"POST", "POST", nil, http.StatusMethodNotAllowed, "extended CONNECT"},
		{"bad origin", "", http.Header{"Origin": {"https://evil.example"}, "Sec-Websocket-Version": {"13"}}, http.StatusForbidden, "evil.example"},
		{"bad version", "", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusBadRequest, "Sec-WebSocket-Version"},
		{"two versions", "", http.Header{"Sec-Websocket-Version": {"13", "13"}}, http.StatusBadRequest, "Sec-WebSocket-Version appears more than once"},
		{"two origins", "", http.Header{"Origin": {"https://good.example", "https://good.example"}, "Sec-Websocket-Version": {"13"}}, http.StatusBadRequest, "Origin appears more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tc.method != "" {
				req, _ := http.NewRequest(tc.method, s.URL, nil)
				resp, err = client.Do(req)
			} else {
				opts := s.dialOptions(s.h2Transport())
				opts.HTTPHeader = tc.header
				if o := tc.header.Get("Origin"); o != "" {
					opts.Origin = o
				}
				raw := tc.header.Get("Sec-Websocket-Version") != "13"
				for _, vs := range tc.header {
					raw = raw || len(vs) > 1
				}
				if raw {
					// Dial speaks 13 over HTTP/2 and sends each header
					// once; send the request by hand.
					resp, err = rawConnect(s, tc.header)
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					var c *Conn
					c, resp, err = Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), opts)
					if err == nil {
						c.CloseNow()
						t.Fatal("Dial succeeded")
					}
					err = nil
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.ProtoMajor != 2 || resp.StatusCode != tc.status || !strings.Contains(string(body), tc.reason) {
				t.Fatalf("%s %d %q; want HTTP/2 %d saying %q", resp.Proto, resp.StatusCode, body, tc.status, tc.reason)
			}
		})
	}
}

// rawConnect sends an extended CONNECT with the given header through the
// HTTP/2 round tripper Dial uses and returns the answer.
func rawConnect(s *h2Server, h http.Header) (*http.Response, error) {
	tr := s.h2Transport()
	tr.Clone()
	nc, err := tls.Dial("tcp", s.Listener.Addr().String(), &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com", NextProtos: []string{"h2"}})
	if err != nil {
		return nil, err
	}
	rt := tr.TLSNextProto["h2"](s.Listener.Addr().String(), nc)
	req, _ := http.NewRequest(http.MethodConnect, s.URL, http.NoBody)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header[":protocol"] = []string{"websocket"}
	return rt.RoundTrip(req)
}

// TestHTTP2DialRefusesRepeatedProtocol answers an extended CONNECT with two
// Sec-WebSocket-Protocol fields, which RFC 6455 §11.3.4 forbids.
func TestHTTP2DialRefusesRepeatedProtocol(t *testing.T) {
	t.Parallel()
	s := startH2(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Sec-WebSocket-Protocol", "chat")
		w.Header().Add("Sec-WebSocket-Protocol", "chat")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	opts := s.dialOptions(s.h2Transport())
	opts.Subprotocols = []string{"chat"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, "wss"+strings.TrimPrefix(s.URL, "https"), opts)
	if err == nil {
		c.CloseNow()
		t.Fatal("Dial accepted two Sec-WebSocket-Protocol fields")
	}
	if !strings.Contains(err.Error(), "appears more than once") {
		t.Fatalf("Dial: %v; want it to name the repeated field", err)
	}
}

// TestHTTP2WithoutExtendedConnect runs a server in a child process whose
// net/http does not offer extended CONNECT (GODEBUG=http2xconnect=0, which
// package xconnect leaves alone): Dial over HTTP/2 falls back to HTTP/1.1,
// and an HTTP/2 GET to the endpoint hears how to turn it on.
func TestHTTP2WithoutExtendedConnect(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHTTP2ChildServer$")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=0", "DUPLEX_TEST_H2_CHILD=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "addr="); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
	}
	if a == "" {
		t.Fatal("the child server did not start")
	}
	insecure := &tls.Config{InsecureSkipVerify: true}
	tr := &http.Transport{TLSClientConfig: insecure, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()

	c, resp := dialH2(t, "wss://"+a+"/", &DialOptions{HTTP2: tr, TLSConfig: insecure})
	if resp.Proto != "HTTP/1.1" {
		t.Fatalf("Dial came over %s; want a fall back to HTTP/1.1", resp.Proto)
	}
	ctx := context.Background()
	if err := c.Write(ctx, MessageText, []byte("fell back")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "fell back" {
		t.Fatalf("echo: %q, %v", p, err)
	}

	res, err := (&http.Client{Transport: tr}).Get("https://" + a + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(body), "GODEBUG=http2xconnect=1") {
		t.Errorf("HTTP/2 GET: %s %d %q; want 405 saying how to turn extended CONNECT on", res.Proto, res.StatusCode, body)
	}
}

// TestHTTP2ChildServer is the server of TestHTTP2WithoutExtendedConnect,
// run in a child process; it serves until its stdin ends.
func TestHTTP2ChildServer(t *testing.T) {
	if os.Getenv("DUPLEX_TEST_H2_CHILD") != "1" {
		t.Skip("run by TestHTTP2WithoutExtendedConnect")
	}
	srv := httptest.NewUnstartedServer(echoHandler(t, nil))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	fmt.Printf("addr=%s\n", srv.Listener.Addr())
	io.Copy(io.Discard, os.Stdin)
}

// TestHTTP2KeepAliveAndShutdown checks that keep-alive pings flow on a
// stream and that Server.Shutdown closes HTTP/2 WebSockets with 1001.
func TestHTTP2KeepAliveAndShutdown(t *testing.T) {
	t.Parallel()
	accepted := make(chan *Conn, 1)
	pongs := make(chan struct{}, 100)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Pings every 20 ms; a pong may take longer than that on a
		// loaded machine under the race detector, which is no failure:
		// the test counts the pongs instead.
		c, err := Accept(w, r, &AcceptOptions{
			PingInterval: 20 * time.Millisecond,
			PingTimeout:  5 * time.Second,
			OnPong: func([]byte) {
				select {
				case pongs <- struct{}{}:
				default:
				}
			},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		accepted <- c
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	ws := NewServer(srv.Config)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	s := &h2Server{Server: srv}
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	c, resp := dialH2(t, "wss"+strings.TrimPrefix(srv.URL, "https"), s.dialOptions(tr))
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("dialled over %s", resp.Proto)
	}
	<-accepted
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		readErr <- err
	}()
	// Several keep-alive rounds, each answered.
	for range 5 {
		select {
		case <-pongs:
		case err := <-readErr:
			t.Fatalf("the connection ended during keep-alive: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no pong to the server's keep-alive ping within 10 s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ws.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	var ce *CloseError
	if err := <-readErr; !errors.As(err, &ce) || ce.Code != StatusGoingAway {
		t.Fatalf("client read after Shutdown: %v; want 1001", err)
	}
}

// TestHTTP2CloseNowEndsBlockedWrite checks that CloseNow ends a server's
// write that waits for flow control on a client that does not read.
func TestHTTP2CloseNowEndsBlockedWrite(t *testing.T) {
	t.Parallel()
	writeErr := make(chan error, 1)
	s := startH2(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		time.AfterFunc(500*time.Millisecond, func() { c.CloseNow() })
		msg := make([]byte, 64<<10)
		for {
			if err := c.Write(context.Background(), MessageBinary, msg); err != nil {
				writeErr <- err
				return
			}
		}
	}))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	dialH2(t, "wss"+strings.TrimPrefix(s.URL, "https"), s.dialOptions(tr))
	select {
	case err := <-writeErr:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("write after CloseNow: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write blocked on flow control outlived CloseNow")
	}
}

// TestHTTP2Stream2GiB streams one 2 GiB message through [Conn.Writer] on an
// HTTP/2 WebSocket (h2c, so that TLS does not dominate) and reads it through
// [Conn.Reader]: the server answers with the size and CRC-32C it read, and
// its heap stays bounded, as over HTTP/1.1 (TestStream2GiB).
func TestHTTP2Stream2GiB(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("2 GiB transfer: skipped with -short and -race")
	}
	const size = 2 << 30
	table := crc32.MakeTable(crc32.Castagnoli)
	var peak uint64
	s := startH2(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(-1)
		ctx := r.Context()
		typ, mr, err := c.Reader(ctx)
		if err != nil || typ != MessageBinary {
			c.Close(StatusInternalError, fmt.Sprintf("Reader: %v %v", typ, err))
			return
		}
		sum := crc32.New(table)
		n, err := io.Copy(io.MultiWriter(sum, &heapWatch{peak: &peak}), mr)
		if err != nil {
			c.Close(StatusInternalError, err.Error())
			return
		}
		c.Write(ctx, MessageText, fmt.Appendf(nil, "%d %08x", n, sum.Sum32()))
		c.Read(ctx) // until the client closes
	}))
	c, _ := dialH2(t, s.wsURL(), s.dialOptions(s.h2Transport()))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w, err := c.Writer(ctx, MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	sum := crc32.New(table)
	if n, err := io.Copy(w, io.TeeReader(io.LimitReader(&patternReader{}, size), sum)); err != nil || n != size {
		t.Fatalf("sent %d bytes: %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if want := fmt.Sprintf("%d %08x", int64(size), sum.Sum32()); string(got) != want {
		t.Fatalf("server read %q, want %q", got, want)
	}
	c.Close(StatusNormalClosure, "")
	if peak > 64<<20 {
		t.Fatalf("heap peaked at %d MiB while streaming 2 GiB over HTTP/2", peak>>20)
	}
	t.Logf("2 GiB streamed over HTTP/2; heap peaked at %.1f MiB", float64(peak)/(1<<20))
}
