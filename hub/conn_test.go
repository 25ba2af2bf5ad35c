package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// serveHub starts an HTTP server whose /sub?topic=T subscribes each
// WebSocket to T and publishes to T every message the client sends.
func serveHub(t testing.TB, h *hub.Hub, opts *websocket.AcceptOptions) string {
	t.Helper()
	srv := httptest.NewServer(hubHandler(h, opts))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// hubHandler is serveHub's handler. It returns only when the WebSocket ends,
// which an HTTP/2 WebSocket needs: its stream closes when the handler returns.
func hubHandler(h *hub.Hub, opts *websocket.AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		topic := r.URL.Query().Get("topic")
		sub, err := h.Subscribe(r.Context(), c, topic)
		if err != nil {
			c.Close(websocket.StatusInternalError, "cannot subscribe")
			return
		}
		defer sub.Close()
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			h.Publish(r.Context(), topic, hub.Message{Type: typ, Data: data})
		}
	})
}

// dialN opens n clients on url and waits until the hub counts them.
func dialN(t testing.TB, h *hub.Hub, url string, n int, opts *websocket.DialOptions) []*websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		conns[i] = c
	}
	waitUntil(t, func() bool { return h.Stats().Subscribers >= n }, fmt.Sprintf("%d subscribers", n))
	return conns
}

func TestConnectionsGetEveryMessageInPublisherOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		acc  *websocket.AcceptOptions
		dial *websocket.DialOptions
	}{
		{"plain", nil, nil},
		{"deflate without context takeover",
			&websocket.AcceptOptions{Compression: &websocket.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Threshold: -1}},
			&websocket.DialOptions{Compression: &websocket.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const clients, publishers, perPublisher = 8, 4, 300
			// Queues deep enough for the whole burst, and Disconnect: a
			// client that keeps reading must lose nothing.
			h := quietHub(t, hub.Options{QueueLength: publishers * perPublisher, Policy: hub.Disconnect})
			conns := dialN(t, h, serveHub(t, h, tc.acc)+"?topic=t", clients, tc.dial)
			if tc.dial != nil && !strings.Contains(conns[0].Extensions(), "permessage-deflate") {
				t.Fatalf("compression not negotiated: extensions %q", conns[0].Extensions())
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, clients+publishers)
			for _, c := range conns {
				wg.Go(func() {
					next := make([]int, publishers)
					for range publishers * perPublisher {
						_, data, err := c.Read(ctx)
						if err != nil {
							errs <- err
							return
						}
						p, seq, _ := strings.Cut(string(data), ":")
						pi, _ := strconv.Atoi(p)
						si, _ := strconv.Atoi(seq)
						if pi < 0 || pi >= publishers || si != next[pi] {
							errs <- fmt.Errorf("got %q, want message %d of publisher %s", data, next[min(max(pi, 0), publishers-1)], p)
							return
						}
						next[pi]++
					}
				})
			}
			for p := range publishers {
				wg.Go(func() {
					for i := range perPublisher {
						m := hub.Message{Type: websocket.MessageText, Data: []byte(fmt.Sprintf("%d:%d", p, i))}
						if err := h.Publish(ctx, "t", m); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// A subscriber's writer adds its deliveries to the stats when it
			// finds its queue empty, just after the last write went out.
			want := uint64(clients * publishers * perPublisher)
			waitUntil(t, func() bool { return h.Stats().Delivered >= want }, fmt.Sprintf("Delivered = %d", want))
			st := h.Stats()
			if st.Dropped != 0 || st.Disconnected != 0 {
				t.Errorf("Dropped, Disconnected = %d, %d; want 0, 0", st.Dropped, st.Disconnected)
			}
			if st.Delivered != want {
				t.Errorf("Delivered = %d, want %d", st.Delivered, want)
			}
		})
	}
}

func TestSenderAndOthersReceiveAndClosedClientsLeave(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	conns := dialN(t, h, serveHub(t, h, nil)+"?topic=room", 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conns[0].Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if typ != websocket.MessageBinary || string(data) != "\x01\x02\x03" {
			t.Errorf("client %d got %v %q, want the binary message", i, typ, data)
		}
	}
	for _, c := range conns {
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, func() bool {
		st := h.Stats()
		return st.Subscribers == 0 && st.Topics == 0
	}, "closed clients to be unsubscribed")
}

// TestClientThatStopsReading has one client stop reading while another
// keeps up: the publisher never waits, the reader gets every message, and
// the stalled client is ended by the policy or, once its TCP buffers are
// full and its write is stuck, by the write timeout.
//
// A Publish that waited for the stalled client would take at least the
// write timeout; the bound on each Publish is well below it and far above
// what a loaded machine adds, so the test tells the two apart without
// timing anything finer.
func TestClientThatStopsReading(t *testing.T) {
	const writeTimeout = 5 * time.Second
	h := quietHub(t, hub.Options{QueueLength: 2, Policy: hub.Disconnect, WriteTimeout: writeTimeout})
	conns := dialN(t, h, serveHub(t, h, nil)+"?topic=t", 2, nil)
	reader := conns[0] // conns[1] is never read from
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	payload := make([]byte, 256<<10)
	const n = 100 // 25 MiB, more than loopback buffers hold
	for i := range n {
		start := time.Now()
		if err := h.Publish(ctx, "t", hub.Message{Type: websocket.MessageBinary, Data: payload}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > writeTimeout/2 {
			t.Errorf("Publish %d took %v: it waited for a subscriber", i, d)
		}
		if _, data, err := reader.Read(ctx); err != nil || len(data) != len(payload) {
			t.Fatalf("reader, message %d: %d bytes, %v", i, len(data), err)
		}
	}
	waitUntil(t, func() bool { return h.Stats().Subscribers == 1 }, "the stalled client to be ended")
	st := h.Stats()
	if st.Disconnected+st.WriteErrors != 1 {
		t.Errorf("Disconnected, WriteErrors = %d, %d; want the stalled client counted once", st.Disconnected, st.WriteErrors)
	}
	if st.Dropped == 0 {
		t.Error("no message counted as dropped for the stalled client")
	}
}
