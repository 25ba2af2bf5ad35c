package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/duplexws/websocket"
)

// A server ported from gorilla/websocket's Upgrader: CheckOrigin decides
// about the origins that OriginPatterns does not list, SelectSubprotocol
// picks the subprotocol from the request, OnRefuse answers refused
// handshakes in the application's own format, and OnPongConn acts on the
// connection that read a pong.
func ExampleAcceptOptions() {
	opts := &websocket.AcceptOptions{
		OriginPatterns: []string{"app.example.com"},
		CheckOrigin: func(r *http.Request) bool {
			return strings.HasSuffix(r.Header.Get("Origin"), ".partner.example")
		},
		SelectSubprotocol: func(r *http.Request, offered []string) string {
			for _, p := range offered {
				if p == "chat."+r.URL.Query().Get("version") {
					return p
				}
			}
			return ""
		},
		OnRefuse: func(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(err.Status)
			fmt.Fprintf(w, "{\"error\": %q}\n", http.StatusText(err.Status))
		},
		OnPongConn: func(c *websocket.Conn, payload []byte) {
			// For example, mark c alive in the application's table.
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return // OnRefuse has answered
		}
		defer c.CloseNow()
		c.Write(r.Context(), websocket.MessageText, []byte("speaking "+c.Subprotocol()))
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?version=v2"

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, origin := range []string{"https://shop.partner.example", "https://elsewhere.example"} {
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
			Origin:       origin,
			Subprotocols: []string{"chat.v1", "chat.v2"},
		})
		if err != nil {
			var body [64]byte
			n, _ := resp.Body.Read(body[:])
			fmt.Printf("%s: %d %s", origin, resp.StatusCode, body[:n])
			continue
		}
		_, p, _ := c.Read(ctx)
		fmt.Printf("%s: %s\n", origin, p)
		c.CloseNow()
	}
	// Output:
	// https://shop.partner.example: speaking chat.v2
	// https://elsewhere.example: 403 {"error": "Forbidden"}
}
