package bench

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// countConn is a hub.Conn that counts the messages written to it and
// closes done once it has want of them.
type countConn struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func newCountConn(want int64) *countConn {
	return &countConn{want: want, done: make(chan struct{})}
}

func (c *countConn) WritePrepared(context.Context, *websocket.PreparedMessage) error {
	if c.n.Add(1) == c.want {
		close(c.done)
	}
	return nil
}

func (c *countConn) Close(websocket.StatusCode, string) error { return nil }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkHistoryPublish measures Publish on a topic with 100 subscribers
// (in-process connections that discard what they get) with the topic's
// history off, on (the last 1,000 messages), and on with every subscriber
// positioned (each message also wrapped once in its JSON envelope). The
// goal is a rate with history at least 80 % of the rate without.
func BenchmarkHistoryPublish(b *testing.B) {
	for _, mode := range []string{"off", "on", "on-positions"} {
		b.Run("history="+mode, func(b *testing.B) {
			opts := hub.Options{Logger: quiet, QueueLength: 1 << 14}
			if mode != "off" {
				opts.History = hub.HistoryOptions{Length: 1000}
			}
			h := hub.New(&opts)
			defer h.Close()
			ctx := context.Background()
			for range 100 {
				o := &hub.SubscribeOptions{Topics: []string{"t"}, Positions: mode == "on-positions"}
				if _, err := h.SubscribeWith(ctx, newCountConn(-1), o); err != nil {
					b.Fatal(err)
				}
			}
			m := hub.Message{Data: []byte(strings.Repeat("x", 128))}
			b.SetBytes(int64(len(m.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Publish(ctx, "t", m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkHistoryRecoveryAfterRestart measures how long 10,000 clients
// take to recover 100 missed messages each from a Duplex server that has
// just restarted, its history in a JetStream stream (an in-process NATS
// server): the server's cache is empty, so the first resume asks the
// stream and the others are served from the cache it filled. The clients
// are in-process connections (what is measured is the hub and the broker,
// not the network). It reports the time for all of them and the number of
// requests made to JetStream.
func BenchmarkHistoryRecoveryAfterRestart(b *testing.B) {
	const clients, missed = 10000, 100
	ns := startJetStream(b)
	newHub := func() *hub.Hub { return historyHub(b, ns.ClientURL()) }
	ctx := context.Background()
	other := newHub() // the server the messages are sent through
	defer other.Close()
	var total time.Duration
	var fetches uint64
	for i := 0; b.Loop(); i++ {
		topic := "room" + strconv.Itoa(i)
		// The clients' last position: where the room stood before the
		// restart.
		s, err := other.SubscribeWith(ctx, newCountConn(-1), nil)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := s.Resume(ctx, topic, hub.Position{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		for j := range missed {
			if err := other.Publish(ctx, topic, hub.Message{Data: []byte("missed " + strconv.Itoa(j))}); err != nil {
				b.Fatal(err)
			}
		}
		restarted := newHub()
		conns := make([]*countConn, clients)
		start := time.Now()
		var wg sync.WaitGroup
		for k := range conns {
			conns[k] = newCountConn(missed)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := restarted.SubscribeWith(ctx, conns[k], nil)
				if err != nil {
					b.Error(err)
					return
				}
				if r, err := s.Resume(ctx, topic, rec.Position); err != nil || r.Reset || r.Missed != missed {
					b.Errorf("Resume = %+v, %v", r, err)
				}
			}()
		}
		wg.Wait()
		for _, c := range conns {
			<-c.done
		}
		total += time.Since(start)
		fetches += restarted.Stats().HistoryFetches
		restarted.Close()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/10k-recoveries")
	b.ReportMetric(float64(fetches)/float64(b.N), "jetstream-requests/op")
}

// startJetStream starts an in-process NATS server with JetStream, shut
// down when b ends.
func startJetStream(b *testing.B) *natsserver.Server {
	b.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	b.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS server not ready")
	}
	return ns
}

// historyHub returns a hub keeping history in JetStream at natsURL, with
// 1,000 messages per topic cached.
func historyHub(b *testing.B, natsURL string) *hub.Hub {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	br, err := natsbroker.Connect(ctx, natsURL, &natsbroker.Options{Logger: quiet, History: &natsbroker.HistoryOptions{Memory: true}})
	if err != nil {
		b.Fatal(err)
	}
	return hub.New(&hub.Options{Broker: br, Logger: quiet, History: hub.HistoryOptions{Length: 1000}})
}

// BenchmarkHistoryRecoveryWebSockets measures, over real WebSockets, how
// long 10,000 chat clients (duplex.chat.v2) take to come back to a Duplex
// server just started (a process of its own, its history in an in-process
// JetStream server, its cache empty) with their last position, and each
// receive the 100 messages they missed: from the first dial to the last
// client's 100th message. A short run uses 500 clients.
func BenchmarkHistoryRecoveryWebSockets(b *testing.B) {
	clients := 10000
	if testing.Short() {
		clients = 500
	}
	const missed = 100
	ns := startJetStream(b)
	b.Setenv(envNATS, ns.ClientURL())
	other := historyHub(b, ns.ClientURL()) // the server the messages went through
	defer other.Close()
	ctx := context.Background()
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		room := "bench" + strconv.Itoa(i)
		s, err := other.SubscribeWith(ctx, newCountConn(-1), nil)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := s.Resume(ctx, chat.TopicPrefix+room, hub.Position{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		for j := range missed {
			if err := other.Publish(ctx, chat.TopicPrefix+room, hub.Message{Data: []byte(`{"name":"bob","text":"missed ` + strconv.Itoa(j) + `"}`)}); err != nil {
				b.Fatal(err)
			}
		}
		srv, err := launchServer("duplex-history", compressOff)
		if err != nil {
			b.Fatal(err)
		}
		path := "/chat?room=" + room + "&since=" + rec.Position.String()
		dctx, cancel := context.WithTimeout(ctx, 120*time.Second)
		start := time.Now()
		conns := make([]*rawClient, clients)
		var readers sync.WaitGroup
		var failed atomic.Int64
		next := make(chan int)
		var dialers sync.WaitGroup
		for range 64 {
			dialers.Go(func() {
				for k := range next {
					c, err := dialRawProtocol(dctx, srv.addr, path, chat.Subprotocol, 4096)
					if err != nil {
						failed.Add(1)
						continue
					}
					conns[k] = c
					c.nc.SetReadDeadline(time.Now().Add(120 * time.Second))
					readers.Go(func() {
						for n := range missed {
							_, p, err := c.readMessage()
							if err != nil || (n == 0 && strings.Contains(string(p), `"reset"`)) {
								failed.Add(1)
								return
							}
						}
					})
				}
			})
		}
		for k := range clients {
			next <- k
		}
		close(next)
		dialers.Wait()
		readers.Wait()
		total += time.Since(start)
		cancel()
		closeAll(conns)
		srv.stop()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d of %d clients failed to dial or recover", n, clients)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/recovery-of-all")
	b.ReportMetric(float64(clients), "clients")
}
