package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// netConnServer serves a NetConn that echoes the byte stream with io.Copy.
func netConnServer(t *testing.T, m mode) *testServer {
	return m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, m.acceptOptions(nil))
		if err != nil {
			return
		}
		defer c.CloseNow()
		nc := c.NetConn(MessageBinary)
		io.Copy(nc, nc)
		nc.Close()
	}))
}

func TestNetConnStream(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		c := netConnServer(t, m).dial(t, nil)
		nc := c.NetConn(MessageText)
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		done := make(chan error, 1)
		const lines = 500
		go func() {
			w := bufio.NewWriterSize(nc, 100) // writes of up to 100 bytes, across lines
			for i := range lines {
				fmt.Fprintf(w, "line %d of the stream\n", i)
			}
			done <- w.Flush()
		}()
		sc := bufio.NewScanner(nc)
		for i := range lines {
			if !sc.Scan() {
				t.Fatalf("line %d: %v", i, sc.Err())
			}
			if want := fmt.Sprintf("line %d of the stream", i); sc.Text() != want {
				t.Fatalf("got %q, want %q", sc.Text(), want)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := nc.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := nc.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after Close: %v; want net.ErrClosed", err)
		}
	})
}

func TestNetConnReadDeadline(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		c := netConnServer(t, m).dial(t, nil)
		nc := c.NetConn(MessageBinary)
		buf := make([]byte, 16)

		// A deadline that passes on an idle connection, set before the
		// Read and while it is blocked.
		nc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := nc.Read(buf); !isTimeout(err) {
			t.Fatalf("Read past its deadline: %v; want a timeout", err)
		}
		nc.SetReadDeadline(time.Time{})
		blocked := make(chan error, 1)
		go func() {
			_, err := nc.Read(buf)
			blocked <- err
		}()
		time.Sleep(20 * time.Millisecond) // let the Read block
		nc.SetReadDeadline(time.Now())
		select {
		case err := <-blocked:
			if !isTimeout(err) {
				t.Fatalf("blocked Read after SetReadDeadline(now): %v; want a timeout", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a blocked Read did not see the deadline set while it waited")
		}

		// The connection is still usable.
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write([]byte("still there")); err != nil {
			t.Fatal(err)
		}
		if n, err := io.ReadFull(nc, buf[:11]); err != nil || string(buf[:n]) != "still there" {
			t.Fatalf("echo after timeouts: %q, %v", buf[:n], err)
		}
	})
}

func TestNetConnWriteDeadline(t *testing.T) {
	t.Parallel()
	c := netConnServer(t, plainTCP).dial(t, nil)
	nc := c.NetConn(MessageBinary)
	nc.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := nc.Write([]byte("x")); !isTimeout(err) {
		t.Fatalf("Write past its deadline: %v; want a timeout", err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte("y")); err != nil {
		t.Fatalf("Write once the deadline moved: %v", err)
	}
	var b [1]byte
	if _, err := io.ReadFull(nc, b[:]); err != nil || b[0] != 'y' {
		t.Fatalf("echo: %q, %v", b, err)
	}
}

// TestNetConnEOF checks that a normal close by the peer reads as io.EOF.
func TestNetConnEOF(t *testing.T) {
	t.Parallel()
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), MessageBinary, []byte("all of it"))
		c.Close(StatusNormalClosure, "")
	}))
	c := srv.dial(t, nil)
	nc := c.NetConn(MessageBinary)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(nc)
	if err != nil || string(got) != "all of it" {
		t.Fatalf("ReadAll = %q, %v; want the message and a clean end", got, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}
