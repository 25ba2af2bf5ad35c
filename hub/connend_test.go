package hub_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// TestSubscriberEndsWithEngineConn checks that a subscriber on a
// connection an Engine serves ends when the connection ends, with nothing
// published and no sub.Close in OnClose, and that the hub forgets it.
func TestSubscriberEndsWithEngineConn(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	subs := make(chan *hub.Subscriber, 1)
	e, err := websocket.NewEngine(&websocket.EngineOptions{
		OnOpen: func(c *websocket.Conn) any {
			sub, err := h.Subscribe(context.Background(), c, "news")
			if err != nil {
				t.Errorf("Subscribe: %v", err)
				return nil
			}
			subs <- sub
			return sub
		},
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			e.Serve(c)
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	sub := <-subs
	h.Publish(ctx, "news", hub.Message{Type: websocket.MessageText, Data: []byte("first")})
	if _, p, err := c.Read(ctx); err != nil || string(p) != "first" {
		t.Fatalf("read %q, %v", p, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	select {
	case <-sub.Done():
	case <-ctx.Done():
		t.Fatal("the subscriber outlived its connection")
	}
	if err := sub.Err(); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("Err is %v, want one matching websocket.ErrClosed", err)
	}
	if n := h.Stats().Subscribers; n != 0 {
		t.Fatalf("the hub still counts %d subscribers", n)
	}
}

// ctxConn is a fakeConn with a context, which ends as a connection does.
type ctxConn struct {
	*fakeConn
	ctx context.Context
}

func (c ctxConn) Context() context.Context { return c.ctx }

// TestSubscriberWatch checks the hub's side of a connection with a
// context: the subscriber ends with it, one that ends first lets go of it,
// and a connection that has ended already is refused.
func TestSubscriberWatch(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	ctx := context.Background()

	connCtx, end := context.WithCancel(ctx)
	sub, err := h.Subscribe(ctx, ctxConn{newFakeConn(), connCtx}, "t")
	if err != nil {
		t.Fatal(err)
	}
	end()
	<-sub.Done()
	if !errors.Is(sub.Err(), websocket.ErrClosed) {
		t.Fatalf("Err is %v, want one matching websocket.ErrClosed", sub.Err())
	}

	connCtx, end = context.WithCancel(ctx)
	defer end()
	sub, err = h.Subscribe(ctx, ctxConn{newFakeConn(), connCtx}, "t")
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
	end() // the subscriber's Err stays what Close made it
	if !errors.Is(sub.Err(), hub.ErrSubscriberClosed) {
		t.Fatalf("Err is %v, want ErrSubscriberClosed", sub.Err())
	}

	connCtx, end = context.WithCancel(ctx)
	end()
	if _, err := h.Subscribe(ctx, ctxConn{newFakeConn(), connCtx}, "t"); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("Subscribe of a connection that had ended: %v, want an error matching websocket.ErrClosed", err)
	}
	waitUntil(t, func() bool { return h.Stats().Subscribers == 0 }, "the hub to forget every subscriber")
}
