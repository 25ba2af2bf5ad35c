//go:build unix

package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/wsconn"
)

// rawPair returns a RawIO for the server end of a loopback TCP connection,
// whose borrowed reads borrow size bytes, that end, and the client end.
func rawPair(t *testing.T, size int) (*RawIO, *net.TCPConn, *net.TCPConn) {
	t.Helper()
	sc, peer := tcpPair(t)
	r := NewRawIO(sc, size)
	if r == nil {
		t.Fatal("NewRawIO of a TCP connection is nil")
	}
	// Every test ends by itself; a deadline keeps a broken one from hanging.
	sc.SetDeadline(time.Now().Add(20 * time.Second))
	return r, sc, peer
}

// TestNewRawIOWithoutDescriptor: a connection with no descriptor has no
// RawIO, and is read through its net.Conn.
func TestNewRawIOWithoutDescriptor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if r := NewRawIO(a, 4096); r != nil {
		t.Fatal("NewRawIO of an in-memory pipe is not nil")
	}
}

// TestRawIORead reads into the caller's slice, waiting for the bytes to
// come, and says io.EOF at the peer's end.
func TestRawIORead(t *testing.T) {
	t.Parallel()
	r, _, peer := rawPair(t, 4096)
	go func() {
		time.Sleep(20 * time.Millisecond) // the read waits in the poller
		peer.Write([]byte("hello"))
		peer.CloseWrite()
	}()
	var got []byte
	p := make([]byte, 3)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("Read: %d, %v", n, err)
		}
	}
	if string(got) != "hello" {
		t.Fatalf("read %q", got)
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read of no bytes: %d, %v", n, err)
	}
}

// TestRawIOReadBorrowed reads into a buffer borrowed only once bytes came,
// and hands back none when the wait ends without bytes: at the deadline
// (the socket said EAGAIN first) and at the peer's end.
func TestRawIOReadBorrowed(t *testing.T) {
	t.Parallel()
	r, sc, peer := rawPair(t, 4096)
	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf, n, err := r.ReadBorrowed()
	if err != nil || buf == nil || string((*buf)[:n]) != "hello" {
		t.Fatalf("ReadBorrowed: %v, %d, %v", buf, n, err)
	}
	if len(*buf) != 4096 || cap(*buf) != 4096 {
		t.Errorf("the borrowed buffer has length %d and capacity %d, want 4096", len(*buf), cap(*buf))
	}
	wsconn.PutBuffer(buf)

	sc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	buf, n, err = r.ReadBorrowed()
	if !errors.Is(err, os.ErrDeadlineExceeded) || buf != nil || n != 0 {
		t.Fatalf("ReadBorrowed of an empty socket past its deadline: %v, %d, %v", buf, n, err)
	}
	if r.buf != nil {
		t.Fatal("the buffer borrowed for a read that found nothing was kept")
	}

	sc.SetReadDeadline(time.Now().Add(20 * time.Second))
	peer.CloseWrite()
	buf, n, err = r.ReadBorrowed()
	if err != io.EOF || buf != nil || n != 0 {
		t.Fatalf("ReadBorrowed at the peer's end: %v, %d, %v", buf, n, err)
	}
}

// socketPair returns the two ends of a Unix stream socket pair as
// net.Conns, the first with a send buffer of sndbuf bytes.
func socketPair(t *testing.T, sndbuf int) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetsockoptInt(fds[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, sndbuf); err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conns[i].Close() })
		// Every test ends by itself; a deadline keeps a broken one from hanging.
		conns[i].SetDeadline(time.Now().Add(20 * time.Second))
	}
	return conns[0], conns[1]
}

// TestRawIOWriteVecPartial writes a header and a payload far larger than
// the socket's send buffer, made small, while the peer reads slowly: the
// kernel takes them in many partial writes, WriteVec waits in the poller
// between them, and every byte arrives once, in order.
func TestRawIOWriteVecPartial(t *testing.T) {
	t.Parallel()
	w, peer := socketPair(t, 4096)
	r := NewRawIO(w, 4096)
	if r == nil {
		t.Fatal("NewRawIO of a Unix socket is nil")
	}
	hdr := []byte("header:")
	p := make([]byte, 1<<20)
	for i := range p {
		p[i] = byte(i * 7 / 5)
	}
	wrote := make(chan error, 1)
	go func() { wrote <- r.WriteVec(hdr, p) }()
	got := make([]byte, 0, len(hdr)+len(p))
	chunk := make([]byte, 1000)
	for len(got) < cap(got) {
		n, err := peer.Read(chunk)
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", len(got), err)
		}
		got = append(got, chunk[:n]...)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(hdr)], hdr) || !bytes.Equal(got[len(hdr):], p) {
		t.Fatal("the bytes read are not the header and payload written")
	}
	for _, v := range [][2]string{{"", "only"}, {"alone", ""}, {"", ""}} {
		if err := r.WriteVec([]byte(v[0]), []byte(v[1])); err != nil {
			t.Fatalf("WriteVec(%q, %q): %v", v[0], v[1], err)
		}
	}
	if _, err := io.ReadFull(peer, chunk[:len("onlyalone")]); err != nil || string(chunk[:9]) != "onlyalone" {
		t.Fatalf("read %q, %v", chunk[:9], err)
	}
}

// TestRawIOWriteVecReset: once the peer reset the connection, a read
// says so and a write fails with the system's error, each time.
func TestRawIOWriteVecReset(t *testing.T) {
	t.Parallel()
	r, _, peer := rawPair(t, 4096)
	peer.SetLinger(0) // closing resets the connection
	peer.Close()
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Read of a reset connection: %v, want ECONNRESET", err)
	}
	for range 2 {
		err := r.WriteVec([]byte("hdr"), []byte("payload"))
		var se *os.SyscallError
		if !errors.As(err, &se) || !(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("WriteVec to a reset connection: %v, want a write error of EPIPE or ECONNRESET", err)
		}
	}
}

// TestRawIOAllocs: once its functions are bound, a RawIO allocates
// nothing to read or to write.
func TestRawIOAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	r, _, peer := rawPair(t, 4096)
	msg, p := []byte("hello"), make([]byte, 16)
	round := func() {
		if err := r.WriteVec(msg[:2], msg[2:]); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, p[:5]); err != nil {
			t.Fatal(err)
		}
		peer.Write(msg)
		if n, err := r.Read(p); err != nil || n != 5 {
			t.Fatalf("Read: %d, %v", n, err)
		}
		peer.Write(msg)
		buf, n, err := r.ReadBorrowed()
		if err != nil || n != 5 {
			t.Fatalf("ReadBorrowed: %d, %v", n, err)
		}
		wsconn.PutBuffer(buf)
	}
	round() // binds the functions and fills the pool
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Errorf("a read and a write allocated %v times", n)
	}
}
