package engine

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/duplexws/websocket/internal/netpoll"
)

// peer is a test's connection: each read of what arrived is one message.
// A message that begins with "big" is unfinished: it holds bigHolds bytes
// of the budget, and its delivery waits for gate.
type peer struct {
	nc   net.Conn // the transport: the loop's once it took the socket over
	msg  []byte   // the message NextNow or Next began
	gate chan struct{}
}

const bigHolds = 60

// echoHandler delivers each read to got and tells each end to closed.
type echoHandler struct {
	got    chan string
	closed chan *peer
}

func (h *echoHandler) NextNow(c *peer, fresh, hangup bool) (Begun, error) {
	r, ok := c.nc.(interface{ ReadNow([]byte) (int, error) })
	if !ok {
		return NoMessage, errors.New("the transport cannot read without waiting")
	}
	buf := make([]byte, 64)
	n, err := r.ReadNow(buf)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return NoMessage, nil
	case err != nil:
		return NoMessage, err
	case n == 0:
		return NoMessage, io.EOF
	}
	c.msg = buf[:n]
	if strings.HasPrefix(string(c.msg), "big") {
		return UnfinishedMessage, nil
	}
	return WholeMessage, nil
}

func (h *echoHandler) Next(c *peer) error {
	buf := make([]byte, 64)
	n, err := c.nc.Read(buf)
	c.msg = buf[:n]
	return err
}

func (h *echoHandler) Holds(c *peer) int { return bigHolds }

func (h *echoHandler) Deliver(c *Conn[peer]) {
	p := c.Owner()
	h.got <- string(p.msg)
	if strings.HasPrefix(string(p.msg), "big") {
		<-p.gate
	}
}

func (h *echoHandler) Closed(c *Conn[peer]) { h.closed <- c.Owner() }

func (h *echoHandler) UseTransport(c *peer, t net.Conn) bool {
	c.nc = t
	return true
}

// Upgrade is never called: the tests' loops accept no connection
// themselves.
func (h *echoHandler) Upgrade(*Conn[peer]) bool {
	panic("Upgrade on a connection the loop did not accept")
}

// serve starts a loop with the budget given and returns it with a function that serves the
// server's end of a new loopback connection and returns its record and
// the client's end.
func serve(t *testing.T, h *echoHandler, budget int64) (*Loop[peer], func() (*Conn[peer], net.Conn)) {
	t.Helper()
	l, err := New[peer](h, 1, budget)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return l, func() (*Conn[peer], net.Conn) {
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cl.Close() })
		sv, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p := &peer{nc: sv, gate: make(chan struct{})}
		c := l.NewConn(p)
		l.Add(c)
		l.Start(c, sv)
		if _, ok := p.nc.(*transport[peer]); !ok {
			t.Fatalf("the loop did not take the socket over: the transport is a %T", p.nc)
		}
		return c, cl
	}
}

func receive(t *testing.T, h *echoHandler, want string) {
	t.Helper()
	select {
	case got := <-h.got:
		if got != want {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%q was not delivered", want)
	}
}

func waitIdle(t *testing.T, c *Conn[peer]) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.flags.Load()&stateMask != stateIdle {
		if time.Now().After(deadline) {
			t.Fatal("the connection did not park")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDeliverThenClosed checks a connection's life: what arrives is
// delivered, the peer's end ends the runs, Closed is told once, and the
// connection leaves the loop when its transport closes.
func TestDeliverThenClosed(t *testing.T) {
	h := &echoHandler{got: make(chan string, 4), closed: make(chan *peer, 4)}
	l, open := serve(t, h, -1)
	c, cl := open()
	cl.Write([]byte("one"))
	receive(t, h, "one")
	waitIdle(t, c)
	cl.Write([]byte("two"))
	receive(t, h, "two")
	cl.Close()
	select {
	case p := <-h.closed:
		if l.Len() != 1 {
			t.Fatalf("the loop holds %d connections before the transport closed, want 1", l.Len())
		}
		p.nc.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Closed was not called after the peer closed")
	}
	if l.Len() != 0 {
		t.Fatalf("the loop holds %d connections after the transport closed, want 0", l.Len())
	}
	select {
	case <-h.closed:
		t.Fatal("Closed was called twice")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestEndedParked checks that a parked connection the owner ends is told
// Closed without any event.
func TestEndedParked(t *testing.T) {
	h := &echoHandler{got: make(chan string, 4), closed: make(chan *peer, 4)}
	_, open := serve(t, h, -1)
	c, _ := open()
	waitIdle(t, c)
	c.Ended()
	select {
	case p := <-h.closed:
		p.nc.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Closed was not called for a parked connection that ended")
	}
}

// TestStaleEvent checks that an epoll event for an id whose slot was
// reused reaches nobody: the loop drops it, and the slot's connection is
// not woken.
func TestStaleEvent(t *testing.T) {
	h := &echoHandler{got: make(chan string, 4), closed: make(chan *peer, 4)}
	l, open := serve(t, h, -1)
	first, cl := open()
	id := first.id
	cl.Close()
	(<-h.closed).nc.Close()
	second, cl2 := open()
	if uint32(second.id) != uint32(id) {
		t.Fatalf("the new connection took slot %d, not %d", uint32(second.id), uint32(id))
	}
	if l.conns.Get(id) != nil {
		t.Fatal("the stale id finds the slot's new connection")
	}
	waitIdle(t, second)
	l.event(id, netpoll.Events(unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP))
	if f := second.flags.Load(); f&stateMask != stateIdle || f&flagHangup != 0 {
		t.Fatalf("a stale event changed the slot's new connection: flags %#x", f)
	}
	cl2.Write([]byte("still here"))
	receive(t, h, "still here")
}

// TestBudgetHoldsMessages checks the budget of unfinished messages: a
// message that would take the bytes held past it waits, parked, with
// nothing reading its connection, until a delivered one ends, while
// messages that arrived whole are delivered as ever.
func TestBudgetHoldsMessages(t *testing.T) {
	h := &echoHandler{got: make(chan string, 4), closed: make(chan *peer, 4)}
	l, open := serve(t, h, 100)
	a, ca := open()
	b, cb := open()
	_, cc := open()
	ca.Write([]byte("big a"))
	receive(t, h, "big a")
	cb.Write([]byte("big b"))
	select {
	case got := <-h.got:
		t.Fatalf("delivered %q past the budget", got)
	case <-time.After(100 * time.Millisecond):
	}
	if f := b.flags.Load(); f&flagHeld == 0 || f&stateMask != stateIdle {
		t.Fatalf("the held connection's flags are %#x, want held and parked", f)
	}
	cc.Write([]byte("small"))
	receive(t, h, "small")
	a.Owner().gate <- struct{}{}
	receive(t, h, "big b")
	b.Owner().gate <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		n, held := l.unfinished, len(l.held)
		l.mu.Unlock()
		if n == 0 && held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes and %d messages still held after both were delivered", n, held)
		}
		time.Sleep(time.Millisecond)
	}
	cb.Write([]byte("after"))
	receive(t, h, "after")
}

// TestBudgetHeldEnds checks that a held message whose connection ends
// leaves the queue, and that a message after it is not held behind it.
func TestBudgetHeldEnds(t *testing.T) {
	h := &echoHandler{got: make(chan string, 4), closed: make(chan *peer, 4)}
	_, open := serve(t, h, 100)
	a, ca := open()
	b, cb := open()
	c, cc := open()
	ca.Write([]byte("big a"))
	receive(t, h, "big a")
	cb.Write([]byte("big b"))
	waitIdle(t, b)
	b.Ended()
	select {
	case p := <-h.closed:
		p.nc.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Closed was not called for a held connection that ended")
	}
	a.Owner().gate <- struct{}{}
	cc.Write([]byte("big c"))
	receive(t, h, "big c")
	c.Owner().gate <- struct{}{}
}

// TestBudgetWithoutQueueAllocatesNothing checks that an unfinished message
// that fits the budget while none waits is counted without a queue: one
// such message per read of a large echo allocated two slices before.
func TestBudgetWithoutQueueAllocatesNothing(t *testing.T) {
	l, err := New[peer](&echoHandler{}, 0, 4*bigHolds)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := l.NewConn(&peer{})
	allocs := testing.AllocsPerRun(100, func() {
		if !l.reserve(c) {
			t.Fatal("a message that fits an unused budget was held")
		}
		l.release(bigHolds)
	})
	if allocs != 0 {
		t.Errorf("reserve and release allocated %v times a message", allocs)
	}
}
