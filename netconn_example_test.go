package websocket_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// A line protocol written for net.Conn, carried over a WebSocket: the
// server greets each line, the client reads the answers as a stream.
func ExampleConn_NetConn() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		nc := c.NetConn(websocket.MessageText)
		defer nc.Close()
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			fmt.Fprintf(nc, "hello, %s\n", sc.Text())
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	nc := c.NetConn(websocket.MessageText)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(nc, "gopher\nworld\n")
	answers := bufio.NewReader(nc)
	for range 2 {
		line, _ := answers.ReadString('\n')
		fmt.Print(line)
	}
	// Output:
	// hello, gopher
	// hello, world
}
