package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// An echo server: every message comes back with its type, streamed so that
// large messages are not held whole.
func ExampleAccept() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Compression: &websocket.CompressionOptions{},
		})
		if err != nil {
			return // Accept has answered the request with the reason
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			wr, err := c.Writer(ctx, typ)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
			if err := wr.Close(); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	c.Close(websocket.StatusNormalClosure, "done")
	// Output: hello
}

// A client that sends a message, reads the answer and closes.
func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"greeting.v1"}})
		if err != nil {
			return
		}
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		c.Write(r.Context(), websocket.MessageText, []byte("hello, "+string(msg)))
		c.Close(websocket.StatusNormalClosure, "bye")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{
		Subprotocols: []string{"greeting.v1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println("subprotocol:", c.Subprotocol())
	c.Write(ctx, websocket.MessageText, []byte("gopher"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	_, _, err = c.Read(ctx)
	fmt.Println("closed with", websocket.CloseStatus(err))
	// Output:
	// subprotocol: greeting.v1
	// hello, gopher
	// closed with 1000 (normal closure)
}

// Sending one message to many connections, encoded once.
func ExampleNewPreparedMessage() {
	pm := websocket.NewPreparedMessage(websocket.MessageText, []byte(`{"price": 42}`))
	var subscribers []*websocket.Conn // the server's connections
	for _, c := range subscribers {
		c.WritePrepared(context.Background(), pm)
	}
	fmt.Println("sent to", len(subscribers))
	// Output: sent to 0
}

// An echo server whose idle connections hold no goroutine: the handler
// upgrades the request, hands the connection to an Engine and returns.
func ExampleEngine() {
	engine, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			w, err := c.Writer(context.Background(), typ)
			if err != nil {
				return
			}
			io.Copy(w, r) // streamed: a large message is never held whole
			w.Close()
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		if err := engine.Serve(c); err != nil {
			c.Close(websocket.StatusGoingAway, "shutting down") // Serve left c to us
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	c.Close(websocket.StatusNormalClosure, "done")
	// Output: hello
}
