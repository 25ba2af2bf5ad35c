package main

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/peer"
)

func TestConnectScriptedAgainstServe(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--subprotocols", "chat,superchat")
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantStdout string
		wantStderr string
	}{
		{"lines echoed in order", nil, "one\ntwo\n\nthree", "one\ntwo\n\nthree\n", "subprotocol: none"},
		{"CRLF lines", nil, "a\r\nb\r\n", "a\nb\n", ""},
		{"no input", nil, "", "", ""},
		{"not UTF-8 goes binary, printed hex", nil, "\xff\x00ab\n", "ff006162\n", ""},
		{"binary as base64", []string{"--binary-as", "base64"}, "\xfehi\n", "/mhp\n", ""},
		{"subprotocol offered", []string{"--subprotocol", "x,superchat", "--subprotocol", "chat"}, "p\n", "p\n", "subprotocol: superchat"},
		{"without compression", []string{"--no-deflate"}, "z\n", "z\n", "extensions: none"},
		{"headers and origin", []string{"-H", "X-Test: 1", "--header", "X-Other: 2", "--origin", "http://" + strings.TrimPrefix(s.url, "http://")}, "h\n", "h\n", ""},
		{"big line", nil, strings.Repeat("x", 200_000) + "\n", strings.Repeat("x", 200_000) + "\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"connect"}, tc.args...)
			r := runDuplex(t, tc.stdin, append(args, s.ws("/echo"))...)
			if r.code != 0 || r.stdout != tc.wantStdout || !strings.Contains(r.stderr, tc.wantStderr) {
				t.Fatalf("exit %d\nstdout %.200q, want %.200q\nstderr %q, want it to contain %q", r.code, r.stdout, tc.wantStdout, r.stderr, tc.wantStderr)
			}
		})
	}
}

func TestConnectDeflateWithServe(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	in := strings.Repeat("compress me please ", 50) + "\nshort\n"
	r := runDuplex(t, in, "connect", s.ws("/echo"))
	if r.code != 0 || r.stdout != in {
		t.Fatalf("exit %d, stdout %.100q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "extensions: permessage-deflate") {
		t.Errorf("permessage-deflate not negotiated with duplex serve: %q", r.stderr)
	}
}

func TestConnectFailures(t *testing.T) {
	// A port nobody listens on: bind one, close it, dial it.
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	url := s.ws("/echo")
	s.stop(t, 15, 10*time.Second) // SIGTERM
	r := runDuplex(t, "", "connect", url)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("connect to a closed port: exit %d, stderr %q; want 1 and one line", r.code, r.stderr)
	}

	s = startServer(t, "serve", "--addr", "127.0.0.1:0")
	r = runDuplex(t, "", "connect", s.ws("/nothing-here"))
	if r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Fatalf("connect to a 404: exit %d, stderr %q; want 1 and the status", r.code, r.stderr)
	}
}

const pythonEchoServer = `
import asyncio, sys
import websockets

async def echo(ws, *args):
    async for msg in ws:
        await ws.send(msg)

async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, subprotocols=["py"]) as server:
        port = server.sockets[0].getsockname()[1]
        print("ws://127.0.0.1:%d/" % port, flush=True)
        await asyncio.Future()

asyncio.run(main())
`

func TestConnectAgainstPythonWebsockets(t *testing.T) {
	p := peer.StartPython(t, peer.Script{Source: pythonEchoServer, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url, err := p.Line(ctx)
	if err != nil {
		t.Fatalf("python echo server: %v", err)
	}
	in := "hello python\n" + strings.Repeat("deflate ", 100) + "\n\xc3\x28\n"
	want := "hello python\n" + strings.Repeat("deflate ", 100) + "\nc328\n"
	r := runDuplex(t, in, "connect", "--subprotocol", "py", url)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d\nstdout %.120q\nwant   %.120q\nstderr %q", r.code, r.stdout, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "subprotocol: py") {
		t.Errorf("subprotocol not negotiated with websockets: %q", r.stderr)
	}
}

// connectProxy is an HTTP proxy that only tunnels (CONNECT), counting tunnels.
type connectProxy struct{ tunnels atomic.Int32 }

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer up.Close()
	down, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer down.Close()
	p.tunnels.Add(1)
	io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n")
	go io.Copy(up, brw)
	io.Copy(down, up)
}

func TestConnectThroughProxyWithHeaders(t *testing.T) {
	// exec shows what the server received: the header and the Origin.
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--insecure-origin", "--",
		"sh", "-c", `echo "$HTTP_X_TEST|$HTTP_ORIGIN"; cat`)
	proxy := &connectProxy{}
	ps := httptest.NewServer(proxy)
	defer ps.Close()
	r := runDuplex(t, "through\n", "connect", "--proxy", ps.URL, "-H", "X-Test: yes", "--origin", "https://elsewhere.example", s.ws("/"))
	if r.code != 0 || r.stdout != "yes|https://elsewhere.example\nthrough\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if proxy.tunnels.Load() != 1 {
		t.Errorf("%d tunnels through the proxy, want 1", proxy.tunnels.Load())
	}
}

// rawHandshakeServer answers every handshake with a 101 whose headers the
// test chooses; accept says whether Sec-WebSocket-Accept is the right one.
func rawHandshakeServer(t *testing.T, accept bool, headers string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		if !accept {
			key = "not the key"
		}
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer nc.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" + headers + "\r\n")
		brw.Flush()
		io.Copy(io.Discard, nc)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// htmlServer refuses every handshake with 403 and body, as HTML when it
// starts with '<'.
func htmlServer(t *testing.T, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestConnectWithoutScheme checks that HOST:PORT/PATH connects as ws://.
func TestConnectWithoutScheme(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	r := runDuplex(t, "hi\n", "connect", strings.TrimPrefix(s.url, "http://")+"/echo")
	if r.code != 0 || r.stdout != "hi\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestConnectSaysWhyTheHandshakeFailed checks that a refused handshake
// shows the server's reason, and a 101 answer that does not fit the request
// says what is wrong with it, each on one line.
func TestConnectSaysWhyTheHandshakeFailed(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"origin refused", []string{"--origin", "http://evil.example", s.ws("/echo")},
			[]string{"handshake refused: HTTP 403 Forbidden: ", "evil.example", "--origin evil.example", "--insecure-origin"}},
		{"HTML page", []string{htmlServer(t, "<!DOCTYPE html>\n<html><head><style>p{}</style>\n<title>\n  Access &amp; denied\n</title></head>\n<body><p>long</p>\n<p>page</p></body></html>")},
			[]string{"handshake refused: HTTP 403 Forbidden: Access & denied"}},
		{"HTML page without title", []string{htmlServer(t, "<html><head><script>var x;</script></head><body>\n<h1>Go away</h1><p>second line</p></body></html>")},
			[]string{"handshake refused: HTTP 403 Forbidden: Go away"}},
		{"text over several lines", []string{htmlServer(t, "first line\nsecond line\n")},
			[]string{"handshake refused: HTTP 403 Forbidden: first line"}},
		{"wrong accept key", []string{rawHandshakeServer(t, false, "")},
			[]string{"bad handshake answer: ", "Sec-WebSocket-Accept"}},
		{"subprotocol never offered", []string{"--subprotocol", "chat", rawHandshakeServer(t, true, "Sec-WebSocket-Protocol: other\r\n")},
			[]string{"bad handshake answer: ", `subprotocol "other"`}},
		{"extension never offered", []string{"--no-deflate", rawHandshakeServer(t, true, "Sec-WebSocket-Extensions: permessage-deflate\r\n")},
			[]string{"bad handshake answer: ", "permessage-deflate", "offered"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runDuplex(t, "", append([]string{"connect"}, tc.args...)...)
			line := strings.TrimSpace(r.stderr)
			if r.code != 1 || strings.Contains(line, "\n") || strings.Contains(line, "101 Switching Protocols") {
				t.Fatalf("exit %d, stderr %q; want 1 and one line that does not blame a 101 answer for being one", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q lacks %q", line, w)
				}
			}
			for _, no := range []string{"second line", "long", "var x", "p{}", "OriginPatterns", "<"} {
				if strings.Contains(line, no) {
					t.Errorf("stderr %q shows %q", line, no)
				}
			}
		})
	}
}
