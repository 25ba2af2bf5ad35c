package netpoll

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// attached returns a Conn on the server end of a loopback TCP connection,
// attached to a poller of its own under id 1, and the client end. The
// events the poller reported are counted in hangups.
func attached(t *testing.T) (c *Conn, peer net.Conn, hangups *atomic.Int32) {
	t.Helper()
	sc, peer := tcpPair(t)
	c, hangups = new(Conn), new(atomic.Int32)
	p, err := NewPoller(func(id uint64, ev Events) {
		if id != 1 {
			t.Errorf("an event for id %d", id)
			return
		}
		if ev.Hangup() {
			hangups.Add(1)
		}
		c.Notify(ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Attach(c, 1, sc); err != nil {
		t.Fatal(err)
	}
	sc.Close()
	t.Cleanup(func() { c.Close() })
	return c, peer, hangups
}

// TestConnEcho reads what the peer sends as the poller reports it, and
// writes back a header and payload whole.
func TestConnEcho(t *testing.T) {
	t.Parallel()
	c, peer, _ := attached(t)
	if got, want := c.RemoteAddr().String(), peer.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr = %s, want %s", got, want)
	}
	if got, want := c.LocalAddr().String(), peer.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr = %s, want %s", got, want)
	}
	buf := make([]byte, 5)
	if _, err := c.ReadNow(buf); err == nil {
		t.Fatal("ReadNow of an empty socket did not say EAGAIN")
	}
	go func() {
		time.Sleep(20 * time.Millisecond) // Read waits for the poller
		peer.Write([]byte("hello"))
	}()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("Read %q, %v", buf, err)
	}
	if err := c.WriteVec([]byte("he"), []byte("llo")); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("the peer read %q, %v", buf, err)
	}
}

// TestConnDeadlines checks a read past its deadline fails with
// os.ErrDeadlineExceeded, and moving the deadline into the past wakes a
// waiting read.
func TestConnDeadlines(t *testing.T) {
	t.Parallel()
	c, _, _ := attached(t)
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("Read returned after %v, before its deadline", d)
	}
	c.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(b[:])
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deadline in the past did not wake the read")
	}
}

// TestConnCloseWakesCalls checks that Close ends a waiting read and a write
// blocked on a full socket, and that the calls after it fail as
// net.TCPConn's do.
func TestConnCloseWakesCalls(t *testing.T) {
	t.Parallel()
	c, _, _ := attached(t)
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		read <- err
	}()
	wrote := make(chan error, 1)
	go func() {
		_, err := c.Write(make([]byte, 64<<20)) // more than loopback's buffers hold
		wrote <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan error{read, wrote} {
		select {
		case err := <-ch:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("a call waiting at Close returned %v, want net.ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not wake a waiting call")
		}
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a second Close = %v, want net.ErrClosed", err)
	}
}

// TestPollerHangup checks that the peer's end is reported as a hang-up,
// and a read then returns io.EOF.
func TestPollerHangup(t *testing.T) {
	t.Parallel()
	c, peer, hangups := attached(t)
	peer.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read after the peer closed = %v, want io.EOF", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for hangups.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if hangups.Load() == 0 {
		t.Fatal("the poller reported no hang-up")
	}
}

// TestConnReadBorrowed checks ReadBorrowed: it waits for the poller, then
// returns a buffer of the size asked holding what arrived; a deadline that
// passes and the peer's end return no buffer.
func TestConnReadBorrowed(t *testing.T) {
	t.Parallel()
	c, peer, _ := attached(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if buf, _, err := c.ReadBorrowed(4096); buf != nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadBorrowed past its deadline = %v, %v; want no buffer and os.ErrDeadlineExceeded", buf, err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	go func() {
		time.Sleep(20 * time.Millisecond) // ReadBorrowed waits for the poller
		peer.Write([]byte("hello"))
	}()
	buf, n, err := c.ReadBorrowed(4096)
	if err != nil || buf == nil || cap(*buf) < 4096 || string((*buf)[:n]) != "hello" {
		t.Fatalf("ReadBorrowed = %d bytes, %v; want a 4096-byte buffer holding hello", n, err)
	}
	peer.Close()
	if buf, _, err := c.ReadBorrowed(4096); buf != nil || err != io.EOF {
		t.Fatalf("ReadBorrowed after the peer's end = %v, %v; want no buffer and io.EOF", buf, err)
	}
}
