package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestReadTimeoutKeepsConn polls an idle connection with short read
// contexts: each ends before a message arrives and returns the context's
// error, and the connection goes on working in both directions.
func TestReadTimeoutKeepsConn(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		fromServer := make(chan string, 1)
		srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, m.acceptOptions(nil))
			if err != nil {
				return
			}
			defer c.CloseNow()
			select {
			case msg := <-fromServer:
				if c.Write(context.Background(), MessageText, []byte(msg)) != nil {
					return
				}
			case <-r.Context().Done():
				return
			}
			for {
				typ, p, err := c.Read(context.Background())
				if err != nil || c.Write(context.Background(), typ, p) != nil {
					return
				}
			}
		}))
		c := srv.dial(t, nil)
		for i := range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			_, _, err := c.Read(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("idle Read %d: %v; want the context's deadline", i, err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		fromServer <- "after the timeouts"
		if _, p, err := c.Read(ctx); err != nil || string(p) != "after the timeouts" {
			t.Fatalf("Read after timeouts = %q, %v", p, err)
		}
		if err := c.Write(ctx, MessageBinary, []byte("echo me")); err != nil {
			t.Fatalf("Write after timeouts: %v", err)
		}
		if _, p, err := c.Read(ctx); err != nil || string(p) != "echo me" {
			t.Fatalf("echo after timeouts = %q, %v", p, err)
		}
		if err := c.Close(StatusNormalClosure, ""); err != nil {
			t.Fatalf("Close after timeouts: %v", err)
		}
	})
}

// rawServerPipe returns a client Conn over loopback TCP whose other end the
// test writes server frames to by hand.
func rawServerPipe(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	go io.Copy(io.Discard, a) // pongs and close frames go nowhere
	return newConn(newConnReader(b, 0), true, connConfig{}), a
}

func serverFrame(op opcode, fin bool, payload string) []byte {
	return append(appendFrameHeader(nil, frameHeader{fin: fin, op: op, length: int64(len(payload))}), payload...)
}

// TestReadTimeoutInsidePartialFrame ends read contexts while only part of
// the next frame has arrived, a data frame's header or a whole ping's
// header and half its payload: nothing is lost, and the frame is read whole
// once the rest arrives.
func TestReadTimeoutInsidePartialFrame(t *testing.T) {
	t.Parallel()
	c, server := rawServerPipe(t)
	ping := serverFrame(opPing, true, "are you there")
	msg := serverFrame(opText, true, "hello")
	pieces := [][]byte{ping[:1], ping[1:5], ping[5:], msg[:1], msg[1:]}
	read := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, p, err := c.Read(ctx)
		return string(p), err
	}
	for i, piece := range pieces[:len(pieces)-1] {
		if _, err := server.Write(piece); err != nil {
			t.Fatal(err)
		}
		if p, err := read(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read with piece %d of the frames sent: %q, %v; want the context's deadline", i, p, err)
		}
	}
	server.Write(pieces[len(pieces)-1])
	if p, err := read(); err != nil || p != "hello" {
		t.Fatalf("Read once the frame is whole: %q, %v", p, err)
	}
}

// TestReadTimeoutInsideMessageFails ends a read context when a message has
// begun to arrive and its end has not: the connection is closed.
func TestReadTimeoutInsideMessageFails(t *testing.T) {
	t.Parallel()
	c, server := rawServerPipe(t)
	server.Write(serverFrame(opText, false, "first half, "))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read of a message that never ends: %v; want the context's deadline", err)
	}
	fresh, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_, _, err := c.Read(fresh)
	if !errors.Is(err, ErrClosed) || CloseStatus(err) != StatusAbnormalClosure {
		t.Fatalf("Read after a timeout inside a message: %v; want the connection closed (1006)", err)
	}
	if err := c.Write(fresh, MessageText, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after a timeout inside a message: %v; want ErrClosed", err)
	}
}
