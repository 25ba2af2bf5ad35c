package websocket

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestStallTimeout checks that a client that sends part of a message and
// goes silent, or dribbles a frame a byte at a time, is failed with 1008
// after the stall timeout, in goroutine and engine modes, and that time
// the server itself takes inside a message never counts.
func TestStallTimeout(t *testing.T) {
	const stall = 200 * time.Millisecond
	run(t, func(t *testing.T, m mode) {
		slow := func(c *Conn, typ MessageType, r io.Reader) {
			time.Sleep(3 * stall) // the server's own time, inside the message
			echoMessage(c, typ, r)
		}
		srv := m.start(t, handler{Accept: &AcceptOptions{StallTimeout: stall}, OnMessage: slow})

		t.Run("half a message, then silence", func(t *testing.T) {
			p := dialRaw(t, srv, "")
			start := time.Now()
			p.frame(byte(opText), []byte("the first fragment")) // no FIN
			if code := p.expectClose(); code != StatusPolicyViolation {
				t.Fatalf("close code %d, want 1008", code)
			}
			if d := time.Since(start); d < stall || d > 4*stall+time.Second {
				t.Errorf("closed after %v, want between %v and %v", d, stall, 4*stall+time.Second)
			}
			var ce *CloseError
			if end := srv.ended(t); !errors.As(end.err, &ce) || ce.Code != StatusPolicyViolation {
				t.Errorf("the server's connection ended with %v, want a 1008", end.err)
			}
		})

		t.Run("a frame dribbled a byte at a time", func(t *testing.T) {
			p := dialRaw(t, srv, "")
			start := time.Now()
			h := appendFrameHeader(nil, frameHeader{fin: true, op: opBinary, masked: true, length: 1000, key: 1})
			if _, err := p.nc.Write(h); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			dribbled := make(chan struct{})
			go func() {
				defer close(dribbled)
				tick := time.NewTicker(stall / 4)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := p.nc.Write([]byte{'x'}); err != nil {
							return
						}
					}
				}
			}()
			code := p.expectClose()
			close(stop)
			<-dribbled
			if code != StatusPolicyViolation {
				t.Fatalf("close code %d, want 1008", code)
			}
			if d := time.Since(start); d < stall || d > 4*stall+time.Second {
				t.Errorf("closed after %v", d)
			}
			srv.ended(t)
		})

		t.Run("the server's time does not count", func(t *testing.T) {
			c := srv.dial(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			msg := make([]byte, 64<<10) // several frames' worth of reads
			if err := c.Write(ctx, MessageBinary, msg); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Read(ctx); err != nil || len(p) != len(msg) {
				t.Fatalf("echo after a slow OnMessage: %d bytes, %v", len(p), err)
			}
			c.Close(StatusNormalClosure, "")
		})
	}, plainTCP, plainTLS, plainEngine, deflateEngine)
}
