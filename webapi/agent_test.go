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
		select {
		case <-release(key):
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
	waiting := len(a.lines[host1]) - 1
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
	left := len(a.lines)
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
	url := serve(t, stall(t, arrived, release))
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
		order = append(order, strings.SplitN(within(t, arrived, "handshake"), "/", 2)[1])
	}
	if strings.Join(order, ",") != "first,second" {
		t.Errorf("handshakes arrived as %v", order)
	}
}

// TestAgentLine checks the line of RFC 6455 §4.1 directly: the first
// WebSocket for a host:port holds the turn, the others wait in order, one
// that gives up leaves without passing a turn it does not hold, and other
// hosts are not held up.
func TestAgentLine(t *testing.T) {
	var a Agent
	ready := func(tu *turn) bool {
		select {
		case <-tu.ready:
			return true
		default:
			return false
		}
	}
	first, second, third := a.queue("h:80"), a.queue("h:80"), a.queue("h:80")
	other := a.queue("h:81")
	if !ready(first) || ready(second) || ready(third) || !ready(other) {
		t.Fatalf("turns ready: %v %v %v, other host %v; want true false false, true", ready(first), ready(second), ready(third), ready(other))
	}
	a.leave(second) // gives up while waiting
	if ready(third) {
		t.Fatal("a waiter that gave up passed on a turn it did not hold")
	}
	a.leave(first)
	if !ready(third) {
		t.Fatal("the turn did not pass to the next waiter")
	}
	a.leave(third)
	a.leave(other)
	if len(a.lines) != 0 {
		t.Errorf("lines left: %v", a.lines)
	}
}

// slowHandshake is how long handshakeCounter holds each handshake.
const slowHandshake = 50 * time.Millisecond

// handshakeCounter is a handler whose handshakes each take slowHandshake. It
// records the largest number of handshakes in progress at once. A handshake
// counts from the request's arrival until just before the 101 answer, so the
// next one a client starts after that answer can never overlap it.
type handshakeCounter struct {
	mu       sync.Mutex
	inFlight int
	peak     int
}

func (h *handshakeCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.inFlight++
	h.peak = max(h.peak, h.inFlight)
	h.mu.Unlock()
	time.Sleep(slowHandshake)
	h.mu.Lock()
	h.inFlight--
	h.mu.Unlock()
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

// takePeak returns the peak since the last call and resets it.
func (h *handshakeCounter) takePeak() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.peak
	h.peak = 0
	return p
}

// TestHandshakeConcurrency measures the rule of RFC 6455 §4.1 on servers
// whose handshakes are slow: WebSockets created all at once to one host
// reach it one handshake at a time, while those to two hosts (127.0.0.1 and
// 127.0.0.2) have two handshakes in progress at once.
func TestHandshakeConcurrency(t *testing.T) {
	counter := &handshakeCounter{}
	var urls []string
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.2:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: counter}}
		srv.Start()
		t.Cleanup(srv.Close)
		urls = append(urls, "ws://"+ln.Addr().String()+"/")
	}
	tests := []struct {
		name     string
		urls     []string
		perURL   int
		wantPeak int
	}{
		{"one host", urls[:1], 5, 1},
		{"two hosts", urls, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Agent{}
			counter.takePeak()
			start := time.Now()
			n := 0
			all := openAll(t, func() (*WebSocket, error) {
				u := tt.urls[n%len(tt.urls)]
				n++
				return a.New(u)
			}, tt.perURL*len(tt.urls))
			elapsed := time.Since(start)
			if peak := counter.takePeak(); peak != tt.wantPeak {
				t.Errorf("at most %d handshakes in progress at once; want %d", peak, tt.wantPeak)
			}
			// One host at a time: perURL handshakes in a row per host.
			if least := time.Duration(tt.perURL) * slowHandshake; elapsed < least {
				t.Errorf("%d connections opened in %v; one at a time per host takes at least %v", n, elapsed, least)
			}
			t.Logf("%d connections to %d hosts opened in %v", n, len(tt.urls), elapsed)
			closeAll(t, all)
		})
	}
}

// TestCloseWhileWaitingForTurn checks that a WebSocket closed while it waits
// for its turn at a host fails at once, without a handshake, and that the
// line goes on without it.
func TestCloseWhileWaitingForTurn(t *testing.T) {
	arrived, release := make(chan string, 4), make(chan struct{})
	url := serve(t, stall(t, arrived, release))
	a := &Agent{}
	first, err := a.New(url + "/first")
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := a.New(url + "/waiting")
	if err != nil {
		t.Fatal(err)
	}
	third, err := a.New(url + "/third")
	if err != nil {
		t.Fatal(err)
	}
	within(t, arrived, "first handshake")
	r := record(waiting, nil, nil)
	waiting.Close(1000, "")
	evs, _ := r.wait(t)
	if types(evs) != "error,close" {
		t.Fatalf("events %s; want error,close", types(evs))
	}
	if ce := evs[1].(CloseEvent); ce.Code != 1006 || ce.WasClean {
		t.Errorf("close event %+v; want 1006, not clean", ce)
	}
	select {
	case got := <-arrived:
		t.Fatalf("%s reached the server while the first handshake was held", got)
	default:
	}
	close(release)
	all := []*WebSocket{first, third}
	opened := make(chan struct{}, 2)
	for _, ws := range all {
		ws.SetHandlers(Handlers{OnOpen: func(OpenEvent) { opened <- struct{}{} }})
	}
	within(t, opened, "open")
	within(t, opened, "open")
	if got := within(t, arrived, "third handshake"); !strings.HasSuffix(got, "/third") {
		t.Errorf("second handshake at the server: %s; want /third", got)
	}
	closeAll(t, all)
}
