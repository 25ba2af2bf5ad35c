package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/duplexws/websocket"
)

// A server whose WebSocket upgrades Duplex reads itself; its pages are
// net/http's as before.
func ExampleServeUpgrades() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "a page") })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, p, err := c.Read(r.Context())
		if err == nil {
			c.Write(r.Context(), typ, p)
		}
		c.Close(websocket.StatusNormalClosure, "")
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- websocket.ServeUpgrades(srv, ln) }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	_, p, _ := c.Read(ctx)
	fmt.Println(string(p))
	c.CloseNow()

	srv.Shutdown(ctx)
	fmt.Println(errors.Is(<-served, http.ErrServerClosed))
	// Output:
	// hello
	// true
}

// An engine that accepts its connections itself: their sockets go straight
// onto its pollers, and a handler that accepts the upgrade hands the
// connection to the engine in place.
func ExampleEngine_ServeUpgrades() {
	e, err := websocket.NewEngine(&websocket.EngineOptions{
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			p, err := io.ReadAll(r)
			if err == nil {
				c.Write(context.Background(), typ, p)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			c.Close(websocket.StatusGoingAway, "shutting down")
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- e.ServeUpgrades(srv, ln) }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	_, p, _ := c.Read(ctx)
	fmt.Println(string(p))
	c.CloseNow()

	srv.Shutdown(ctx)
	fmt.Println(errors.Is(<-served, http.ErrServerClosed))
	// Output:
	// hello
	// true
}
