package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEngineCallsInOnMessage checks what OnMessage may call on its own
// connection: Ping works once the message has been read (the peer's pong
// comes back while OnMessage waits), and fails at once when the message, or
// the next one, stands before the pong; Read and Reader fail at once, since
// the engine owns the reads. Over TCP the engine serves the connection from
// its epoll, over TLS from a goroutine of its own: both behave alike.
func TestEngineCallsInOnMessage(t *testing.T) {
	run(t, testEngineCallsInOnMessage, plainEngine, deflateEngine, plainEngTLS, deflateEngTLS)
}

func testEngineCallsInOnMessage(t *testing.T, m mode) {
	s := m.start(t, handler{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		first := make([]byte, 4)
		io.ReadFull(r, first)
		var err error
		start := time.Now()
		switch string(first) {
		case "ping":
			io.Copy(io.Discard, r)
			err = c.Ping(ctx)
		case "pin_": // the message is not read to its end
			err = c.Ping(ctx)
		case "read":
			_, _, err = c.Read(ctx)
		case "rdr_":
			_, _, err = c.Reader(ctx)
		}
		c.Write(ctx, MessageText, []byte(fmt.Sprintf("%v|%v", err, time.Since(start) < time.Second)))
	}})
	c := s.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(msg string) (string, bool) {
		t.Helper()
		if err := c.Write(ctx, MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, quick, _ := strings.Cut(string(b), "|")
		return res, quick == "true"
	}
	for range 3 {
		if res, quick := call("ping"); res != "<nil>" || !quick {
			t.Fatalf("Ping in OnMessage: %s (quick %v), want <nil> at once", res, quick)
		}
	}
	if res, quick := call("pin_ and a message longer than the frame's first read"); !quick || !strings.Contains(res, ErrPongBehindMessage.Error()) {
		t.Fatalf("Ping in OnMessage before its message was read: %s (quick %v), want ErrPongBehindMessage at once", res, quick)
	}
	for _, msg := range []string{"read", "rdr_"} {
		if res, quick := call(msg); !quick || !strings.Contains(res, ErrReadOwned.Error()) {
			t.Fatalf("%s in OnMessage: %s (quick %v), want ErrReadOwned at once", msg, res, quick)
		}
	}
	// The connection is intact after each of them.
	if res, _ := call("ping"); res != "<nil>" {
		t.Fatalf("Ping after the refusals: %s", res)
	}
	if err := c.Close(StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestEngineReadRefused checks that Read and Reader on a connection an
// Engine serves fail at once with an error matching ErrReadOwned, from any
// goroutine.
func TestEngineReadRefused(t *testing.T) {
	t.Parallel()
	got := make(chan error, 2)
	e, err := NewEngine(&EngineOptions{OnMessage: func(*Conn, MessageType, io.Reader) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	s := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		e.Serve(c)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err = c.Read(ctx)
		got <- err
		_, _, err = c.Reader(ctx)
		got <- err
	}))
	s.dial(t, nil)
	for range 2 {
		if err := <-got; !errors.Is(err, ErrReadOwned) {
			t.Fatalf("read on an engine's connection: %v, want ErrReadOwned", err)
		}
	}
}

// TestEnginePingInOnOpen checks that a Ping in OnOpen, before the engine
// reads the connection, returns with the peer's pong.
func TestEnginePingInOnOpen(t *testing.T) {
	run(t, testEnginePingInOnOpen, plainEngine, deflateEngine, plainEngTLS, deflateEngTLS)
}

func testEnginePingInOnOpen(t *testing.T, m mode) {
	s := m.start(t, handler{Engine: &EngineOptions{
		OnOpen: func(c *Conn) any {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			err := c.Ping(ctx)
			c.Write(ctx, MessageText, []byte(fmt.Sprintf("%v|%v", err, time.Since(start) < time.Second)))
			return nil
		},
		OnMessage: func(*Conn, MessageType, io.Reader) {},
	}})
	c := s.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "<nil>|true" {
		t.Fatalf("Ping in OnOpen: %s, want <nil> at once", b)
	}
}
