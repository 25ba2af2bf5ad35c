package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echoLibs are the libraries of the echo and idle-memory benchmarks.
var echoLibs = []string{"duplex", "gorilla", "coder", "gobwas", "gws"}

// eventLibs are the event-driven servers, which hold no goroutine per idle
// connection: Duplex's Engine and nbio in its non-blocking mode.
var eventLibs = []string{"duplex-engine", "nbio"}

// manyConnLibs are the servers of the rows at 10,000 and 19,000
// connections: Duplex in both modes and the two peers of its issue.
var manyConnLibs = []string{"duplex", "duplex-engine", "nbio", "gws"}

// isEventLib reports whether lib serves connections without a goroutine each.
func isEventLib(lib string) bool { return slices.Contains(eventLibs, lib) }

// roundTrip sends frame and reads the echo, which must be want bytes long.
func roundTrip(c *rawClient, frame []byte, want int) error {
	if err := c.write(frame); err != nil {
		return err
	}
	_, p, err := c.readMessage()
	if err != nil {
		return err
	}
	if len(p) != want {
		return fmt.Errorf("echo of %d bytes, want %d", len(p), want)
	}
	return nil
}

// BenchmarkEcho measures binary messages echoed by each library's server at
// 1 and 100 connections, each connection sending a message and waiting for
// its echo; the event-driven servers (Duplex's engine, nbio) come last. It
// reports messages per second, the server's CPU seconds per million
// messages and the server's allocations per message; the bench process's
// own allocations (the client) are the usual allocs/op.
func BenchmarkEcho(b *testing.B) {
	libs := slices.Concat(echoLibs, eventLibs)
	// One server per library for all sizes and connection counts.
	servers := make(map[string]*serverProc)
	for _, lib := range libs {
		servers[lib] = startServer(b, lib, compressOff)
	}
	for _, conns := range []int{1, 100} {
		for _, size := range []int{16, 1024, 64 << 10} {
			for _, lib := range libs {
				name := fmt.Sprintf("conns=%d/size=%d/lib=%s", conns, size, lib)
				b.Run(name, func(b *testing.B) {
					benchEcho(b, servers[lib], conns, size)
				})
			}
		}
	}
}

// BenchmarkEchoConns measures 1 KiB echoes at 100 and 10,000 connections
// against Duplex in both modes, nbio and gws; each connection has one
// message in flight.
func BenchmarkEchoConns(b *testing.B) {
	servers := make(map[string]*serverProc)
	for _, lib := range manyConnLibs {
		servers[lib] = startServer(b, lib, compressOff)
	}
	conns := []int{100, 10000}
	if testing.Short() {
		conns = []int{100, 1000}
	}
	for _, n := range conns {
		for _, lib := range manyConnLibs {
			b.Run(fmt.Sprintf("conns=%d/size=1024/lib=%s", n, lib), func(b *testing.B) {
				benchEchoBuffered(b, servers[lib], n, 1024, 4096)
			})
		}
	}
}

// benchEcho runs b.N round trips spread over conns connections to srv.
func benchEcho(b *testing.B, srv *serverProc, conns, size int) {
	benchEchoBuffered(b, srv, conns, size, 64<<10)
}

// benchEchoBuffered is benchEcho with clients reading through readBuffer
// bytes each.
func benchEchoBuffered(b *testing.B, srv *serverProc, conns, size, readBuffer int) {
	clients := dialMany(b, srv.addr, "/echo", conns, readBuffer)
	defer closeAll(clients)
	payload := binaryPayload(size)
	frame := maskedFrame(opBinary, payload)
	deadline := time.Now().Add(2 * time.Minute)
	for _, c := range clients {
		c.nc.SetDeadline(deadline)
		// One round trip each before timing, so every library has done
		// its lazy set-up.
		if err := roundTrip(c, frame, size); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	before := srv.stats(b, false)
	b.ResetTimer()
	start := time.Now()
	var (
		left  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	left.Store(int64(b.N))
	for _, c := range clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := roundTrip(c, frame, size); err != nil {
					errMu.Lock()
					first = cmp.Or(first, err)
					errMu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	after := srv.stats(b, false)
	reportServer(b, before, after, float64(b.N), elapsed, "msgs", "msg")
}

// reportServer reports the rate of n operations over elapsed (as
// plural+"/s"), and the server's CPU seconds per million operations and
// allocations per operation (per singular) between before and after.
func reportServer(b *testing.B, before, after procStats, n float64, elapsed time.Duration, plural, singular string) {
	b.ReportMetric(n/elapsed.Seconds(), plural+"/s")
	b.ReportMetric((after.CPU-before.CPU).Seconds()/n*1e6, "srv-cpu-s/M"+singular)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "srv-allocs/"+singular)
}

// TestEchoServers checks that every library's echo server sends back each
// message unchanged, at every benchmark size, to the raw client.
func TestEchoServers(t *testing.T) {
	for _, lib := range slices.Concat(echoLibs, eventLibs) {
		t.Run(lib, func(t *testing.T) {
			srv := startServer(t, lib, compressOff)
			clients := dialMany(t, srv.addr, "/echo", 2, 4096)
			defer closeAll(clients)
			for _, c := range clients {
				c.nc.SetDeadline(time.Now().Add(30 * time.Second))
				for _, size := range []int{0, 16, 125, 126, 1024, 64 << 10, 70000} {
					if size == 0 && lib == "nbio" {
						continue // nbio v1.6.8 never echoes an empty message
					}
					payload := binaryPayload(size)
					if err := c.write(maskedFrame(opBinary, payload)); err != nil {
						t.Fatal(err)
					}
					op, p, err := c.readMessage()
					if err != nil {
						t.Fatalf("size %d: %v", size, err)
					}
					if op != opBinary || !bytes.Equal(p, payload) {
						t.Fatalf("size %d: echo opcode %#x, %d bytes, equal %t", size, op, len(p), bytes.Equal(p, payload))
					}
				}
			}
		})
	}
}
