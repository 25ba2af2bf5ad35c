//go:build js

package webapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"syscall/js"
)

// resolveURL resolves a relative url against the page's base URL, as the
// browser's WebSocket constructor does.
func resolveURL(raw string) string {
	if schemeEnd(raw) >= 0 {
		return raw
	}
	doc := js.Global().Get("document")
	if doc.Type() != js.TypeObject {
		return raw
	}
	base, err := url.Parse(doc.Get("baseURI").String())
	if err != nil {
		return raw
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return base.ResolveReference(ref).String()
}

// errBrowserFailure is what an error event carries under GOOS=js: the
// browser tells a page nothing more.
var errBrowserFailure = errors.New("webapi: the browser reported that the WebSocket connection failed")

// connect runs the connection of ws on the browser's own WebSocket. The
// browser applies its own limits too; this one waits for its turn at the
// host first, like the native build, so that an Agent behaves the same in
// both.
func (ws *WebSocket) connect(ctx context.Context) {
	if err := ws.waitTurn(ctx); err != nil {
		ws.closed(err, 0, "")
		return
	}
	sock, err := newBrowserSocket(ws.u.href, ws.protocols)
	if err != nil {
		ws.agent.leave(ws.turn)
		ws.closed(err, 0, "")
		return
	}
	t := &jsTransport{sock: sock}

	var once sync.Once
	handshakeOver := make(chan struct{})
	endHandshake := func() { once.Do(func() { close(handshakeOver); ws.agent.leave(ws.turn) }) }
	var failed error
	t.funcs = []js.Func{
		js.FuncOf(func(js.Value, []js.Value) any {
			endHandshake()
			if !ws.established(t, t.sock.Get("protocol").String(), t.sock.Get("extensions").String()) {
				t.sock.Call("close")
			}
			return nil
		}),
		js.FuncOf(func(_ js.Value, args []js.Value) any {
			data := args[0].Get("data")
			if data.Type() == js.TypeString {
				ws.push(task{kind: taskMessage, text: true, data: []byte(data.String())}, false)
				return nil
			}
			view := js.Global().Get("Uint8Array").New(data)
			p := make([]byte, view.Get("length").Int())
			js.CopyBytesToGo(p, view)
			ws.push(task{kind: taskMessage, data: p}, false)
			return nil
		}),
		js.FuncOf(func(js.Value, []js.Value) any {
			failed = errBrowserFailure
			return nil
		}),
		js.FuncOf(func(_ js.Value, args []js.Value) any {
			endHandshake()
			ev := args[0]
			code, reason := ev.Get("code").Int(), ev.Get("reason").String()
			err := failed
			if err == nil && !ev.Get("wasClean").Bool() {
				err = errBrowserFailure
			}
			t.release()
			if err == nil {
				ws.push(task{kind: taskClosing}, false)
			}
			ws.closed(err, code, reason)
			return nil
		}),
	}
	for i, name := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		t.sock.Set(name, t.funcs[i])
	}

	timeout := ws.agent.handshakeTimeout()
	var expired <-chan struct{}
	if timeout > 0 {
		tctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		expired = tctx.Done()
	}
	select {
	case <-handshakeOver:
	case <-ctx.Done():
		// Close was called while CONNECTING: the browser fails the connection.
		t.sock.Call("close")
	case <-expired:
		ws.mu.Lock()
		if ws.aborted == nil {
			ws.aborted = fmt.Errorf("webapi: the opening handshake with %s took longer than %v", ws.u.hostPort, timeout)
		}
		ws.mu.Unlock()
		t.sock.Call("close")
	}
}

// newBrowserSocket creates the browser's WebSocket, set to deliver binary
// messages as ArrayBuffers. An exception from the constructor (a browser may
// refuse a URL this package accepts, a port it blocks for one) becomes an
// error.
func newBrowserSocket(url string, protocols []string) (sock js.Value, err error) {
	defer func() {
		if e := recover(); e != nil {
			jsErr, ok := e.(js.Error)
			if !ok {
				panic(e)
			}
			err = fmt.Errorf("webapi: the browser refused to create the WebSocket: %w", jsErr)
		}
	}()
	list := make([]any, len(protocols))
	for i, p := range protocols {
		list[i] = p
	}
	sock = js.Global().Get("WebSocket").New(url, list)
	sock.Set("binaryType", "arraybuffer")
	return sock, nil
}

// jsTransport is the browser's WebSocket under a WebSocket.
type jsTransport struct {
	sock  js.Value
	funcs []js.Func
}

func (t *jsTransport) send(text bool, p []byte) {
	if text {
		t.sock.Call("send", string(p))
		return
	}
	view := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(view, p)
	t.sock.Call("send", view)
}

func (t *jsTransport) close(code int, reason string) { t.sock.Call("close", code, reason) }

func (t *jsTransport) abort() { t.sock.Call("close") }

func (t *jsTransport) buffered() uint64 { return uint64(t.sock.Get("bufferedAmount").Float()) }

// release detaches and frees the event handlers once the close event came.
func (t *jsTransport) release() {
	for _, name := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		t.sock.Set(name, js.Null())
	}
	funcs := t.funcs
	go func() {
		for _, f := range funcs {
			f.Release()
		}
	}()
}
