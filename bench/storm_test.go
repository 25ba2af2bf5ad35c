package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stormLibs are the servers of the handshake rows: Duplex in both modes,
// the engine once more with its upgrades read by ServeUpgrades, and the
// peers of the scale issue.
var stormLibs = []string{"duplex", "duplex-engine", "duplex-engine-upgrades", "nbio", "gws", "gobwas"}

// BenchmarkHandshakeStorm measures how fast each server accepts WebSocket
// handshakes while it holds idle connections and others echo: 10,000 idle
// and 1,000 echoing 1 KiB messages in a loop (1,000 and 100 with -short),
// then b.N fresh connections opened by 64 dialers at once, each closed as
// soon as its handshake is answered. It reports handshakes per second, the
// p50 and p99 time from dialling to the 101 (TCP connect included), and
// the echoes per second the busy connections got meanwhile. The server's
// CPU is not split between handshakes and echoes, so none is reported.
func BenchmarkHandshakeStorm(b *testing.B) {
	idle, echoing := 10000, 1000
	if testing.Short() {
		idle, echoing = 1000, 100
	}
	for _, lib := range stormLibs {
		b.Run(fmt.Sprintf("idle=%d/echoing=%d/lib=%s", idle, echoing, lib), func(b *testing.B) {
			srv := startServer(b, lib, compressOff)
			benchStorm(b, srv, idle, echoing)
		})
	}
}

func benchStorm(b *testing.B, srv *serverProc, idle, echoing int) {
	held := dialMany(b, srv.addr, "/echo", idle, 4096)
	defer closeAll(held)
	busy := dialMany(b, srv.addr, "/echo", echoing, 4096)
	defer closeAll(busy)

	// The echoing connections keep a message in flight each until the
	// storm is over.
	payload := binaryPayload(1024)
	frame := maskedFrame(opBinary, payload)
	stop := make(chan struct{})
	var echoes sync.WaitGroup
	var echoErr atomic.Value
	var echoed atomic.Int64
	for _, c := range busy {
		c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
		echoes.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := roundTrip(c, frame, len(payload)); err != nil {
					echoErr.CompareAndSwap(nil, err)
					return
				}
				echoed.Add(1)
			}
		})
	}
	defer func() {
		close(stop)
		echoes.Wait()
	}()

	const dialers = 64
	latencies := make([]time.Duration, b.N)
	var (
		next    atomic.Int64
		errMu   sync.Mutex
		first   error
		dialing sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	echoedBefore := echoed.Load()
	start := time.Now()
	for range dialers {
		dialing.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				c, err := dialRaw(ctx, srv.addr, "/echo", 4096)
				if err != nil {
					errMu.Lock()
					first = cmp.Or(first, err)
					errMu.Unlock()
					return
				}
				latencies[i] = time.Since(t0)
				c.close()
			}
		})
	}
	dialing.Wait()
	elapsed := time.Since(start)
	echoedDuring := echoed.Load() - echoedBefore
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
	if err, _ := echoErr.Load().(error); err != nil {
		b.Fatalf("an echoing connection failed during the storm: %v", err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(echoedDuring)/elapsed.Seconds(), "echoes/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
