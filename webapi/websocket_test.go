//go:build !js

package webapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	timeout := time.After(testTimeout)
	for ev := range ws.Events() {
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
			if !e.WasClean {
				t.Errorf("close event %+v; want clean", e)
			}
		}
		select {
		case <-timeout:
			t.Fatal("events did not end")
		default:
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
// closed, reporting each arrival on arrived.
func stall(arrived chan<- string, release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Host + r.URL.Path
		<-release
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
	url := serve(t, stall(arrived, release))
	ws, err := (&Agent{}).New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, nil, nil)
	<-arrived // the handshake is under way
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
	url := serve(t, stall(arrived, release))
	defer close(release)
	a := &Agent{}
	ws, err := a.New(url)
	if err != nil {
		t.Fatal(err)
	}
	r := record(ws, nil, nil)
	<-arrived
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

// openAll creates n WebSockets with a to url and waits for all to open.
func openAll(t *testing.T, newWS func() (*WebSocket, error), n int) []*WebSocket {
	t.Helper()
	var all []*WebSocket
	opened := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		ws, err := newWS()
		if err != nil {
			t.Fatalf("New number %d: %v", i+1, err)
		}
		ws.SetHandlers(Handlers{OnOpen: func(OpenEvent) { opened <- struct{}{} }})
		all = append(all, ws)
	}
	for range n {
		select {
		case <-opened:
		case <-time.After(testTimeout):
			t.Fatal("not all connections opened")
		}
	}
	return all
}

// closeAll closes every WebSocket and waits for their close events.
func closeAll(t *testing.T, all []*WebSocket) {
	t.Helper()
	closed := make(chan struct{}, len(all))
	for _, ws := range all {
		ws.SetHandlers(Handlers{OnClose: func(CloseEvent) { closed <- struct{}{} }})
		ws.Close(1000, "")
	}
	for range all {
		select {
		case <-closed:
		case <-time.After(testTimeout):
			t.Fatal("not all connections closed")
		}
	}
}

func TestMaxConnections(t *testing.T) {
	url := echoServer(t, nil)
	a := &Agent{MaxConnections: 3}
	all := openAll(t, func() (*WebSocket, error) { return a.New(url) }, 3)
	ws, err := a.New(url)
	if ws != nil || !errors.Is(err, ErrTooManyConnections) {
		t.Fatalf("New beyond the cap = %v, %v; want ErrTooManyConnections", ws, err)
	}
	if !strings.Contains(err.Error(), "MaxConnections") {
		t.Errorf("the error %q does not say how to raise the cap", err)
	}
	// Closing one makes room, by the time its close event is delivered.
	closeAll(t, all[:1])
	more := openAll(t, func() (*WebSocket, error) { return a.New(url) }, 1)
	closeAll(t, append(all[1:], more...))

	unlimited := &Agent{MaxConnections: -1}
	closeAll(t, openAll(t, func() (*WebSocket, error) { return unlimited.New(url) }, 5))
}

// TestDefaultCap opens 201 connections with the package's New: the default
// Agent allows 200.
func TestDefaultCap(t *testing.T) {
	url := echoServer(t, nil)
	all := openAll(t, func() (*WebSocket, error) { return New(url) }, DefaultMaxConnections)
	ws, err := New(url)
	if ws != nil || !errors.Is(err, ErrTooManyConnections) {
		t.Errorf("connection 201: %v, %v; want ErrTooManyConnections", ws, err)
	}
	closeAll(t, all)
	closeAll(t, openAll(t, func() (*WebSocket, error) { return New(url) }, 1))
}

// TestOneHandshakePerHost checks the rule of RFC 6455 §4.1 by the order of
// events: while a handshake with 127.0.0.1 is held by its server, the other
// connections to 127.0.0.1 stay queued and reach the server one by one, in
// the order they were created, while a connection to 127.0.0.2 proceeds.
func TestOneHandshakePerHost(t *testing.T) {
	arrived := make(chan string, 16)
	releases := make(map[string]chan struct{})
	var mu sync.Mutex
	release := func(key string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if releases[key] == nil {
			releases[key] = make(chan struct{})
		}
		return releases[key]
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		key := r.Host + r.URL.Path
		arrived <- key
		<-release(key)
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
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln1.Addr().String())
	ln2, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 with the port of 127.0.0.1: %v", err)
	}
	for _, ln := range []net.Listener{ln1, ln2} {
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(handler)}}
		srv.Start()
		t.Cleanup(srv.Close)
	}
	host1, host2 := "127.0.0.1:"+port, "127.0.0.2:"+port

	a := &Agent{}
	var all []*WebSocket
	opened := make(chan string, 16)
	newWS := func(host, path string) {
		ws, err := a.New("ws://" + host + path)
		if err != nil {
			t.Fatal(err)
		}
		ws.SetHandlers(Handlers{OnOpen: func(OpenEvent) { opened <- host + path }})
		all = append(all, ws)
	}
	next := func(ch chan string) string {
		t.Helper()
		select {
		case s := <-ch:
			return s
		case <-time.After(testTimeout):
			t.Fatal("nothing arrived")
			return ""
		}
	}

	newWS(host1, "/a")
	if got := next(arrived); got != host1+"/a" {
		t.Fatalf("first arrival %s", got)
	}
	newWS(host1, "/b")
	newWS(host1, "/c")
	newWS(host2, "/x")
	// The connection to the other host reaches its server while /a is still
	// held: handshakes to different hosts overlap.
	if got := next(arrived); got != host2+"/x" {
		t.Fatalf("arrival %s while %s/a is held; want %s/x", got, host1, host2)
	}
	// /b and /c wait in the Agent's queue for host1 and have not dialled.
	a.mu.Lock()
	waiting := len(a.hosts[host1].waiting)
	a.mu.Unlock()
	if waiting != 2 {
		t.Fatalf("%d connections queued for %s; want 2", waiting, host1)
	}
	select {
	case got := <-arrived:
		t.Fatalf("%s reached its server while %s/a was CONNECTING", got, host1)
	default:
	}
	// Each release lets exactly the next one in, in creation order.
	for _, step := range []struct{ release, arrives string }{{"/a", "/b"}, {"/b", "/c"}} {
		close(release(host1 + step.release))
		if got := next(opened); got != host1+step.release {
			t.Fatalf("opened %s; want %s", got, host1+step.release)
		}
		if got := next(arrived); got != host1+step.arrives {
			t.Fatalf("after %s opened, %s arrived; want %s", step.release, got, step.arrives)
		}
	}
	close(release(host1 + "/c"))
	close(release(host2 + "/x"))
	for range 2 {
		next(opened)
	}
	a.mu.Lock()
	left := len(a.hosts)
	a.mu.Unlock()
	if left != 0 {
		t.Errorf("%d hosts still in the queue after every handshake", left)
	}
	closeAll(t, all)
}

// TestHandshakeTimeout checks that a handshake the server never answers
// fails the connection once Agent.HandshakeTimeout has passed, and that the
// next connection to that host then gets its turn.
func TestHandshakeTimeout(t *testing.T) {
	arrived, release := make(chan string, 4), make(chan struct{})
	url := serve(t, stall(arrived, release))
	defer close(release)
	a := &Agent{HandshakeTimeout: 100 * time.Millisecond}
	first, err := a.New(url + "/first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.New(url + "/second")
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := record(first, nil, nil), record(second, nil, nil)
	evs, _ := r1.wait(t)
	if types(evs) != "error,close" {
		t.Fatalf("events %s; want error,close", types(evs))
	}
	if err := evs[0].(ErrorEvent).Err; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error event %v; want a deadline", err)
	}
	if types(func() []Event { e, _ := r2.wait(t); return e }()) != "error,close" {
		t.Error("the second connection did not time out in its turn")
	}
	var order []string
	for range 2 {
		order = append(order, strings.SplitN(<-arrived, "/", 2)[1])
	}
	if strings.Join(order, ",") != "first,second" {
		t.Errorf("handshakes arrived as %v", order)
	}
}
