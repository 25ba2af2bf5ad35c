package websocket_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// A feed that only writes: CloseRead answers the client's pings and its
// close, and its context stops the writer when the client leaves.
func ExampleConn_CloseRead() {
	stopped := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer close(stopped)
		ctx := c.CloseRead(context.Background())
		for i := 0; ; i++ {
			if err := c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, "update %d", i)); err != nil {
				<-ctx.Done() // the closing handshake ends the context
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	for range 2 {
		_, msg, _ := c.Read(ctx)
		fmt.Println(string(msg))
	}
	go c.Read(ctx) // reads the server's answers while Close waits for them
	fmt.Println("close:", c.Close(websocket.StatusNormalClosure, "enough"))
	<-stopped
	// Output:
	// update 0
	// update 1
	// close: <nil>
}
