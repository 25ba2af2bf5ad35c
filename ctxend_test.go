package websocket

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// ctxOp is one call that takes a context, made on a client connection to
// an echo server: what it sends comes back.
type ctxOp struct {
	name string
	do   func(ctx context.Context, c *Conn) error
}

var ctxOps = []ctxOp{
	{"Read", func(ctx context.Context, c *Conn) error {
		if err := c.Write(context.Background(), MessageText, []byte("read")); err != nil {
			return err
		}
		_, _, err := c.Read(ctx)
		return err
	}},
	{"Reader", func(ctx context.Context, c *Conn) error {
		if err := c.Write(context.Background(), MessageText, []byte("reader")); err != nil {
			return err
		}
		_, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		return err
	}},
	{"Write", func(ctx context.Context, c *Conn) error {
		if err := c.Write(ctx, MessageBinary, []byte("write")); err != nil {
			return err
		}
		_, _, err := c.Read(context.Background())
		return err
	}},
	{"Writer", func(ctx context.Context, c *Conn) error {
		w, err := c.Writer(ctx, MessageBinary)
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("writer")); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		_, _, err = c.Read(context.Background())
		return err
	}},
	{"Ping", func(ctx context.Context, c *Conn) error {
		// A Read sees the pong; it is called off once the Ping returns,
		// while it waits for a message, which leaves the connection as
		// it is.
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Read(rctx)
		}()
		err := c.Ping(ctx)
		stop()
		<-done
		return err
	}},
}

// TestContextEndAfterCall checks the everyday idiom of a context per call
// (defer cancel(), a request's context that ends): once a call has
// returned, the end of its context touches nothing, and every later call on
// the connection, the closing handshake first of all, works as if that
// context had never been.
func TestContextEndAfterCall(t *testing.T) { run(t, testContextEndAfterCall) }

func testContextEndAfterCall(t *testing.T, m mode) {
	s := m.echo(t, nil)
	then := []ctxOp{
		{"Close", func(ctx context.Context, c *Conn) error { return c.Close(StatusNormalClosure, "") }},
		{"Write", ctxOps[2].do},
		{"Ping", ctxOps[4].do},
	}
	for _, op := range ctxOps {
		for _, next := range then {
			for _, async := range []bool{false, true} {
				name := fmt.Sprintf("%s/then-%s/async=%v", op.name, next.name, async)
				// Repeated: a cancel on another goroutine races with the
				// call that follows it.
				for i := range 8 {
					c := s.dial(t, nil)
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					if err := op.do(ctx, c); err != nil {
						t.Fatalf("%s: %s: %v", name, op.name, err)
					}
					if async {
						go cancel()
					} else {
						cancel()
					}
					start := time.Now()
					if err := next.do(context.Background(), c); err != nil {
						t.Fatalf("%s (round %d): %s after the context of %s ended: %v", name, i, next.name, op.name, err)
					}
					if d := time.Since(start); d > 2*time.Second {
						t.Fatalf("%s (round %d): %s took %v", name, i, next.name, d)
					}
					c.CloseNow()
				}
			}
		}
	}
}

// TestContextEndedBeforeCall checks that a call given a context that has
// ended already fails with the context's error and leaves the connection
// usable, for the calls that have done nothing yet when they fail.
func TestContextEndedBeforeCall(t *testing.T) { run(t, testContextEndedBeforeCall) }

func testContextEndedBeforeCall(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range ctxOps {
		if err := op.do(ended, c); err == nil {
			t.Errorf("%s with an ended context: no error", op.name)
		}
		if c.ended.Ended() {
			t.Fatalf("%s with an ended context closed the connection", op.name)
		}
	}
	// What follows arrives intact: an ended context fed nothing to the
	// compressor, whose context the peer shares.
	for _, msg := range []string{"write", "write again", "write write write"} {
		if err := c.Write(context.Background(), MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		for {
			_, got, err := c.Read(context.Background())
			if err != nil {
				t.Fatalf("Read after calls with an ended context: %v", err)
			}
			if string(got) == msg {
				break
			}
			// An echo of a message sent before, by the calls above.
			if !strings.HasPrefix(string(got), "read") && string(got) != "write" {
				t.Fatalf("echo %q, want %q", got, msg)
			}
		}
	}
	if err := c.Close(StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
