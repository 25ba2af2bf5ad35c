package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/legacy"
)

func dial(t *testing.T, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestServeEchoKeepsTypeAndStreamsBigMessages(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--read-limit", "64M")
	c := dial(t, s.ws("/echo"), &websocket.DialOptions{ReadLimit: 64 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16+7) // 3 MiB and a bit
	msgs := []struct {
		typ websocket.MessageType
		p   []byte
	}{
		{websocket.MessageText, []byte("hello")},
		{websocket.MessageBinary, []byte{0, 1, 2, 0xff}},
		{websocket.MessageText, nil},
		{websocket.MessageBinary, big},
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, m.p); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != m.typ || !bytes.Equal(p, m.p) {
			t.Fatalf("echo of a %v message of %d bytes came back as %v of %d bytes", m.typ, len(m.p), typ, len(p))
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("closing handshake: %v", err)
	}
}

func TestServeNegotiatesSubprotocol(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--subprotocols", "chat,superchat")
	c := dial(t, s.ws("/echo"), &websocket.DialOptions{Subprotocols: []string{"other", "superchat", "chat"}})
	if got := c.Subprotocol(); got != "superchat" {
		t.Fatalf("subprotocol %q, want superchat (the first the client offered that the server speaks)", got)
	}
}

func TestServeRefusesOversizeHandshake(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	req, err := http.NewRequest("GET", s.url+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KiB of headers: status %d, want 431", resp.StatusCode)
	}
	// The server goes on serving.
	dial(t, s.ws("/echo"), nil).CloseNow()
}

func TestServeGracefulShutdownSends1001(t *testing.T) {
	// With the engine, the engine closes its connections (the server keeps
	// nothing of them); without, the server closes each one it tracks.
	for _, mode := range []string{"--engine=true", "--engine=false"} {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, "serve", "--addr", "127.0.0.1:0", mode)
			var errs []chan error
			for range 3 {
				c := dial(t, s.ws("/echo"), nil)
				readErr := make(chan error, 1)
				go func() {
					_, _, err := c.Read(context.Background())
					readErr <- err
				}()
				errs = append(errs, readErr)
			}
			expectMetrics(t, s.url+"/metrics", "\nduplex_connections_open 3\n") // the server counts the connections it must close
			if code := s.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
				t.Fatalf("duplex serve exited with %d after SIGTERM, want 0", code)
			}
			for _, readErr := range errs {
				select {
				case err := <-readErr:
					if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
						t.Fatalf("client saw %v (code %d), want close 1001", err, got)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the client saw no close")
				}
			}
		})
	}
}

// TestServeAnnouncesOnce checks that serve says where it listens once, on
// stdout (which startServer reads), and not again in its log on stderr.
func TestServeAnnouncesOnce(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--log-format", format)
		s.stop(t, syscall.SIGTERM, 10*time.Second)
		if strings.Contains(s.logs(), "listening") {
			t.Errorf("--log-format %s: the log announces the address again: %q", format, s.logs())
		}
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--tls-self-signed")
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("URL %q is not https", s.url)
	}
	r := runDuplex(t, "over tls\n", "connect", "--insecure", s.ws("/echo"))
	if r.code != 0 || r.stdout != "over tls\n" {
		t.Fatalf("connect --insecure over wss: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runDuplex(t, "x\n", "connect", s.ws("/echo"))
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") || !strings.Contains(r.stderr, "--insecure") || !strings.Contains(r.stderr, "--cacert FILE") {
		t.Fatalf("connect without --insecure to a self-signed server: exit %d, stderr %q; want 1 and a certificate error naming --insecure and --cacert FILE", r.code, r.stderr)
	}
	// serve names the file of its certificate, which connect --cacert trusts.
	m := regexp.MustCompile(`self-signed certificate in (\S+) \(SHA-256 ([0-9A-F:]{95})\)`).FindStringSubmatch(s.logs())
	if m == nil {
		t.Fatalf("serve did not name its certificate's file and fingerprint: %q", s.logs())
	}
	r = runDuplex(t, "trusted\n", "connect", "--cacert", m[1], s.ws("/echo"))
	if r.code != 0 || r.stdout != "trusted\n" {
		t.Fatalf("connect --cacert %s: exit %d, stdout %q, stderr %q", m[1], r.code, r.stdout, r.stderr)
	}
	pemBytes, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if sum := sha256.Sum256(block.Bytes); !strings.EqualFold(strings.ReplaceAll(m[2], ":", ""), hex.EncodeToString(sum[:])) {
		t.Errorf("fingerprint %s is not the SHA-256 of the certificate in %s", m[2], m[1])
	}
	s.stop(t, syscall.SIGTERM, 10*time.Second)
	if _, err := os.Stat(m[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after serve exited: %v", m[1], err)
	}
}

func TestServeMaxConnsAnswers503(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--max-conns", "1")
	dial(t, s.ws("/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, s.ws("/echo"), nil)
	if err == nil {
		t.Fatal("a second connection was accepted with --max-conns 1")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second handshake: %v, response %v; want 503", err, resp)
	}
}

func TestServeIdleTimeoutCloses1001(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--idle-timeout", "300ms")
	c := dial(t, s.ws("/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Activity keeps it open past the timeout...
	for range 4 {
		time.Sleep(150 * time.Millisecond)
		if err := c.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatalf("closed while active: %v", err)
		}
	}
	// ...silence closes it.
	start := time.Now()
	_, _, err := c.Read(ctx)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "idle timeout" {
		t.Fatalf("idle connection ended with %v, want close 1001 idle timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("idle close took %v", d)
	}
}

func TestServeOriginCheck(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--origin", "*.example.com")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example.com", true},
		{"https://evil.example.org", false},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, s.ws("/echo"), &websocket.DialOptions{Origin: tc.origin})
		cancel()
		if tc.ok != (err == nil) {
			t.Errorf("origin %s: err %v, want accepted=%v", tc.origin, err, tc.ok)
		}
		if c != nil {
			c.CloseNow()
		}
		if !tc.ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %s: response %v, want 403", tc.origin, resp)
		}
	}
}

// TestServeOriginRefusalNamesFlags checks that every handshake serve and
// exec answer (RFC 6455, hybi-08 with its Sec-WebSocket-Origin, hixie-76,
// /chat, HTTP/2, exec's) refuses a foreign origin with a 403 whose reason
// names the flags that allow it, not the library's Go options.
func TestServeOriginRefusalNamesFlags(t *testing.T) {
	plain := startServer(t, "serve", "--addr", "127.0.0.1:0", "--legacy", "--origin", "*.example.com")
	tlsSrv := startServer(t, "serve", "--addr", "127.0.0.1:0", "--tls-self-signed", "--origin", "*.example.com")
	execSrv := startServer(t, "exec", "--addr", "127.0.0.1:0", "--origin", "*.example.com", "--", "cat")
	const evil = "https://evil.example.org"
	insecure := &tls.Config{InsecureSkipVerify: true}
	for _, tc := range []struct {
		name  string
		url   string
		opts  *websocket.DialOptions
		proto string
	}{
		{"RFC 6455", plain.ws("/echo"), &websocket.DialOptions{Origin: evil}, "HTTP/1.1"},
		{"hybi-08", plain.ws("/echo"), &websocket.DialOptions{Origin: evil, Version: 8}, "HTTP/1.1"},
		{"chat", plain.ws("/chat?room=a"), &websocket.DialOptions{Origin: evil}, "HTTP/1.1"},
		{"exec", execSrv.ws("/"), &websocket.DialOptions{Origin: evil}, "HTTP/1.1"},
		{"HTTP/2", tlsSrv.ws("/echo"), &websocket.DialOptions{Origin: evil, TLSConfig: insecure, HTTP2: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: insecure}}, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, tc.url, tc.opts)
			if err == nil {
				c.CloseNow()
				t.Fatal("a foreign origin connected")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden || resp.Proto != tc.proto {
				t.Fatalf("answer %v, %v; want 403 over %s", resp, err, tc.proto)
			}
			body, _ := io.ReadAll(resp.Body)
			checkOriginReason(t, string(body))
		})
	}
	if !eventually(func() bool { return strings.Contains(plain.logs(), `msg="chat join refused"`) }) {
		t.Errorf("serve does not log the refused chat join: %s", plain.logs())
	}
	t.Run("hixie-76", func(t *testing.T) {
		req, err := http.NewRequest("GET", plain.url+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = http.Header{"Upgrade": {"WebSocket"}, "Connection": {"Upgrade"}, "Origin": {evil},
			"Sec-Websocket-Key1": {"4 @1  46546xW%0l 1 5"}, "Sec-Websocket-Key2": {"12998 5 Y3 1  .P00"}}
		if !legacy.IsHixie76(req) {
			t.Fatal("the request is not hixie-76's")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("answer %s %q, want 403", resp.Status, body)
		}
		checkOriginReason(t, string(body))
	})
}

// checkOriginReason checks the reason of a refused origin.
func checkOriginReason(t *testing.T, body string) {
	t.Helper()
	for _, want := range []string{`the origin "https://evil.example.org" is not allowed`, "--origin evil.example.org", "--insecure-origin"} {
		if !strings.Contains(body, want) {
			t.Errorf("reason %q lacks %q", body, want)
		}
	}
	if strings.Contains(body, "OriginPatterns") {
		t.Errorf("reason %q names the library's option", body)
	}
}

func TestServeLegacyVersions(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--legacy")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c := dial(t, s.ws("/echo"), &websocket.DialOptions{Version: 8})
	if err := c.Write(ctx, websocket.MessageText, []byte("hybi-08")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "hybi-08" {
		t.Fatalf("hybi-08 echo: %q, %v", p, err)
	}

	lc, err := legacy.Dial(ctx, s.ws("/echo"), nil)
	if err != nil {
		t.Fatalf("hixie-76 handshake with --legacy: %v", err)
	}
	defer lc.CloseNow()
	if err := lc.Write(ctx, websocket.MessageText, []byte("hixie-76")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := lc.Read(ctx); err != nil || string(p) != "hixie-76" {
		t.Fatalf("hixie-76 echo: %q, %v", p, err)
	}

	plain := startServer(t, "serve", "--addr", "127.0.0.1:0")
	if c, err := legacy.Dial(ctx, plain.ws("/echo"), nil); err == nil {
		c.CloseNow()
		t.Fatal("hixie-76 was accepted without --legacy")
	}
}

func TestServeMetrics(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	c := dial(t, s.ws("/echo"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		c.Write(ctx, websocket.MessageText, []byte("abcd"))
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	expectMetrics(t, s.url+"/metrics",
		"\nduplex_connections_total{protocol=\"HTTP/1.1\"} 1\n", "\nduplex_connections_total{protocol=\"HTTP/2.0\"} 0\n",
		"\nduplex_echo_messages_total 3\n", "\nduplex_echo_bytes_total 12\n",
		"\nduplex_echo_connections_open 1\n", "# TYPE process_cpu_seconds_total counter\n")
}

// expectMetrics polls url until its body holds every one of wants, for at
// most 10 seconds: the counters of a message grow just after its echo is sent.
func expectMetrics(t *testing.T, url string, wants ...string) {
	t.Helper()
	var body []byte
	var missing []string
	// The servers with TLS have a self-signed certificate.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	if !eventually(func() bool {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		missing = missing[:0]
		for _, w := range wants {
			if !strings.Contains(string(body), w) {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0
	}) {
		t.Fatalf("%s lacks %q:\n%s", url, missing, body)
	}
}

// TestServeHTTP2 checks that serve with TLS serves WebSockets over HTTP/2
// with nothing set, that connect --http2 uses it, and that both say so.
func TestServeHTTP2(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--tls-self-signed")
	r := runDuplex(t, "over h2\n", "connect", "--insecure", "--http2", s.ws("/echo"))
	if r.code != 0 || r.stdout != "over h2\n" || !strings.Contains(r.stderr, "over HTTP/2.0") {
		t.Fatalf("connect --http2: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runDuplex(t, "over h1\n", "connect", "--insecure", s.ws("/echo"))
	if r.code != 0 || r.stdout != "over h1\n" || !strings.Contains(r.stderr, "over HTTP/1.1") {
		t.Fatalf("connect: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !eventually(func() bool {
		return strings.Contains(s.logs(), "proto=HTTP/2.0") && strings.Contains(s.logs(), "proto=HTTP/1.1")
	}) {
		t.Errorf("the log does not say which protocol each connection came over: %q", s.logs())
	}
	r = runDuplex(t, "again over h2\n", "connect", "--insecure", "--http2", s.ws("/echo"))
	if r.code != 0 || !strings.Contains(r.stderr, "over HTTP/2.0") {
		t.Fatalf("connect --http2: exit %d, stderr %q", r.code, r.stderr)
	}
	expectMetrics(t, s.url+"/metrics",
		"\nduplex_connections_total{protocol=\"HTTP/1.1\"} 1\n", "\nduplex_connections_total{protocol=\"HTTP/2.0\"} 2\n")
	s.stop(t, syscall.SIGTERM, 10*time.Second)

	// Without TLS there is no HTTP/2 to use: connect --http2 falls back.
	s = startServer(t, "serve", "--addr", "127.0.0.1:0")
	r = runDuplex(t, "plain\n", "connect", "--http2", s.ws("/echo"))
	if r.code != 0 || r.stdout != "plain\n" || !strings.Contains(r.stderr, "over HTTP/1.1") {
		t.Fatalf("connect --http2 to a plain server: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	s.stop(t, syscall.SIGTERM, 10*time.Second)
}
