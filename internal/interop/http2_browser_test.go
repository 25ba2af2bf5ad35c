package interop_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
	_ "github.com/duplexws/websocket/xconnect" // the server offers extended CONNECT
)

// h2Page runs the whole HTTP/2 check in the browser and posts what it saw
// to /report: 100 sockets at once, text, binary, a 16 MiB message, a
// subprotocol, permessage-deflate, and close codes both ways.
const h2Page = `<!doctype html>
<meta charset="utf-8">
<title>Duplex over HTTP/2</title>
<script>
"use strict";
function connect(path, protocols) {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket("wss://" + location.host + path, protocols) : new WebSocket("wss://" + location.host + path);
    ws.binaryType = "arraybuffer";
    ws.inbox = [];
    ws.waiters = [];
    ws.closed = new Promise(done => ws.addEventListener("close", e => done({code: e.code, reason: e.reason, wasClean: e.wasClean})));
    ws.onmessage = e => { const w = ws.waiters.shift(); if (w) w(e.data); else ws.inbox.push(e.data); };
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket to " + path + " failed before open"));
  });
}
function recv(ws) {
  if (ws.inbox.length) return Promise.resolve(ws.inbox.shift());
  return new Promise(resolve => ws.waiters.push(resolve));
}
function pattern(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 11)) & 255;
  return b;
}
function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
async function run() {
  const r = {};
  const socks = await Promise.all(Array.from({length: 100}, () => connect("/echo")));
  const echoes = await Promise.all(socks.map((ws, i) => { ws.send("hello " + i); return recv(ws); }));
  r.hundred = echoes.every((d, i) => d === "hello " + i);
  for (const ws of socks) ws.close(1000);
  await Promise.all(socks.map(ws => ws.closed));

  const ws = await connect("/echo", ["nope", "chat"]);
  r.protocol = ws.protocol;
  r.extensions = ws.extensions;
  ws.send("text é ✓");
  r.text = (await recv(ws)) === "text é ✓";
  ws.send(new Uint8Array([0, 1, 2, 255]));
  r.binary = same(new Uint8Array(await recv(ws)), new Uint8Array([0, 1, 2, 255]));
  const big = pattern(16 << 20);
  ws.send(big);
  r.big = same(new Uint8Array(await recv(ws)), big);
  ws.close(1000, "done");
  r.echoClose = await ws.closed;

  const byClient = await connect("/close-wait");
  byClient.close(4001, "client bye");
  r.clientClose = await byClient.closed;
  const byServer = await connect("/close-now");
  r.serverClose = await byServer.closed;
  return r;
}
run().catch(e => ({error: String(e)})).then(r =>
  fetch("/report", {method: "POST", body: JSON.stringify(r)}));
</script>
`

type h2Report struct {
	Error       string
	Hundred     bool
	Protocol    string
	Extensions  string
	Text        bool
	Binary      bool
	Big         bool
	EchoClose   browserClose
	ClientClose browserClose
	ServerClose browserClose
}

type browserClose struct {
	Code     int
	Reason   string
	WasClean bool
}

// connKey holds, in a request's context, the TCP connection it came over.
type connKey struct{}

// TestBrowsersOverHTTP2 loads a page over https from a Duplex server and
// opens its WebSockets in Chromium and Firefox, checking that they came as
// HTTP/2 extended CONNECT streams of the page's own connection.
func TestBrowsersOverHTTP2(t *testing.T) {
	for _, b := range []peer.Peer{peer.Chromium, peer.Firefox} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			testBrowserOverHTTP2(t, b)
		})
	}
}

func testBrowserOverHTTP2(t *testing.T, browser peer.Peer) {
	var mu sync.Mutex
	conns := map[net.Conn]int{} // WebSockets per TCP connection
	protos := map[string]int{}  // WebSockets per protocol and method
	seen := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		conns[r.Context().Value(connKey{}).(net.Conn)]++
		protos[r.Proto+" "+r.Method]++
	}
	clientClose := make(chan error, 1)
	report := make(chan h2Report, 1)
	opts := &websocket.AcceptOptions{Subprotocols: []string{"chat"}, Compression: &websocket.CompressionOptions{}}

	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, h2Page)
	})
	mux.HandleFunc("/favicon.ico", http.NotFound)
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		seen(r)
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/close-wait", func(w http.ResponseWriter, r *http.Request) {
		seen(r)
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, err = c.Read(context.Background())
		clientClose <- err
	})
	mux.HandleFunc("/close-now", func(w http.ResponseWriter, r *http.Request) {
		seen(r)
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		c.Close(4002, "server bye")
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep h2Report
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			rep.Error = "bad report: " + err.Error()
		}
		report <- rep
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 1000}
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	peer.OpenPage(t, browser, srv.URL+"/", srv.Certificate().Raw, 2*time.Minute)
	var rep h2Report
	select {
	case rep = <-report:
	case <-time.After(90 * time.Second):
		t.Fatal("the page reported nothing within 90 s")
	}
	if rep.Error != "" {
		t.Fatalf("the page failed: %s", rep.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(protos) != 1 || protos["HTTP/2.0 CONNECT"] != 103 {
		t.Errorf("the server saw WebSockets as %v; want 103 HTTP/2 extended CONNECTs", protos)
	}
	if len(conns) != 1 {
		t.Errorf("the WebSockets came over %d TCP connections; want 1", len(conns))
	}
	if !rep.Hundred || !rep.Text || !rep.Binary || !rep.Big {
		t.Errorf("round trips: 100 sockets %v, text %v, binary %v, 16 MiB %v", rep.Hundred, rep.Text, rep.Binary, rep.Big)
	}
	if rep.Protocol != "chat" || rep.Extensions == "" {
		t.Errorf("subprotocol %q, extensions %q; want chat and permessage-deflate", rep.Protocol, rep.Extensions)
	}
	if c := rep.EchoClose; c.Code != 1000 || !c.WasClean {
		t.Errorf("closing with 1000: the browser saw %+v", c)
	}
	if c := rep.ServerClose; c.Code != 4002 || c.Reason != "server bye" || !c.WasClean {
		t.Errorf("the server's close 4002: the browser saw %+v", c)
	}
	if c := rep.ClientClose; c.Code != 4001 || !c.WasClean {
		t.Errorf("the browser's close 4001: it saw %+v", c)
	}
	var ce *websocket.CloseError
	if err := <-clientClose; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "client bye" {
		t.Errorf("the browser's close 4001 \"client bye\": the server read %v", err)
	}
}
