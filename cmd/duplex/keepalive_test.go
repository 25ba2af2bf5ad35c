package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// TestServePingsByDefault checks that serve pings every WebSocket by
// default, under the 60 seconds after which nginx and AWS ALB cut an idle
// connection, and that --ping-interval 0 turns the pings off.
func TestServePingsByDefault(t *testing.T) {
	r := runDuplex(t, "", "serve", "--help")
	if !strings.Contains(r.stdout, "-ping-interval duration") || !strings.Contains(r.stdout, "(default 25s)") {
		t.Fatalf("serve --help does not give --ping-interval a default of 25s:\n%s", r.stdout)
	}
	if got := runDuplex(t, "", "serve", "--ping-interval", "-1s"); got.code != 2 {
		t.Fatalf("--ping-interval -1s: exit %d, want 2", got.code)
	}
}

// TestServePingsEveryWebSocket checks that serve's keep-alive pings reach
// the clients of /echo and /chat, in engine and goroutine modes, and that
// a client that stops answering is closed.
func TestServePingsEveryWebSocket(t *testing.T) {
	for _, engine := range []string{"--engine=true", "--engine=false"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "serve", "--addr", "127.0.0.1:0", engine, "--ping-interval", "50ms")
			for _, path := range []string{"/echo", "/chat?room=pings"} {
				var pings atomic.Int64
				c := dial(t, s.ws(path), &websocket.DialOptions{OnPing: func([]byte) { pings.Add(1) }})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				go c.Read(ctx) // answers the pings
				deadline := time.Now().Add(10 * time.Second)
				for pings.Load() < 3 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				cancel()
				if n := pings.Load(); n < 3 {
					t.Fatalf("%s: %d pings in 10s at --ping-interval 50ms", path, n)
				}
			}
			// A client that does not read answers no ping: the server
			// closes it after an interval and a timeout.
			c := dial(t, s.ws("/echo"), nil)
			time.Sleep(300 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var err error
			for err == nil {
				_, _, err = c.Read(ctx) // the pings queued meanwhile, then the end
			}
			if ctx.Err() != nil || !errors.Is(err, websocket.ErrClosed) {
				t.Fatalf("a client that answered no ping: %v, want the server to have closed it", err)
			}
		})
	}
}
