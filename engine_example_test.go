package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
)

// A chat room on an Engine. Each connection's state is a member, made by
// OnOpen and named by its first message; every message goes to everyone in
// the room who has named itself, through Conns; OnClose says who left; Shutdown closes the room
// and returns once every member's OnClose has run. No map of connections,
// no lock: the engine keeps both.
func ExampleEngine_chat() {
	type member struct {
		name   string       // set by the member's first message; read by its own callbacks only
		joined atomic.Int64 // the room's count of joins when the member named itself; 0 before
	}
	var room *websocket.Engine
	var joins atomic.Int64
	// say writes text to every member who had joined when it was said:
	// members are served on several goroutines, and one who joins while
	// another's words are still going round does not get them.
	say := func(text string) {
		upTo := joins.Load()
		for c := range room.Conns() {
			if j := room.State(c).(*member).joined.Load(); j == 0 || j > upTo {
				continue // not yet named, or named after text was said
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.Write(ctx, websocket.MessageText, []byte(text))
			cancel()
		}
	}
	room, err := websocket.NewEngine(&websocket.EngineOptions{
		OnOpen: func(c *websocket.Conn) any { return &member{} },
		OnMessage: func(c *websocket.Conn, typ websocket.MessageType, r io.Reader) {
			m := room.State(c).(*member)
			text, err := io.ReadAll(io.LimitReader(r, 1024))
			if err != nil {
				return
			}
			if m.name == "" {
				m.name = string(text)
				m.joined.Store(joins.Add(1))
				say(m.name + " joined")
				return
			}
			say(m.name + ": " + string(text))
		},
		OnClose: func(c *websocket.Conn, err error) {
			say(room.State(c).(*member).name + " left") // Conns no longer yields c
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		if err := room.Serve(c); err != nil {
			c.Close(websocket.StatusGoingAway, "the room is closed") // still ours
		}
	}))
	defer srv.Close()

	// Two members talk.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	join := func(name string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			log.Fatal(err)
		}
		c.Write(ctx, websocket.MessageText, []byte(name))
		return c
	}
	read := func(who string, c *websocket.Conn) {
		_, text, err := c.Read(ctx)
		if err != nil {
			fmt.Printf("%s: %v\n", who, websocket.CloseStatus(err))
			return
		}
		fmt.Printf("%s reads %q\n", who, text)
	}
	ann := join("ann")
	read("ann", ann)
	bob := join("bob")
	read("ann", ann)
	read("bob", bob)
	ann.Write(ctx, websocket.MessageText, []byte("hello"))
	read("ann", ann)
	read("bob", bob)
	fmt.Println("members:", room.Len())

	bob.Close(websocket.StatusNormalClosure, "bye")
	read("ann", ann)

	// The server shuts down: ann, who reads, gets 1001.
	done := make(chan struct{})
	go func() {
		read("ann", ann)
		close(done)
	}()
	if err := room.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	fmt.Println("members:", room.Len())
	// Output:
	// ann reads "ann joined"
	// ann reads "bob joined"
	// bob reads "bob joined"
	// ann reads "ann: hello"
	// bob reads "ann: hello"
	// members: 2
	// ann reads "bob left"
	// ann: 1001 (going away)
	// members: 0
}
