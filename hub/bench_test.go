package hub_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// discardConn is a hub.Conn that counts and forgets what it is given.
type discardConn struct{ n *atomic.Int64 }

func (c discardConn) WritePrepared(context.Context, *websocket.PreparedMessage) error {
	c.n.Add(1)
	return nil
}

func (c discardConn) Close(websocket.StatusCode, string) error { return nil }

// BenchmarkFanout publishes from one goroutine to 1,000 in-process
// subscribers; an op is one published message, so 1,000 deliveries.
func BenchmarkFanout(b *testing.B) {
	const subscribers = 1000
	h := quietHub(b, hub.Options{})
	ctx := context.Background()
	counts := make([]atomic.Int64, subscribers)
	for i := range counts {
		if _, err := h.Subscribe(ctx, discardConn{&counts[i]}, "t"); err != nil {
			b.Fatal(err)
		}
	}
	payload := make([]byte, 64)
	b.SetBytes(int64(len(payload)) * subscribers)
	fanoutLoop(b, h, payload, counts)
}

// BenchmarkFanoutConns publishes from one goroutine to 100 WebSocket
// clients over loopback TCP, each reading in its own goroutine.
func BenchmarkFanoutConns(b *testing.B) {
	const subscribers = 100
	h := quietHub(b, hub.Options{QueueLength: 4096})
	conns := dialN(b, h, serveHub(b, h, nil)+"?topic=t", subscribers, nil)
	counts := make([]atomic.Int64, subscribers)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, c := range conns {
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
				counts[i].Add(1)
			}
		}()
	}
	payload := make([]byte, 64)
	b.SetBytes(int64(len(payload)) * subscribers)
	fanoutLoop(b, h, payload, counts)
}

// window is how many published messages the benchmarks let run ahead of
// the slowest subscriber: well under the queue length, so that the
// measured rate is one every subscriber sustains without drops.
const window = 64

// fanoutLoop publishes b.N messages, never more than window ahead of the
// slowest subscriber (counts holds each one's deliveries), waits for the
// last delivery, and reports deliveries per second and allocations per
// delivery. It fails if the hub dropped anything.
func fanoutLoop(b *testing.B, h *hub.Hub, payload []byte, counts []atomic.Int64) {
	ctx := context.Background()
	// waitFor waits until every subscriber has had n messages.
	waitFor := func(n int) {
		deadline := time.Now().Add(time.Minute)
		for i := range counts {
			for counts[i].Load() < int64(n) {
				if time.Now().After(deadline) {
					b.Fatalf("subscriber %d has %d of %d messages after a minute (%d dropped)", i, counts[i].Load(), n, h.Stats().Dropped)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	published := 0
	for b.Loop() {
		if err := h.Publish(ctx, "t", hub.Message{Type: websocket.MessageBinary, Data: payload}); err != nil {
			b.Fatal(err)
		}
		published++
		if published%window == 0 {
			waitFor(published - window)
		}
	}
	waitFor(published)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if d := h.Stats().Dropped; d != 0 {
		b.Fatalf("the hub dropped %d messages", d)
	}
	deliveries := float64(published * len(counts))
	b.ReportMetric(deliveries/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/deliveries, "allocs/delivery")
}

// BenchmarkSubscriberMemory measures what one subscriber costs: an op
// subscribes a connection to a topic and has one message written to it, so
// that its queue and write context exist.
func BenchmarkSubscriberMemory(b *testing.B) {
	h := quietHub(b, hub.Options{})
	ctx := context.Background()
	counts := make([]atomic.Int64, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.Subscribe(ctx, discardConn{&counts[i]}, "t"); err != nil {
			b.Fatal(err)
		}
	}
	h.Publish(ctx, "t", hub.Message{Data: []byte("x")})
	for i := range counts {
		for counts[i].Load() == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}
