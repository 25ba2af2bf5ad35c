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
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("NATS server not ready")
	}
	newHub := func() *hub.Hub {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		br, err := natsbroker.Connect(ctx, ns.ClientURL(), &natsbroker.Options{Logger: quiet, History: &natsbroker.HistoryOptions{Memory: true}})
		if err != nil {
			b.Fatal(err)
		}
		return hub.New(&hub.Options{Broker: br, Logger: quiet, History: hub.HistoryOptions{Length: 1000}})
	}
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
