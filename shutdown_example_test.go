package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/duplexws/websocket"
)

// A server that shuts down gracefully: its WebSockets are closed with 1001
// (going away) and their handlers have returned when Shutdown does.
func ExampleServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(context.Background())
			if err != nil {
				return
			}
			c.Write(context.Background(), typ, msg)
		}
	})
	srv := &http.Server{Handler: mux}
	ws := websocket.NewServer(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	closed := make(chan error)
	go func() { // the client reads, so it answers the server's close frame
		_, _, err := c.Read(ctx)
		closed <- err
	}()

	if err := ws.Shutdown(ctx); err != nil { // on SIGTERM, say
		log.Fatal(err)
	}
	fmt.Println("client:", websocket.CloseStatus(<-closed))
	// Output: client: 1001 (going away)
}
