package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"
	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// startHAProxyH2 starts haproxy with testdata/proxy/haproxy-h2.cfg, the
// HTTPS and HTTP/2 front of the server at upstream, with a self-signed
// certificate for 127.0.0.1, which it returns.
func startHAProxyH2(t *testing.T, path, upstream string) (*proxyProc, *x509.Certificate) {
	t.Helper()
	p := &proxyProc{kind: peer.HAProxy, path: path, dir: t.TempDir(), addr: freeAddr(t)}
	cert, err := selfSignedCert(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(p.dir, "duplex.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
	if err := os.WriteFile(pemFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	copyConfig(t, "haproxy-test.cfg", p.dir, nil)
	copyConfig(t, "haproxy-h2.cfg", p.dir, map[string]string{
		"bind :443 ssl crt /etc/haproxy/duplex.pem": "bind " + p.addr + " ssl crt " + pemFile,
		"server duplex 127.0.0.1:8080":              "server duplex " + upstream,
	})
	p.args = []string{"-db", "-f", "haproxy-test.cfg", "-f", "haproxy-h2.cfg"}
	p.run(t)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return p, leaf
}

// TestHTTP2ThroughHAProxy puts haproxy, as configured in
// testdata/proxy/haproxy-h2.cfg, in front of duplex serve as its HTTPS and
// HTTP/2 front: Duplex's client and headless Chromium open WebSockets to
// haproxy as HTTP/2 extended CONNECT streams (RFC 8441), which haproxy
// passes on to duplex serve as HTTP/1.1 upgrades. Chromium loads the chat
// page first, over HTTP/2, and its WebSockets share that connection.
func TestHTTP2ThroughHAProxy(t *testing.T) {
	t.Parallel()
	path := peer.Require(t, peer.HAProxy).Path
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--subprotocols", "chat.v1")
	p, cert := startHAProxyH2(t, path, strings.TrimPrefix(s.url, "http://"))
	url := "wss://" + p.addr + "/echo"

	t.Run("Duplex", func(t *testing.T) {
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
			TLSConfig:   &tls.Config{RootCAs: roots},
			HTTP2:       &http.Transport{},
			Compression: &websocket.CompressionOptions{},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if resp.Proto != "HTTP/2.0" {
			t.Fatalf("the WebSocket came over %s, want HTTP/2.0: haproxy does not offer extended CONNECT", resp.Proto)
		}
		if !strings.HasPrefix(c.Extensions(), "permessage-deflate") {
			t.Errorf("extensions %q over HTTP/2 through haproxy, want permessage-deflate", c.Extensions())
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("over h2")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "over h2" {
			t.Fatalf("echo %q, %v", got, err)
		}
		if err := c.Close(4001, "bye"); err != nil {
			t.Fatalf("closing handshake over HTTP/2 through haproxy: %v", err)
		}
	})

	t.Run("Chromium", func(t *testing.T) {
		ctx := peer.Browser(t, 2*time.Minute)
		if _, err := chromedp.Call(ctx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Navigate("https://"+p.addr+"/")); err != nil {
			t.Fatalf("loading the page: %v", err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](h2Script, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("the page's script: %v", err)
		}
		checkH2Page(t, out)
		expectH2Sockets(t, p)
		waitForLog(t, s, "echo connection", "proto=HTTP/1.1")
	})

	// Firefox runs no script it is handed from outside: the page runs
	// h2Script itself and posts what it found back. duplex serve has no
	// such page, so a second haproxy fronts a server of the test's, which
	// serves the page, the report and an echo built on the library as
	// duplex serve's is.
	t.Run("Firefox", func(t *testing.T) {
		peer.Require(t, peer.Firefox)
		report := make(chan string, 1)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>h2</title><script>\n"+
				"const send = body => fetch('/report', {method: 'POST', body});\n"+h2Script+
				".then(send, e => send(JSON.stringify({error: String(e)})));\n</script>")
		})
		mux.HandleFunc("GET /favicon.ico", http.NotFound)
		mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			select {
			case report <- string(b):
			default:
			}
		})
		opts := &websocket.AcceptOptions{Subprotocols: []string{"chat.v1"}, Compression: &websocket.CompressionOptions{}}
		mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := context.Background()
			for {
				typ, p, err := c.Read(ctx)
				if err != nil || c.Write(ctx, typ, p) != nil {
					return
				}
			}
		})
		backend := httptest.NewServer(mux)
		t.Cleanup(backend.Close)
		fp, fcert := startHAProxyH2(t, path, strings.TrimPrefix(backend.URL, "http://"))
		peer.OpenPage(t, peer.Firefox, "https://"+fp.addr+"/", fcert.Raw, 2*time.Minute)
		select {
		case out := <-report:
			checkH2Page(t, out)
		case <-time.After(90 * time.Second):
			t.Fatalf("the page reported nothing within 90 s; haproxy's log:\n%s", fp.output())
		}
		expectH2Sockets(t, fp)
	})
}

// checkH2Page checks what h2Script returned in a browser.
func checkH2Page(t *testing.T, out string) {
	t.Helper()
	var r struct {
		Error, Protocol, Extensions string
		Echoes, Big                 bool
		Close                       struct {
			Code     int
			WasClean bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the page said %q: %v", out, err)
	}
	if r.Error != "" {
		t.Fatalf("the page's script failed: %s", r.Error)
	}
	if r.Protocol != "chat.v1" || !strings.HasPrefix(r.Extensions, "permessage-deflate") {
		t.Errorf("subprotocol %q, extensions %q; want chat.v1 and permessage-deflate", r.Protocol, r.Extensions)
	}
	if !r.Echoes || !r.Big {
		t.Errorf("echoes of 5 sockets %v, of 4 MiB %v", r.Echoes, r.Big)
	}
	if r.Close.Code != 4001 || !r.Close.WasClean {
		t.Errorf("the page's close 4001: it saw %+v", r.Close)
	}
}

// expectH2Sockets waits until haproxy's log shows a page loaded over
// HTTP/2 and 5 WebSockets answered 101 on the page's connection.
func expectH2Sockets(t *testing.T, p *proxyProc) {
	t.Helper()
	// haproxy logs each request as it came, after the client's address
	// and port: the page and its WebSockets over one HTTP/2
	// connection, each WebSocket answered 101 by the server behind,
	// which saw HTTP/1.1.
	page := `"GET https://` + p.addr + `/ HTTP/2.0"`
	echo := `"GET https://` + p.addr + `/echo HTTP/2.0"`
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs := p.output()
		var from string // the page's connection
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, page) {
				from, _, _ = strings.Cut(l, " ")
			}
		}
		sockets := 0
		for _, l := range strings.Split(logs, "\n") {
			if strings.HasPrefix(l, from+" ") && strings.Contains(l, echo) && strings.Contains(l, " 101 ") {
				sockets++
			}
		}
		if from != "" && sockets >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy's log does not show the page and 5 WebSockets on its HTTP/2 connection (%d):\n%s", sockets, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// h2Script runs in the page: 5 WebSockets to /echo at once, an echo on
// each, a 4 MiB binary echo, and a close with 4001.
const h2Script = `(async () => {
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket("wss://" + location.host + "/echo", ["chat.v1"]);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("a WebSocket failed to open"));
  });
  const next = ws => new Promise(res => ws.addEventListener("message", e => res(e.data), {once: true}));
  const closed = ws => new Promise(res => ws.addEventListener("close", e => res({code: e.code, wasClean: e.wasClean}), {once: true}));
  const r = {};
  const socks = await Promise.all([0, 1, 2, 3, 4].map(open));
  r.protocol = socks[0].protocol;
  r.extensions = socks[0].extensions;
  const echoes = await Promise.all(socks.map((ws, i) => { const p = next(ws); ws.send("hello " + i); return p; }));
  r.echoes = echoes.every((d, i) => d === "hello " + i);
  const big = new Uint8Array(4 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 255;
  const pb = next(socks[0]);
  socks[0].send(big);
  const back = new Uint8Array(await pb);
  r.big = back.length === big.length && back.every((b, i) => b === big[i]);
  const c = closed(socks[0]);
  socks[0].close(4001, "bye");
  r.close = await c;
  await Promise.all(socks.slice(1).map(ws => { const c = closed(ws); ws.close(); return c; }));
  return JSON.stringify(r);
})()`
