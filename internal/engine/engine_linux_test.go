package engine

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/duplexws/websocket/internal/netpoll"
)

// peer is a test's connection: each read of what arrived is one message.
type peer struct {
	nc  net.Conn // the transport: the loop's once it took the socket over
	msg []byte   // the message NextNow or Next began
}

// echoHandler delivers each read to got and tells each end to closed.
type echoHandler struct {
	got    chan string
	closed chan *peer
}

func (h *echoHandler) NextNow(c *peer, fresh, hangup bool) (bool, error) {
	r, ok := c.nc.(interface{ ReadNow([]byte) (int, error) })
	if !ok {
		return false, errors.New("the transport cannot read without waiting")
	}
	buf := make([]byte, 64)
	n, err := r.ReadNow(buf)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return false, nil
	case err != nil:
		return false, err
	case n == 0:
		return false, io.EOF
	}
	c.msg = buf[:n]
	return true, nil
}

func (h *echoHandler) Next(c *peer) error {
	buf := make([]byte, 64)
	n, err := c.nc.Read(buf)
	c.msg = buf[:n]
	return err
}

func (h *echoHandler) Deliver(c *Conn[peer]) { h.got <- string(c.Owner().msg) }

func (h *echoHandler) Closed(c *Conn[peer]) { h.closed <- c.Owner() }

func (h *echoHandler) UseTransport(c *peer, t net.Conn) bool {
	c.nc = t
	return true
}

// serve starts a loop and returns it with a function that serves the
// server's end of a new loopback connection and returns its record and
// the client's end.
func serve(t *testing.T, h *echoHandler) (*Loop[peer], func() (*Conn[peer], net.Conn)) {
	t.Helper()
	l, err := New[peer](h, 1)
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
		p := &peer{nc: sv}
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
	l, open := serve(t, h)
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
	_, open := serve(t, h)
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
	l, open := serve(t, h)
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
