package netpoll

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestAcceptEach accepts connections as sockets of their own, watches one
// with a poller and reads and writes it as a Conn, and checks that closing
// stop ends the accepting with os.ErrClosed while the listener stays open.
func TestAcceptEach(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := new(Conn)
	p, err := NewPoller(func(id uint64, ev Events) { c.Notify(ev) })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	stop := make(chan struct{})
	accepted := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- AcceptEach(ln.(*net.TCPListener), stop, -1, func(fd int, remote syscall.Sockaddr) bool {
			c.InitAccepted(fd, remote)
			if err := p.WatchAccepted(c, 1); err != nil {
				t.Error(err)
			}
			accepted <- struct{}{}
			return true
		})
	}()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	<-accepted
	if c.RemoteAddr().String() != peer.LocalAddr().String() || c.LocalAddr().String() != ln.Addr().String() {
		t.Errorf("addresses %v → %v, want %v → %v", c.RemoteAddr(), c.LocalAddr(), peer.LocalAddr(), ln.Addr())
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	go peer.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if _, err := c.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	c.Close()

	close(stop)
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("AcceptEach returned %v after stop, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AcceptEach did not return after stop")
	}
	// The listener is the caller's, still open.
	if nc, err := net.Dial("tcp", ln.Addr().String()); err != nil {
		t.Errorf("the listener closed with AcceptEach: %v", err)
	} else {
		nc.Close()
	}
}

// TestAcceptEachPauses checks that AcceptEach returns nil, having accepted
// no more, once accepted returns false, and leaves the next connection in
// the listener's queue.
func TestAcceptEachPauses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 2 {
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	calls := 0
	err = AcceptEach(ln.(*net.TCPListener), nil, -1, func(fd int, _ syscall.Sockaddr) bool {
		calls++
		syscall.Close(fd)
		return false
	})
	if err != nil || calls != 1 {
		t.Fatalf("AcceptEach returned %v after %d calls, want nil after 1", err, calls)
	}
	// The second connection waits for the next call.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatalf("the second connection: %v", err)
	}
	nc.Close()
}

// TestAcceptEachSetsSocketOptions checks the options of an accepted
// socket: TCP_NODELAY, and keep-alive probes every keepAlive (15 s for 0)
// or none when it is negative.
func TestAcceptEachSetsSocketOptions(t *testing.T) {
	for _, tc := range []struct {
		keepAlive time.Duration
		on        int
		idle      int
	}{
		{-1, 0, 0},
		{0, 1, 15},
		{30 * time.Second, 1, 30},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		nc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		var nodelay, on, idle int
		AcceptEach(ln.(*net.TCPListener), nil, tc.keepAlive, func(fd int, _ syscall.Sockaddr) bool {
			nodelay, _ = syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
			on, _ = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
			if on != 0 {
				idle, _ = syscall.GetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
			}
			syscall.Close(fd)
			return false
		})
		nc.Close()
		ln.Close()
		if nodelay == 0 || on != tc.on || idle != tc.idle {
			t.Errorf("keepAlive %v: TCP_NODELAY %d, SO_KEEPALIVE %d, TCP_KEEPIDLE %d; want 1, %d, %d",
				tc.keepAlive, nodelay, on, idle, tc.on, tc.idle)
		}
	}
}
