package websocket

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPreparedMessageBroadcast sends one prepared message on server
// connections with every compression setting and checks each client gets it.
// It mixes compression settings itself, so it runs in the plain modes.
func TestPreparedMessageBroadcast(t *testing.T) {
	run(t, testPreparedMessageBroadcast, plainTCP, plainTLS)
}

func testPreparedMessageBroadcast(t *testing.T, m mode) {
	var mu sync.Mutex
	var conns []*Conn
	ready := make(chan struct{}, 16)
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts := &AcceptOptions{}
		if r.URL.Query().Get("deflate") != "" {
			opts.Compression = &CompressionOptions{ServerNoContextTakeover: r.URL.Query().Get("deflate") == "nct"}
		}
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		ready <- struct{}{}
		c.Read(context.Background()) // handle control frames until closed
	}))
	var clients []*Conn
	for _, q := range []string{"", "?deflate=nct", "?deflate=ctx", "", "?deflate=ctx"} {
		var opts *DialOptions
		if q != "" {
			opts = &DialOptions{Compression: &CompressionOptions{}}
		}
		clients = append(clients, dialT(t, srv.url+q, srv.dialOptions(opts)))
		<-ready
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs := []string{strings.Repeat("broadcast ", 100), "short", strings.Repeat("again ", 300)}
	for _, m := range msgs {
		pm := NewPreparedMessage(MessageText, []byte(m))
		for _, c := range conns {
			if err := c.WritePrepared(ctx, pm); err != nil {
				t.Fatal(err)
			}
		}
		if len(pm.frames) > 3 {
			t.Fatalf("%d encodings for 3 kinds of connection", len(pm.frames))
		}
	}
	for i, c := range clients {
		for _, want := range msgs {
			_, got, err := c.Read(ctx)
			if err != nil || string(got) != want {
				t.Fatalf("client %d: got %d bytes (%v), want %d", i, len(got), err, len(want))
			}
		}
	}
}
