package legacy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
)

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestDialEcho(t *testing.T) {
	t.Parallel()
	srv, errs := acceptServer(t, nil)
	ctx := testContext(t)
	c, err := Dial(ctx, wsURL(srv)+"/echo?room=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"hello", "", "grüße 🌍", strings.Repeat("x", 200_000)} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(p) != msg {
			t.Fatalf("echo of %d bytes: got %d bytes, %v", len(msg), len(p), err)
		}
	}
	if c.LocalAddr() == nil || c.RemoteAddr().String() != srv.Listener.Addr().String() {
		t.Errorf("addresses %v → %v, want the server's %v", c.LocalAddr(), c.RemoteAddr(), srv.Listener.Addr())
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestClosingHandshakeBetweenOurEnds(t *testing.T) {
	t.Parallel()
	serverErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			serverErr <- err
			return
		}
		_, _, err = c.Read(context.Background())
		serverErr <- err
	}))
	defer srv.Close()
	ctx := testContext(t)
	c, err := Dial(ctx, wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("client Close: %v", err)
	}
	err = <-serverErr
	if !errors.Is(err, websocket.ErrClosed) || websocket.CloseStatus(err) != websocket.StatusNoStatusRcvd {
		t.Fatalf("server Read: %v, want ErrClosed with status 1005", err)
	}
}

func TestDialSubprotocol(t *testing.T) {
	t.Parallel()
	srv, _ := acceptServer(t, &AcceptOptions{Subprotocols: []string{"chat", "superchat"}})
	ctx := testContext(t)
	c, err := Dial(ctx, wsURL(srv), &DialOptions{Subprotocol: "superchat"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "superchat" {
		t.Fatalf("Subprotocol() = %q, want superchat", c.Subprotocol())
	}
	_, err = Dial(ctx, wsURL(srv), &DialOptions{Subprotocol: "mqtt"})
	if !errors.Is(err, websocket.ErrBadHandshake) || !strings.Contains(err.Error(), "Sec-WebSocket-Protocol") {
		t.Fatalf("Dial with a subprotocol the server lacks: %v", err)
	}
}

func TestDialOptionsReachTheServer(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		c, err := Accept(w, r, &AcceptOptions{
			OriginPatterns: []string{"app.example"},
			ResponseHeader: http.Header{"X-Served-By": {"legacy"}},
		})
		if err == nil {
			c.CloseNow()
		}
	}))
	defer srv.Close()
	c, err := Dial(testContext(t), wsURL(srv)+"/path", &DialOptions{
		Origin:     "https://app.example",
		HTTPHeader: http.Header{"Cookie": {"a=b"}, "Origin": {"ignored"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	r := <-got
	if r.Header.Get("Origin") != "https://app.example" || r.Header.Get("Cookie") != "a=b" || r.URL.Path != "/path" {
		t.Fatalf("server saw Origin %q, Cookie %q, path %q", r.Header.Get("Origin"), r.Header.Get("Cookie"), r.URL.Path)
	}
}

func TestAcceptOverTLSAnswersWSS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}))
	defer srv.Close()
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	ctx := testContext(t)
	// Dial checks that Sec-WebSocket-Location is wss://host/tls.
	c, err := Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/tls", &DialOptions{TLSConfig: tlsConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("secure")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "secure" {
		t.Fatalf("Read = %q, %v", p, err)
	}
}

// fakeServer answers every handshake with answer(request) and hangs up.
func fakeServer(t *testing.T, answer func(req *http.Request) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				io.ReadFull(br, make([]byte, 8))
				io.WriteString(nc, answer(req))
			}()
		}
	}()
	return "ws://" + ln.Addr().String()
}

func TestDialRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	goodHeaders := func(req *http.Request) string {
		return "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Origin: " + req.Header.Get("Origin") + "\r\n" +
			"Sec-WebSocket-Location: ws://" + req.Host + req.RequestURI + "\r\n"
	}
	for _, tt := range []struct {
		name   string
		answer func(req *http.Request) string
		want   string
	}{
		{"wrong answer bytes", func(req *http.Request) string {
			return goodHeaders(req) + "\r\n" + "0123456789abcdef"
		}, "does not match"},
		{"short answer", func(req *http.Request) string {
			return goodHeaders(req) + "\r\n" + "0123"
		}, "16-byte answer"},
		{"wrong location", func(req *http.Request) string {
			return strings.Replace(goodHeaders(req), "ws://", "ws://elsewhere.example", 1) + "\r\n" + "0123456789abcdef"
		}, "Sec-WebSocket-Location"},
		{"wrong origin", func(req *http.Request) string {
			return strings.Replace(goodHeaders(req), "Origin: http", "Origin: https", 1) + "\r\n" + "0123456789abcdef"
		}, "Sec-WebSocket-Origin"},
		{"unasked subprotocol", func(req *http.Request) string {
			return goodHeaders(req) + "Sec-WebSocket-Protocol: chat\r\n\r\n" + "0123456789abcdef"
		}, "Sec-WebSocket-Protocol"},
		{"not 101", func(req *http.Request) string {
			return "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
		}, "426"},
		{"RFC 6455 answer", func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
		}, "Sec-WebSocket-Origin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := fakeServer(t, tt.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := Dial(ctx, url+"/x", nil)
			if !errors.Is(err, websocket.ErrBadHandshake) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Dial: %v, want ErrBadHandshake mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDialContextBoundsTheHandshake(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			defer nc.Close()
			io.Copy(io.Discard, nc) // never answers
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Dial(ctx, "ws://"+ln.Addr().String(), nil); err == nil {
		t.Fatal("Dial succeeded against a silent server")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Dial gave up after %v, want about 100ms", d)
	}
}

func TestDialRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"ftp://example.com", "ws://", "ws://example.com/#frag", "://bad"} {
		if _, err := Dial(context.Background(), u, nil); err == nil {
			t.Errorf("Dial(%q) succeeded", u)
		}
	}
}
