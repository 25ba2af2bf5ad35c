//go:build !js

package webapi

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// testTimeout bounds every wait of these tests; reaching it is a failure.
const testTimeout = 10 * time.Second

// echoServer starts a server whose handler accepts WebSockets (with the
// options given) and echoes every message with its type. It returns the
// server's ws:// URL.
func echoServer(t *testing.T, opts *websocket.AcceptOptions) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// serve starts a server on 127.0.0.1 with handler h and returns its ws:// URL.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// recorder collects a WebSocket's events, with the ReadyState seen in each
// handler, and signals the close event.
type recorder struct {
	mu     sync.Mutex
	events []Event
	states []ReadyState
	closed chan struct{}
}

func record(ws *WebSocket, onOpen func(), onMessage func(MessageEvent)) *recorder {
	r := &recorder{closed: make(chan struct{})}
	add := func(ev Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.states = append(r.states, ws.ReadyState())
		r.mu.Unlock()
	}
	ws.SetHandlers(Handlers{
		OnOpen: func(ev OpenEvent) {
			add(ev)
			if onOpen != nil {
				onOpen()
			}
		},
		OnMessage: func(ev MessageEvent) {
			add(ev)
			if onMessage != nil {
				onMessage(ev)
			}
		},
		OnError: func(ev ErrorEvent) { add(ev) },
		OnClose: func(ev CloseEvent) { add(ev); close(r.closed) },
	})
	return r
}

// wait waits for the close event and returns the events and states seen.
func (r *recorder) wait(t *testing.T) ([]Event, []ReadyState) {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(testTimeout):
		t.Fatal("no close event")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events, r.states
}

// within returns the next value from ch, failing the test when none comes
// within testTimeout.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("%s: nothing within %v", what, testTimeout)
		var zero T
		return zero
	}
}

// nextEvent returns the next event from an Events channel, or false once
// the channel is closed; it fails the test when neither happens within
// testTimeout.
func nextEvent(t *testing.T, events <-chan Event) (Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-time.After(testTimeout):
		t.Fatalf("no event within %v", testTimeout)
		return nil, false
	}
}

func types(evs []Event) string {
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Type())
	}
	return strings.Join(names, ",")
}

func TestNewRejectsBadArguments(t *testing.T) {
	a := &Agent{MaxConnections: 1}
	tests := []struct {
		url       string
		protocols []string
	}{
		{"ftp://127.0.0.1/", nil},
		{"127.0.0.1:80", nil},
		{"ws://127.0.0.1/#", nil},
		{"wss://127.0.0.1/chat#room", nil},
		{"ws://127.0.0.1/", []string{"chat", "chat"}},
		{"ws://127.0.0.1/", []string{"chat", "bad name"}},
		{"ws://127.0.0.1/", []string{""}},
	}
	for _, tt := range tests {
		ws, err := a.New(tt.url, tt.protocols...)
		var de *DOMException
		if ws != nil || !errors.As(err, &de) || de.Name != "SyntaxError" || !errors.Is(err, ErrSyntax) {
			t.Errorf("New(%q, %q) = %v, %v; want a SyntaxError", tt.url, tt.protocols, ws, err)
		}
	}
	// A refused New takes no place under the cap.
	if a.open != 0 {
		t.Errorf("%d connections counted after refused calls of New", a.open)
	}
}

func TestEchoEventsAndStates(t *testing.T) {
	url := echoServer(t, &websocket.AcceptOptions{Subprotocols: []string{"v2", "v1"}, Compression: &websocket.CompressionOptions{}})
	a := &Agent{MaxConnections: 4}
	ws, err := a.New(strings.Replace(url, "ws://", "http://", 1)+"/echo?x=1", "v1", "v2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ws.URL(), url+"/echo?x=1"; got != want {
		t.Errorf("URL() = %q; want %q", got, want)
	}
	if s := ws.ReadyState(); s != Connecting {
		t.Errorf("ReadyState() right after New = %v", s)
	}
	if bt := ws.BinaryType(); bt != BinaryBlob {
		t.Errorf("BinaryType() = %q; want blob", bt)
	}
	if err := ws.SetBinaryType("bytes"); err == nil {
		t.Error("SetBinaryType accepted an unknown type")
	}
	var got []any
	r := record(ws, func() {
		if err := ws.SendText("hello"); err != nil {
			t.Errorf("SendText in the open handler: %v", err)
		}
		ws.SendBinary([]byte{1, 2, 3})
	}, func(ev MessageEvent) {
		got = append(got, ev.Data)
		if ev.Origin != url {
			t.Errorf("Origin = %q; want %q", ev.Origin, url)
		}
		switch len(got) {
		case 2:
			ws.SetBinaryType(BinaryArrayBuffer)
			ws.SendBinary([]byte{4, 5})
		case 3:
			if err := ws.Close(4000, "done"); err != nil {
				t.Errorf("Close: %v", err)
			}
			if s := ws.ReadyState(); s != Closing {
				t.Errorf("ReadyState() after Close = %v", s)
			}
		}
	})
	evs, states := r.wait(t)
	if got, want := types(evs), "open,message,message,message,close"; got != want {
		t.Fatalf("events %s; want %s", got, want)
	}
	// Each state is recorded as its handler starts, before that handler acts.
	wantStates := []ReadyState{Open, Open, Open, Open, Closed}
	for i, s := range states {
		if s != wantStates[i] {
			t.Errorf("ReadyState() in the %s handler = %v; want %v", evs[i].Type(), s, wantStates[i])
		}
	}
	if s, ok := got[0].(string); !ok || s != "hello" {
		t.Errorf("first message %#v; want the string hello", got[0])
	}
	if b, ok := got[1].(*Blob); !ok || b.Size() != 3 || string(b.Bytes()) != "\x01\x02\x03" {
		t.Errorf("second message %#v; want a Blob of 1, 2, 3", got[1])
	}
	if p, ok := got[2].([]byte); !ok || string(p) != "\x04\x05" {
		t.Errorf("third message %#v; want the []byte 4, 5", got[2])
	}
	ce := evs[4].(CloseEvent)
	if ce.Code != 4000 || !ce.WasClean {
		t.Errorf("close event %+v; want code 4000, clean", ce)
	}
	if p := ws.Protocol(); p != "v2" {
		t.Errorf("Protocol() = %q; want v2, the server's preference", p)
	}
	if e := ws.Extensions(); !strings.HasPrefix(e, "permessage-deflate") {
		t.Errorf("Extensions() = %q; want permessage-deflate", e)
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount() = %d after everything was echoed", n)
	}
	if a.open != 0 {
		t.Errorf("%d connections counted after the close event", a.open)
	}
}

func TestEventsChannel(t *testing.T) {
	ws, err := (&Agent{}).New(echoServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	events := ws.Events()
	for {
		ev, ok := nextEvent(t, events)
		if !ok {
			break
		}
		seen = append(seen, ev.Type())
		switch e := ev.(type) {
		case OpenEvent:
			ws.SendText("ping")
		case MessageEvent:
			if e.Data != "ping" {
				t.Errorf("message %#v", e.Data)
			}
			ws.Close(0, "")
		case CloseEvent:
			if e.Code != 1000 || !e.WasClean {
				t.Errorf("close event %+v; want 1000 (sent for Close without a code), clean", e)
			}
		}
	}
	if got := strings.Join(seen, ","); got != "open,message,close" {
		t.Errorf("events %s; want open,message,close", got)
	}
	if ws.Events() != ws.Events() {
		t.Error("Events returned two channels")
	}
}

// TestCloseRules checks Close's argument rules on an open socket: a refused
// Close leaves it OPEN.
func TestCloseRules(t *testing.T) {
	ws, err := (&Agent{}).New(echoServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 16)
	r := record(ws, func() {
		for _, c := range []struct {
			code   int
			reason string
		}{{1001, ""}, {1005, ""}, {2999, ""}, {5000, ""}, {-1, ""}, {1000, strings.Repeat("x", 124)}} {
			results <- ws.Close(c.code, c.reason)
		}
		if s := ws.ReadyState(); s != Open {
			t.Errorf("ReadyState() after refused Close calls = %v", s)
		}
		results <- ws.Close(1000, strings.Repeat("x", 123))
		results <- ws.Close(1001, "") // still checked when CLOSING
		results <- ws.Close(3000, "") // does nothing when CLOSING
		close(results)
	}, nil)
	evs, _ := r.wait(t)
	want := []error{ErrInvalidAccess, ErrInvalidAccess, ErrInvalidAccess, ErrInvalidAccess, ErrInvalidAccess, ErrSyntax, nil, ErrInvalidAccess, nil}
	i := 0
	for err := range results {
		if want[i] == nil && err != nil || want[i] != nil && !errors.Is(err, want[i]) {
			t.Errorf("Close call %d: %v; want %v", i, err, want[i])
		}
		i++
	}
	if ce := evs[len(evs)-1].(CloseEvent); ce.Code != 1000 || !ce.WasClean {
		t.Errorf("close event %+v", ce)
	}
}

// TestServerClose checks the close event of a close the server starts, and
// that Send afterwards only adds to BufferedAmount.
func TestServerClose(t *testing.T) {
	got := make(chan string, 8)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Close(4001, "server done")
		// Whatever the client sends after the close is never read as a message.
		for {
			_, p, err := c.Read(r.Context())
			if err != nil {
				close(got)
				return
			}
			got <- string(p)
		}
	})
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, nil, nil)
	evs, states := r.wait(t)
	if types(evs) != "open,close" {
		t.Fatalf("events %s", types(evs))
	}
	ce := evs[1].(CloseEvent)
	if ce.Code != 4001 || ce.Reason != "server done" || !ce.WasClean || states[1] != Closed {
		t.Errorf("close event %+v in state %v; want 4001, server done, clean, CLOSED", ce, states[1])
	}
	before := ws.BufferedAmount()
	if err := ws.SendText("héllo"); err != nil {
		t.Errorf("SendText when CLOSED: %v", err)
	}
	if err := ws.SendBinary(make([]byte, 10)); err != nil {
		t.Errorf("SendBinary when CLOSED: %v", err)
	}
	if n := ws.BufferedAmount(); n != before+6+10 {
		t.Errorf("BufferedAmount() = %d after sending 16 bytes when CLOSED; want %d", n, before+16)
	}
	if ws.Close(1000, "") != nil || ws.ReadyState() != Closed {
		t.Error("Close on a CLOSED WebSocket did something")
	}
	for p := range got {
		t.Errorf("the server received %q after the close", p)
	}
}

// rawServer starts a server that answers the opening handshake by hand and
// then writes frames, raw bytes the core would never send, reads what the
// client answers and closes the connection. It returns the ws:// URL.
func rawServer(t *testing.T, frames []byte) string {
	t.Helper()
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		nc, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		fmt.Fprintf(nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(sum[:]))
		nc.Write(frames)
		// The client's close frame: a header and a masked payload.
		var answer [2 + 4 + 125]byte
		nc.Read(answer[:])
	})
}

// TestServerCloseCodes checks the close event of close frames from the
// server, one row per frame: the code and reason come through, and a frame
// without a code reports 1005.
func TestServerCloseCodes(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		want  CloseEvent
	}{
		{"no code", []byte{0x88, 0x00}, CloseEvent{Code: 1005, WasClean: true}},
		{"1000", []byte{0x88, 0x02, 0x03, 0xe8}, CloseEvent{Code: 1000, WasClean: true}},
		{"1001 with a reason", []byte{0x88, 0x06, 0x03, 0xe9, 'b', 'y', 'e', '!'}, CloseEvent{Code: 1001, Reason: "bye!", WasClean: true}},
		{"1009, the server's read limit", []byte{0x88, 0x02, 0x03, 0xf1}, CloseEvent{Code: 1009, WasClean: true}},
		{"1011", []byte{0x88, 0x02, 0x03, 0xf3}, CloseEvent{Code: 1011, WasClean: true}},
		{"4999", []byte{0x88, 0x02, 0x13, 0x87}, CloseEvent{Code: 4999, WasClean: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := (&Agent{}).New(rawServer(t, tt.frame))
			if err != nil {
				t.Fatal(err)
			}
			evs, _ := record(ws, nil, nil).wait(t)
			if types(evs) != "open,close" {
				t.Fatalf("events %s; want open,close", types(evs))
			}
			if ce := evs[1].(CloseEvent); ce != tt.want {
				t.Errorf("close event %+v; want %+v", ce, tt.want)
			}
		})
	}
}

// TestSendWhileClosing checks that messages sent before Close are delivered,
// and that those sent after are counted but never sent.
func TestSendWhileClosing(t *testing.T) {
	got := make(chan string, 8)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, p, err := c.Read(r.Context())
			if err != nil {
				close(got)
				return
			}
			got <- string(p)
		}
	})
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	var amount uint64
	r := record(ws, func() {
		ws.SendText("before")
		ws.Close(1000, "")
		amount = ws.BufferedAmount()
		ws.SendText("after")
		if n := ws.BufferedAmount(); n != amount+5 {
			t.Errorf("BufferedAmount() = %d after a send when CLOSING; want %d", n, amount+5)
		}
	}, nil)
	evs, _ := r.wait(t)
	if types(evs) != "open,close" {
		t.Fatalf("events %s", types(evs))
	}
	var msgs []string
	for p := range got {
		msgs = append(msgs, p)
	}
	if strings.Join(msgs, ",") != "before" {
		t.Errorf("the server received %q; want only before", msgs)
	}
	if n := ws.BufferedAmount(); n != 5 {
		t.Errorf("BufferedAmount() = %d at the end; want the 5 bytes sent when CLOSING", n)
	}
}

// stall returns a handler that holds every handshake until release is
// closed or the test ends, reporting each arrival on arrived.
func stall(t *testing.T, arrived chan<- string, release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Host + r.URL.Path
		select {
		case <-release:
		case <-t.Context().Done():
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}
}

func TestSendWhileConnecting(t *testing.T) {
	arrived, release := make(chan string, 1), make(chan struct{})
	url := serve(t, stall(t, arrived, release))
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, nil, nil)
	within(t, arrived, "handshake") // the handshake is under way
	for _, send := range []func() error{func() error { return ws.SendText("x") }, func() error { return ws.SendBinary([]byte("x")) }} {
		err := send()
		var de *DOMException
		if !errors.Is(err, ErrInvalidState) || !errors.As(err, &de) || de.Name != "InvalidStateError" {
			t.Errorf("send while CONNECTING: %v; want an InvalidStateError", err)
		}
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount() = %d after refused sends", n)
	}
	close(release)
	ws.Close(1000, "") // now or once open: either way a close event comes
	r.wait(t)
}

func TestCloseWhileConnecting(t *testing.T) {
	arrived, release := make(chan string, 1), make(chan struct{})
	url := serve(t, stall(t, arrived, release))
	defer close(release)
	a := &Agent{}
	ws, err := a.New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, nil, nil)
	within(t, arrived, "handshake")
	if err := ws.Close(1000, "never mind"); err != nil {
		t.Fatal(err)
	}
	if s := ws.ReadyState(); s != Closing {
		t.Errorf("ReadyState() after Close while CONNECTING = %v; want CLOSING", s)
	}
	evs, states := r.wait(t)
	if types(evs) != "error,close" {
		t.Fatalf("events %s; want error,close", types(evs))
	}
	if ce := evs[1].(CloseEvent); ce.Code != 1006 || ce.WasClean || ce.Reason != "" {
		t.Errorf("close event %+v; want 1006, not clean", ce)
	}
	if states[0] != Closed {
		t.Errorf("ReadyState() in the error handler = %v; want CLOSED", states[0])
	}
}

func TestConnectionFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	notWebSocket := serve(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	dropAfterOpen := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err == nil {
			c.CloseNow()
		}
	})
	noProtocol := echoServer(t, nil)
	tests := []struct {
		name, url string
		protocols []string
		events    string
	}{
		{"connection refused", refused, nil, "error,close"},
		{"HTTP 404", notWebSocket, nil, "error,close"},
		{"subprotocol not selected", noProtocol, []string{"chat"}, "error,close"},
		{"TCP dropped after the handshake", dropAfterOpen, nil, "open,error,close"},
		{"invalid UTF-8 from the server", rawServer(t, []byte{0x81, 0x02, 0xff, 0xfe}), nil, "open,error,close"},
		{"continuation with no message", rawServer(t, []byte{0x80, 0x00}), nil, "open,error,close"},
		{"one-byte close frame", rawServer(t, []byte{0x88, 0x01, 0x03}), nil, "open,error,close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := (&Agent{}).New(tt.url, tt.protocols...)
			if err != nil {
				t.Fatal(err)
			}
			evs, _ := record(ws, nil, nil).wait(t)
			if types(evs) != tt.events {
				t.Fatalf("events %s; want %s", types(evs), tt.events)
			}
			if ee := evs[len(evs)-2].(ErrorEvent); ee.Err == nil {
				t.Error("error event without an Err")
			}
			if ce := evs[len(evs)-1].(CloseEvent); ce.Code != 1006 || ce.WasClean {
				t.Errorf("close event %+v; want 1006, not clean", ce)
			}
			if ws.ReadyState() != Closed {
				t.Errorf("ReadyState() = %v", ws.ReadyState())
			}
		})
	}
}

// TestHandlersInOrder checks that handlers run one at a time and in order,
// and that the Events channel sees the same events after them, even when
// the server sends more messages than the queue holds before a handler
// returns.
func TestHandlersInOrder(t *testing.T) {
	const n = 3 * maxQueuedMessages
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		for i := range n {
			if err := c.Write(r.Context(), websocket.MessageText, []byte(strconv.Itoa(i))); err != nil {
				return
			}
		}
		c.Close(websocket.StatusNormalClosure, "all sent")
	})
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	var running atomic.Int32
	handled := 0
	// full waits until the queue holds all the messages it may, or the end
	// of the connection (then the count below tells what was missed).
	full := func() {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		for ws.loop.messages < maxQueuedMessages {
			if slices.ContainsFunc(ws.loop.queue, func(t task) bool { return t.kind == taskClosed }) {
				return
			}
			ws.loop.cond.Wait()
		}
	}
	enter := func() {
		if running.Add(1) != 1 {
			t.Error("two handlers ran at once")
		}
		// Every 64 messages, while enough are still to come, the handler
		// waits for the queue to fill, so that reading stops behind it.
		if handled%64 == 0 && n-1-handled >= maxQueuedMessages {
			full()
		}
	}
	leave := func() { running.Add(-1) }
	ws.SetHandlers(Handlers{
		OnOpen: func(OpenEvent) { enter(); defer leave() },
		OnMessage: func(ev MessageEvent) {
			enter()
			defer leave()
			if want := strconv.Itoa(handled); ev.Data != want {
				t.Errorf("handler got message %v; want %s", ev.Data, want)
			}
			handled++
		},
		OnClose: func(CloseEvent) { enter(); defer leave() },
	})
	var seen []string
	events := ws.Events()
	for {
		ev, ok := nextEvent(t, events)
		if !ok {
			break
		}
		if m, ok := ev.(MessageEvent); ok {
			if want := strconv.Itoa(len(seen)); m.Data != want {
				t.Fatalf("channel got message %v; want %s", m.Data, want)
			}
			seen = append(seen, m.Data.(string))
			continue
		}
		if ce, ok := ev.(CloseEvent); ok && (ce.Code != 1000 || ce.Reason != "all sent" || !ce.WasClean) {
			t.Errorf("close event %+v", ce)
		}
	}
	if len(seen) != n || handled != n {
		t.Errorf("%d messages on the channel, %d handled; want %d", len(seen), handled, n)
	}
}

// TestCloseUnanswered checks a closing handshake the server never answers:
// once the core's close timeout has passed, the connection is failed, with an
// error event and an unclean close event with code 1006.
func TestCloseUnanswered(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-t.Context().Done() // never reads, so never answers the close frame
	})
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, func() { ws.Close(4000, "bye") }, nil)
	evs, states := r.wait(t)
	if types(evs) != "open,error,close" {
		t.Fatalf("events %s; want open,error,close", types(evs))
	}
	if ce := evs[2].(CloseEvent); ce.Code != 1006 || ce.WasClean || ce.Reason != "" {
		t.Errorf("close event %+v; want 1006, not clean", ce)
	}
	if states[1] != Closed {
		t.Errorf("ReadyState() in the error handler = %v; want CLOSED", states[1])
	}
}

// TestConcurrentUse sends from many goroutines at once while the handlers
// run, as a program may; with -race it checks the locking, and every
// message comes back whole.
func TestConcurrentUse(t *testing.T) {
	const senders, each = 8, 50
	ws, err := (&Agent{}).New(echoServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	received := make(map[string]bool)
	r := record(ws, func() {
		for g := range senders {
			wg.Go(func() {
				for i := range each {
					if err := ws.SendText(fmt.Sprintf("%d-%d", g, i)); err != nil {
						t.Errorf("SendText: %v", err)
					}
					ws.BufferedAmount()
					ws.ReadyState()
					ws.SetBinaryType(BinaryBlob)
				}
			})
		}
	}, func(ev MessageEvent) {
		received[ev.Data.(string)] = true
		if len(received) == senders*each {
			ws.Close(1000, "")
		}
	})
	evs, _ := r.wait(t)
	wg.Wait()
	if len(received) != senders*each {
		t.Errorf("%d distinct messages came back; want %d", len(received), senders*each)
	}
	if ce := evs[len(evs)-1].(CloseEvent); ce.Code != 1000 || !ce.WasClean {
		t.Errorf("close event %+v", ce)
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount() = %d after every message came back", n)
	}
}
