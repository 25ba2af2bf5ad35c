package websocket

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseReadAnswersPingsAndClose runs a server that only writes, as a
// feed does: CloseRead answers the client's pings and completes the
// client's closing handshake, and its context tells the writer to stop.
func TestCloseReadAnswersPingsAndClose(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		stopped := make(chan error, 1)
		srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, m.acceptOptions(nil))
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := c.CloseRead(context.Background())
			if _, _, err := c.Read(ctx); !errors.Is(err, errReadClosed) {
				t.Errorf("Read after CloseRead: %v", err)
			}
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					stopped <- ctx.Err()
					return
				case <-tick.C:
					if err := c.Write(ctx, MessageText, []byte("tick")); err != nil {
						// The closing handshake has begun: CloseRead's
						// context ends once the client's close frame is
						// answered.
						<-ctx.Done()
						stopped <- ctx.Err()
						return
					}
				}
			}
		}))
		c := srv.dial(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reading := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					reading <- err
					return
				}
			}
		}()
		for range 3 {
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("Ping of a server that only writes: %v", err)
			}
		}
		if err := c.Close(StatusNormalClosure, "done"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case <-stopped:
		case <-ctx.Done():
			t.Fatal("CloseRead's context did not end when the client closed")
		}
	})
}

// TestCloseReadRefusesData checks that a data message to a connection that
// called CloseRead closes it with StatusPolicyViolation.
func TestCloseReadRefusesData(t *testing.T) {
	t.Parallel()
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		<-c.CloseRead(context.Background()).Done()
	}))
	c := srv.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte("unexpected")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); CloseStatus(err) != StatusPolicyViolation {
		t.Fatalf("Read: %v; want close status %v", err, StatusPolicyViolation)
	}
}

// TestPingPongHooks checks OnPing and OnPong at both ends.
func TestPingPongHooks(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		var serverPings, clientPongs atomic.Int64
		srv := m.echo(t, &AcceptOptions{OnPing: func(p []byte) {
			if len(p) == 8 {
				serverPings.Add(1)
			}
		}})
		c := srv.dial(t, &DialOptions{OnPong: func(p []byte) {
			if len(p) == 8 {
				clientPongs.Add(1)
			}
		}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		go c.Read(ctx)
		for range 3 {
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The server saw each ping before answering it, the client each
		// pong before Ping returned.
		if s, p := serverPings.Load(), clientPongs.Load(); s != 3 || p != 3 {
			t.Fatalf("OnPing saw %d pings, OnPong %d pongs; want 3 and 3", s, p)
		}
	})
}
