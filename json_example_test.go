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

// A server that answers JSON requests with JSON, one message each.
func ExampleConn_ReadJSON() {
	type request struct{ A, B int }
	type reply struct{ Sum int }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			var req request
			if err := c.ReadJSON(r.Context(), &req); err != nil {
				return
			}
			if err := c.WriteJSON(r.Context(), reply{req.A + req.B}); err != nil {
				return
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
	c.WriteJSON(ctx, request{A: 2, B: 40})
	var rep reply
	if err := c.ReadJSON(ctx, &rep); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Sum)
	c.Close(websocket.StatusNormalClosure, "")
	// Output: 42
}
