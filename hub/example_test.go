package hub_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// A handler subscribes each WebSocket to a topic; whatever is published to
// the topic reaches every connection.
func ExampleHub_Subscribe() {
	h := hub.New(nil)
	defer h.Close()

	subscribed := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		sub, err := h.Subscribe(r.Context(), c, "news")
		if err != nil {
			c.Close(websocket.StatusInternalError, "cannot subscribe")
			return
		}
		defer sub.Close()
		subscribed <- struct{}{}
		// Read until the client goes away; the hub does the writing.
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	<-subscribed // a message published earlier would not reach this client

	h.Publish(ctx, "news", hub.Message{Type: websocket.MessageText, Data: []byte("extra! extra!")})
	_, data, err := c.Read(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(data))
	// Output: extra! extra!
}

// WriteMetrics serves the hub's counters to Prometheus.
func ExampleHub_WriteMetrics() {
	h := hub.New(nil)
	defer h.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		h.WriteMetrics(w)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "duplex_hub_subscribers ") || strings.HasPrefix(sc.Text(), "duplex_hub_messages_published_total ") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// duplex_hub_subscribers 0
	// duplex_hub_messages_published_total 0
}

// A topic with history resumes a client that comes back with its last
// position: it gets what it missed, then the live messages.
func ExampleSubscriber_Resume() {
	h := hub.New(&hub.Options{History: hub.HistoryOptions{Length: 100}})
	defer h.Close()
	ctx := context.Background()

	// A client joins (a *websocket.Conn in a handler), hears "one", and
	// leaves: the position of "one" is the last it saw.
	sub, _ := h.SubscribeWith(ctx, discardConn{new(atomic.Int64)}, &hub.SubscribeOptions{Positions: true})
	joined, _ := sub.Resume(ctx, "room", hub.Position{})
	h.Publish(ctx, "room", hub.Message{Data: []byte("one")})
	sub.Close()
	last := hub.Position{Epoch: joined.Position.Epoch, Seq: joined.Position.Seq + 1}

	h.Publish(ctx, "room", hub.Message{Data: []byte("two")})
	h.Publish(ctx, "room", hub.Message{Data: []byte("three")})

	// Back, with that position: "two" and "three" are queued first.
	sub, _ = h.SubscribeWith(ctx, discardConn{new(atomic.Int64)}, &hub.SubscribeOptions{Positions: true})
	defer sub.Close()
	rec, err := sub.Resume(ctx, "room", last)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("missed:", rec.Missed, "reset:", rec.Reset, "now at:", rec.Position.Seq)
	// Output: missed: 2 reset: false now at: 3
}
