package websocket

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
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

// TestTryWritePrepared sends prepared messages with TryWritePrepared to a
// client that does not read until the socket takes no more; then the
// client reads every message TryWritePrepared reported sent, whole and in
// order, and one WritePrepared sent after them. Over TLS, which cannot
// write without waiting, nothing is sent. While a message writer is open,
// and on a client connection, TryWritePrepared sends nothing either.
func TestTryWritePrepared(t *testing.T) {
	run(t, testTryWritePrepared, plainTCP, deflateTCP, plainEngine, plainTLS)
}

func testTryWritePrepared(t *testing.T, m mode) {
	accepted := make(chan *Conn, 1)
	srv := m.start(t, handler{OnAccept: func(c *Conn) { accepted <- c }})
	cc := dialT(t, srv.url, srv.dialOptions(nil))
	sc := <-accepted
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Messages of 16,000 bytes that do not compress, numbered: the socket's
	// buffer fills in the middle of one, which TryWritePrepared sends the
	// rest of in the background.
	msg := func(i int) []byte {
		p := make([]byte, 16000)
		rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16)}).Read(p)
		binary.LittleEndian.PutUint64(p, uint64(i))
		return p
	}
	if sent, err := cc.TryWritePrepared(NewPreparedMessage(MessageBinary, msg(0))); sent || err != nil {
		t.Fatalf("client TryWritePrepared = %v, %v; want false, nil", sent, err)
	}
	w, err := sc.Writer(ctx, MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	if sent, err := sc.TryWritePrepared(NewPreparedMessage(MessageBinary, msg(0))); sent || err != nil {
		t.Fatalf("TryWritePrepared while a writer is open = %v, %v; want false, nil", sent, err)
	}
	w.Write(msg(0))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	n := 1 // messages sent, the writer's first
	for ; n < 100000; n++ {
		sent, err := sc.TryWritePrepared(NewPreparedMessage(MessageBinary, msg(n)))
		if err != nil {
			t.Fatalf("TryWritePrepared %d: %v", n, err)
		}
		if !sent {
			break
		}
	}
	if m.tls && n != 1 {
		t.Fatalf("over TLS TryWritePrepared sent %d messages, want none", n-1)
	}
	if !m.tls && n < 2 {
		t.Fatalf("TryWritePrepared sent nothing to a connection that can take it")
	}
	t.Logf("%d messages taken by the socket without waiting", n-1)
	read := make(chan error, 1)
	go func() {
		for i := range n + 1 {
			_, p, err := cc.Read(ctx)
			if err != nil {
				read <- err
				return
			}
			if got := binary.LittleEndian.Uint64(p); len(p) != 16000 || got != uint64(i) {
				read <- fmt.Errorf("message %d: %d bytes numbered %d", i, len(p), got)
				return
			}
		}
		read <- nil
	}()
	if err := sc.WritePrepared(ctx, NewPreparedMessage(MessageBinary, msg(n))); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
}
