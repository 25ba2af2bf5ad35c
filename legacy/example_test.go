package legacy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/legacy"
)

// textConn is what an echo handler needs; both *websocket.Conn and
// *legacy.Conn have it, so one handler serves both protocols.
type textConn interface {
	Read(ctx context.Context) (websocket.MessageType, []byte, error)
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	CloseNow() error
}

func echo(ctx context.Context, c textConn) {
	defer c.CloseNow()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}

// This server speaks hixie-76 to the old clients that ask for it and
// RFC 6455 to everyone else, on the same URL.
func ExampleAccept() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if legacy.IsHixie76(r) {
			c, err := legacy.Accept(w, r, nil)
			if err != nil {
				return // Accept has answered the client
			}
			echo(r.Context(), c)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		echo(r.Context(), c)
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx := context.Background()

	old, err := legacy.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	old.Write(ctx, websocket.MessageText, []byte("hello over hixie-76"))
	_, p, _ := old.Read(ctx)
	fmt.Println(string(p))
	old.Close(websocket.StatusNormalClosure, "")

	cur, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cur.Write(ctx, websocket.MessageText, []byte("hello over RFC 6455"))
	_, p, _ = cur.Read(ctx)
	fmt.Println(string(p))
	cur.Close(websocket.StatusNormalClosure, "")
	// Output:
	// hello over hixie-76
	// hello over RFC 6455
}

// Dial talks to a hixie-76 server, here one that echoes.
func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := legacy.Accept(w, r, &legacy.AcceptOptions{Subprotocols: []string{"chat"}})
		if err != nil {
			return
		}
		echo(r.Context(), c)
	}))
	defer srv.Close()
	ctx := context.Background()

	c, err := legacy.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/chat", &legacy.DialOptions{Subprotocol: "chat"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	fmt.Println("subprotocol:", c.Subprotocol())
	if err := c.Write(ctx, websocket.MessageBinary, []byte{1}); err != nil {
		fmt.Println(err)
	}
	c.Write(ctx, websocket.MessageText, []byte("hi"))
	_, p, _ := c.Read(ctx)
	fmt.Println(string(p))
	// Output:
	// subprotocol: chat
	// legacy: hixie-76 cannot send binary messages
	// hi
}
