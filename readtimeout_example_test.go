package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// Polling an idle connection: a Read whose context ends before a message
// arrives returns the context's error and leaves the connection usable.
func ExampleConn_Read_idleTimeout() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		time.Sleep(50 * time.Millisecond) // quiet for a while
		c.Write(r.Context(), websocket.MessageText, []byte("at last"))
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	polls := 0
	for {
		poll, stop := context.WithTimeout(ctx, 5*time.Millisecond)
		_, msg, err := c.Read(poll)
		stop()
		if errors.Is(err, context.DeadlineExceeded) {
			polls++ // nothing yet: do other work, then poll again
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(msg), "after more than one poll:", polls > 1)
		break
	}
	// Output: at last after more than one poll: true
}
