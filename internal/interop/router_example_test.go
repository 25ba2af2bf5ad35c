package interop_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/duplexws/websocket"
)

// Accept inside a chi router, behind middleware that wraps the
// ResponseWriter: a route with a URL parameter upgrades to a WebSocket, and
// the handler reads the parameter and the middleware's request ID as any
// chi handler does. The module's README quotes this example.
func Example_chiRouter() {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer)
	r.Use(func(next http.Handler) http.Handler { // a status-logging middleware
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
		})
	})
	r.Get("/rooms/{room}", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		defer c.CloseNow()
		room := chi.URLParam(r, "room")
		hasID := middleware.GetReqID(r.Context()) != ""
		c.Write(r.Context(), websocket.MessageText, []byte(fmt.Sprintf("welcome to %s (request ID: %v)", room, hasID)))
		c.Close(websocket.StatusNormalClosure, "")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/rooms/gophers", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	_, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	// Output: welcome to gophers (request ID: true)
}
