package websocket

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCloseNowSendsTheCloseReply has the client close while the server's
// handler writes in a loop and calls CloseNow as soon as a write fails, as
// a handler with a deferred CloseNow does: the reader has claimed the
// reply to the client's close frame, so the write fails with the close
// error, and CloseNow must let that reply go out before it closes TCP. The
// client must read its own code echoed, never an abnormal closure.
func TestCloseNowSendsTheCloseReply(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, m.acceptOptions(nil))
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := c.CloseRead(context.Background())
			msg := make([]byte, 1024)
			for c.Write(ctx, MessageBinary, msg) == nil {
			}
		}))
		for range 20 {
			p := dialRaw(t, srv, "")
			p.frame(bitFIN|byte(opClose), closePayload(4001, "done"))
			if got := p.expectClose(); got != 4001 {
				t.Fatalf("server answered the close frame with %v, want 4001", got)
			}
			p.nc.Close()
		}
	}, plainTCP, plainTLS)
}

// TestCloseReplyThatCannotGoOutIsBounded has the client send its close
// frame and never read, while the server's handler writes large messages:
// the reply waits behind a write that cannot finish, and the connection
// must still end within the close timeout, not hang in a CloseNow that
// waits for the reply.
func TestCloseReplyThatCannotGoOutIsBounded(t *testing.T) {
	t.Parallel()
	const closeTimeout = 300 * time.Millisecond
	ended := make(chan struct{})
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{CloseTimeout: closeTimeout})
		if err != nil {
			return
		}
		defer close(ended)
		defer c.CloseNow()
		ctx := c.CloseRead(context.Background())
		msg := make([]byte, 1<<20)
		for c.Write(ctx, MessageBinary, msg) == nil {
		}
	}))
	p := dialRaw(t, srv, "")
	start := time.Now()
	p.frame(bitFIN|byte(opClose), closePayload(4001, "done"))
	select {
	case <-ended:
		if d := time.Since(start); d > closeTimeout+2*time.Second {
			t.Errorf("the handler ended %v after the close frame, want about the close timeout (%v)", d, closeTimeout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not end")
	}
}

// TestCloseSkipsUnreadMessages checks that Close, with no Read in progress,
// reads past the messages nobody read to the peer's close frame: whole
// frames, fragments and a compressed message alike.
func TestCloseSkipsUnreadMessages(t *testing.T) { run(t, testCloseSkipsUnreadMessages) }

func testCloseSkipsUnreadMessages(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	ctx := context.Background()
	for _, msg := range []string{"one", "two", strings.Repeat("three", 2000)} {
		if err := c.Write(ctx, MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close with two echoes unread: %v", err)
	}
}
