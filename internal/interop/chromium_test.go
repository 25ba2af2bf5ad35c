package interop_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// page is served at / by the test server. Its helpers open a WebSocket to the
// same server and queue what it receives, so that the scripts the tests
// evaluate read like a conversation.
const page = `<!doctype html>
<meta charset="utf-8">
<title>Duplex interop</title>
<script>
"use strict";
// connect opens a WebSocket to path on this server (or to a full ws:// URL)
// and resolves when it is open.
function connect(path, protocols, binaryType) {
  return new Promise((resolve, reject) => {
    const url = path.startsWith("ws:") ? path : "ws://" + location.host + path;
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    ws.binaryType = binaryType || "arraybuffer";
    ws.inbox = [];
    ws.waiters = [];
    ws.closed = new Promise(done => ws.addEventListener("close",
      e => done({code: e.code, reason: e.reason, wasClean: e.wasClean})));
    ws.onmessage = e => {
      const w = ws.waiters.shift();
      if (w) w.resolve(e.data); else ws.inbox.push(e.data);
    };
    ws.addEventListener("close", e => {
      for (const w of ws.waiters.splice(0)) w.reject(new Error("closed with " + e.code + " while waiting"));
    });
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket error before open"));
  });
}
// recv resolves with the next message's data.
function recv(ws) {
  if (ws.inbox.length) return Promise.resolve(ws.inbox.shift());
  if (ws.readyState >= WebSocket.CLOSING) return Promise.reject(new Error("closed"));
  return new Promise((resolve, reject) => ws.waiters.push({resolve, reject}));
}
// pattern matches pattern() in Go: byte i is (i*7 + i>>11) & 255.
function pattern(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 11)) & 255;
  return b;
}
function randomBytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
}
// diff describes the first difference between two byte arrays, or "".
function diff(got, want) {
  got = new Uint8Array(got);
  if (got.length !== want.length) return "length " + got.length + ", want " + want.length;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return "byte " + i + " is " + got[i] + ", want " + want[i];
  }
  return "";
}
// kind names the type of a message's data as the page sees it.
function kind(d) {
  if (typeof d === "string") return "string";
  if (d instanceof ArrayBuffer) return "arraybuffer";
  if (d instanceof Blob) return "blob";
  return typeof d;
}
</script>
`

// browserRun evaluates script (an async function body) in the page and
// decodes what it returns into T.
func browserRun[T any](t *testing.T, ctx context.Context, script string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T]("(async () => {"+script+"})()", chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("page script failed: %v\nscript:%s", err, script)
	}
	return v
}

// openPage starts a browser on the test server's page.
func openPage(t *testing.T, s *server) context.Context {
	t.Helper()
	ctx := peer.Browser(t, 10*time.Minute)
	nav, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(nav, chromedp.Navigate(s.URL+"/")); err != nil {
		t.Fatalf("open page: %v", err)
	}
	return ctx
}

type echoResult struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	Diff string `json:"diff"`
}

func TestChromium(t *testing.T) {
	s := newServer(t, &websocket.AcceptOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
	ctx := openPage(t, s)

	t.Run("text", func(t *testing.T) {
		for _, text := range []string{"hello", utf8Text, ""} {
			got := browserRun[echoResult](t, ctx, fmt.Sprintf(`
				const ws = await connect("/echo");
				ws.send(%q);
				const d = await recv(ws);
				ws.close();
				return {kind: kind(d), text: d};`, text))
			if got.Kind != "string" || got.Text != text {
				t.Errorf("sent %q, the page got back %s %q", text, got.Kind, got.Text)
			}
			if r := s.wait(t, "/echo"); websocket.CloseStatus(r.err) != websocket.StatusNoStatusRcvd {
				t.Errorf("page's ws.close() seen by Go as %v, want no status (1005)", r.err)
			}
		}
	})

	t.Run("arraybuffer", func(t *testing.T) {
		got := browserRun[echoResult](t, ctx, `
			const ws = await connect("/echo", undefined, "arraybuffer");
			const want = pattern(1000);
			ws.send(want.buffer);
			const d = await recv(ws);
			ws.close(1000);
			return {kind: kind(d), diff: kind(d) === "arraybuffer" ? diff(d, want) : ""};`)
		if got.Kind != "arraybuffer" || got.Diff != "" {
			t.Errorf("ArrayBuffer echo: kind %s, %s", got.Kind, got.Diff)
		}
		wantClose(t, s.wait(t, "/echo").err, websocket.StatusNormalClosure, "")
	})

	t.Run("blob", func(t *testing.T) {
		got := browserRun[echoResult](t, ctx, `
			const ws = await connect("/echo", undefined, "blob");
			const want = pattern(3000);
			ws.send(new Blob([want]));
			const d = await recv(ws);
			ws.close(1000);
			return {kind: kind(d), diff: kind(d) === "blob" ? diff(await d.arrayBuffer(), want) : ""};`)
		if got.Kind != "blob" || got.Diff != "" {
			t.Errorf("Blob echo: kind %s, %s", got.Kind, got.Diff)
		}
		s.wait(t, "/echo")
	})

	t.Run("large", func(t *testing.T) {
		got := browserRun[[]echoResult](t, ctx, fmt.Sprintf(`
			const ws = await connect("/echo");
			const bin = pattern(%d);
			ws.send(bin);
			const d1 = await recv(ws);
			const text = %q.repeat(%d);
			ws.send(text);
			const d2 = await recv(ws);
			ws.close(1000);
			return [
			  {kind: kind(d1), diff: kind(d1) === "arraybuffer" ? diff(d1, bin) : ""},
			  {kind: kind(d2), diff: d2 === text ? "" : "text differs, length " + d2.length + " want " + text.length},
			];`, largeSize, utf8Text, largeSize/len(utf8Text)))
		if len(got) != 2 || got[0].Kind != "arraybuffer" || got[0].Diff != "" || got[1].Kind != "string" || got[1].Diff != "" {
			t.Errorf("16 MiB echo: %+v", got)
		}
		wantClose(t, s.wait(t, "/echo").err, websocket.StatusNormalClosure, "")
	})

	t.Run("streamed-to-page", func(t *testing.T) {
		const size = 1<<20 + 123
		got := browserRun[echoResult](t, ctx, fmt.Sprintf(`
			const ws = await connect("/stream?n=%d");
			const d = await recv(ws);
			ws.close(1000);
			return {kind: kind(d), diff: kind(d) === "arraybuffer" ? diff(d, pattern(%[1]d)) : ""};`, size))
		if got.Kind != "arraybuffer" || got.Diff != "" {
			t.Errorf("message written through Writer in pieces: kind %s, %s", got.Kind, got.Diff)
		}
		wantClose(t, s.wait(t, "/stream").err, websocket.StatusNormalClosure, "")
	})

	t.Run("burst-to-page", func(t *testing.T) {
		got := browserRun[string](t, ctx, fmt.Sprintf(`
			const ws = await connect("/burst?n=%d");
			for (let i = 0; i < %[1]d; i++) {
				const d = await recv(ws);
				if (d !== String(i)) { ws.close(); return "message " + i + " is " + d; }
			}
			ws.close(1000);
			return "ok";`, burstCount))
		if got != "ok" {
			t.Error(got)
		}
		s.wait(t, "/burst")
	})

	t.Run("burst-to-go", func(t *testing.T) {
		got := browserRun[string](t, ctx, fmt.Sprintf(`
			const ws = await connect("/count");
			for (let i = 0; i < %d; i++) ws.send(String(i));
			ws.send("end");
			const d = await recv(ws);
			ws.close(1000);
			return d;`, burstCount))
		if want := fmt.Sprintf("ok %d", burstCount); got != want {
			t.Errorf("Go server answered %q, want %q", got, want)
		}
		s.wait(t, "/count")
	})

	t.Run("go-closes", func(t *testing.T) {
		type closeEvent struct {
			Code     int    `json:"code"`
			Reason   string `json:"reason"`
			WasClean bool   `json:"wasClean"`
		}
		for _, tc := range []struct {
			code   int
			reason string
		}{
			{1000, ""},
			{1001, "going away"},
			{1011, "internal error"},
			{4000, utf8Text},
			{4999, strings.Repeat("r", 123)}, // the longest reason a close frame holds
		} {
			got := browserRun[closeEvent](t, ctx, fmt.Sprintf(`
				const ws = await connect("/close?code=%d&reason=" + encodeURIComponent(%q));
				return await ws.closed;`, tc.code, tc.reason))
			if got.Code != tc.code || got.Reason != tc.reason || !got.WasClean {
				t.Errorf("Go closed with %d %q; the page's CloseEvent is %+v", tc.code, tc.reason, got)
			}
			if r := s.wait(t, "/close"); r.err != nil {
				t.Errorf("Close(%d) returned %v", tc.code, r.err)
			}
		}
	})

	t.Run("page-closes", func(t *testing.T) {
		got := browserRun[string](t, ctx, `
			const ws = await connect("/echo");
			ws.close(4001, "page says bye");
			const e = await ws.closed;
			return e.code + " " + e.wasClean;`)
		// The CloseEvent carries the server's answering close frame, whose
		// reason RFC 6455 §5.5.1 leaves to the server; the code must match.
		if got != "4001 true" {
			t.Errorf("page's CloseEvent after its own close: %q", got)
		}
		wantClose(t, s.wait(t, "/echo").err, 4001, "page says bye")
	})

	t.Run("message-too-big", func(t *testing.T) {
		// Another server, which allows this page's origin and reads at most 1 MiB.
		small := newServer(t, &websocket.AcceptOptions{ReadLimit: 1 << 20, OriginPatterns: []string{"127.0.0.1:*"}})
		got := browserRun[string](t, ctx, fmt.Sprintf(`
			const ws = await connect(%q);
			ws.send(pattern((1 << 20) + 1));
			const e = await ws.closed;
			return e.code + " " + e.wasClean;`, small.WS+"/echo"))
		if got != "1009 true" {
			t.Errorf("after a message over the read limit the page's CloseEvent is %q, want 1009 true", got)
		}
		r := small.wait(t, "/echo")
		if !errors.Is(r.err, websocket.ErrMessageTooBig) {
			t.Errorf("server Read returned %v, want ErrMessageTooBig", r.err)
		}
	})

	t.Run("cross-origin-refused", func(t *testing.T) {
		strict := newServer(t, nil)
		got := browserRun[string](t, ctx, fmt.Sprintf(`
			try {
				const ws = await connect(%q);
				ws.close();
				return "opened";
			} catch (e) {
				return "refused";
			}`, strict.WS+"/echo"))
		if got != "refused" {
			t.Errorf("a page from another origin got %q, want refused", got)
		}
		if r := strict.wait(t, "/echo"); r.err == nil {
			t.Error("Accept let a page from another origin in")
		}
	})

	t.Run("subprotocol", func(t *testing.T) {
		got := browserRun[string](t, ctx, `
			const ws = await connect("/echo", ["chat.v2", "chat.v1"]);
			const p = ws.protocol;
			ws.close(1000);
			return p;`)
		if got != "chat.v1" {
			t.Errorf("ws.protocol = %q, want the server's first choice chat.v1", got)
		}
		if r := s.wait(t, "/echo"); r.subprotocol != "chat.v1" {
			t.Errorf("Subprotocol() = %q, want chat.v1", r.subprotocol)
		}
	})

	t.Run("no-compression", func(t *testing.T) {
		got := browserRun[string](t, ctx, `
			const ws = await connect("/echo");
			const e = ws.extensions;
			ws.close(1000);
			return e;`)
		if got != "" {
			t.Errorf("ws.extensions = %q from a server without compression", got)
		}
		s.wait(t, "/echo")
	})
}

func TestChromiumDeflate(t *testing.T) {
	s := newServer(t, &websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}})
	ctx := openPage(t, s)
	type result struct {
		Extensions string       `json:"extensions"`
		Echo       []echoResult `json:"echo"`
	}
	got := browserRun[result](t, ctx, fmt.Sprintf(`
		const ws = await connect("/echo");
		const text = "duplex says hello; ".repeat(%d).slice(0, %[2]d);
		const random = randomBytes(%[3]d);
		const echo = [];
		for (let round = 0; round < 3; round++) {
			ws.send(text);
			const d1 = await recv(ws);
			echo.push({kind: kind(d1), diff: d1 === text ? "" : "text differs, length " + d1.length});
			ws.send(random);
			const d2 = await recv(ws);
			echo.push({kind: kind(d2), diff: kind(d2) === "arraybuffer" ? diff(d2, random) : ""});
		}
		ws.send(%[4]q);
		const d3 = await recv(ws);
		echo.push({kind: kind(d3), diff: d3 === %[4]q ? "" : "got " + d3});
		const extensions = ws.extensions;
		ws.close(1000);
		return {extensions, echo};`, repetitiveSize/19+1, repetitiveSize, randomSize, utf8Text))
	if !strings.Contains(got.Extensions, "permessage-deflate") {
		t.Errorf("ws.extensions = %q, want permessage-deflate", got.Extensions)
	}
	for i, e := range got.Echo {
		if e.Diff != "" || (e.Kind != "string" && e.Kind != "arraybuffer") {
			t.Errorf("message %d: kind %s, %s", i, e.Kind, e.Diff)
		}
	}
	r := s.wait(t, "/echo")
	wantClose(t, r.err, websocket.StatusNormalClosure, "")
	if !strings.Contains(r.extensions, "permessage-deflate") {
		t.Errorf("server Extensions() = %q", r.extensions)
	}

	// The repetitive text must cross the wire compressed both ways.
	browserRun[chromedp.Void](t, ctx, `window.conn = await connect("/echo");`)
	read0, written0 := s.traffic.snapshot()
	echoed := browserRun[bool](t, ctx, fmt.Sprintf(`
		const text = "duplex says hello; ".repeat(%d).slice(0, %[2]d);
		window.conn.send(text);
		return (await recv(window.conn)) === text;`, repetitiveSize/19+1, repetitiveSize))
	read1, written1 := s.traffic.snapshot()
	browserRun[chromedp.Void](t, ctx, `window.conn.close(1000);`)
	s.wait(t, "/echo")
	t.Logf("64 KiB of repetitive text: %d bytes from the page, %d bytes to it", read1-read0, written1-written0)
	if !echoed {
		t.Error("the repetitive text did not come back intact")
	}
	if read1-read0 > repetitiveSize/8 || written1-written0 > repetitiveSize/8 {
		t.Errorf("64 KiB of repetitive text took %d bytes from the page and %d to it; want both compressed below %d",
			read1-read0, written1-written0, repetitiveSize/8)
	}
}
