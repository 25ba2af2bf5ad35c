package bench

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stormLibs are the servers of the handshake rows: Duplex in both modes,
// the engine once more with its upgrades read by ServeUpgrades, and again
// accepting its sockets itself (Engine.ServeUpgrades), and the peers of
// the scale issue.
var stormLibs = []string{"duplex", "duplex-engine", "duplex-engine-upgrades", "duplex-engine-accept", "nbio", "gws", "gobwas"}

// BenchmarkHandshakeStorm measures how fast each server accepts WebSocket
// handshakes while it holds idle connections and others echo: 10,000 idle
// and 1,000 echoing a 1 KiB message ten times a second each (1,000 and 100
// with -short), then b.N fresh connections opened by 64 dialers at once,
// each closed as soon as its handshake is answered. It reports handshakes
// per second, the p50 and p99 time from dialling to the 101 (TCP connect
// included), the echoes per second the busy connections got meanwhile, and
// the server's CPU per handshake: its CPU time during the storm less what
// the echoes alone cost it over the same time, measured for 3 s before the
// storm.
//
// The echoes are paced so that every server carries the same load beside
// the storm. Echoing as fast as each server answers made the figure a
// measure of how a server shares its core between two loads (and the
// client's core between echoes and dialers), not of what a handshake costs:
// a server that echoed faster was left fewer handshakes.
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

// The echoing connections' pace, how long they run before their cost
// alone is measured, and for how long, before the storm.
const (
	echoInterval = 100 * time.Millisecond
	echoSettle   = 3 * time.Second
	echoBaseline = 3 * time.Second
)

func benchStorm(b *testing.B, srv *serverProc, idle, echoing int) {
	held := dialMany(b, srv.addr, "/echo", idle, 4096)
	defer closeAll(held)
	busy := dialMany(b, srv.addr, "/echo", echoing, 4096)
	defer closeAll(busy)

	// Each echoing connection sends a message every echoInterval, from a
	// phase of its own, until the storm is over.
	payload := binaryPayload(1024)
	frame := maskedFrame(opBinary, payload)
	stop := make(chan struct{})
	var echoes sync.WaitGroup
	var echoErr atomic.Value
	var echoed atomic.Int64
	for i, c := range busy {
		c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
		echoes.Go(func() {
			tick := time.NewTicker(echoInterval)
			defer tick.Stop()
			select {
			case <-stop:
				return
			case <-time.After(echoInterval * time.Duration(i) / time.Duration(len(busy))):
			}
			for {
				if err := roundTrip(c, frame, len(payload)); err != nil {
					echoErr.CompareAndSwap(nil, err)
					return
				}
				echoed.Add(1)
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
	}
	defer func() {
		close(stop)
		echoes.Wait()
	}()

	// What the echoes alone cost the server, once what opening the
	// connections left to do (its garbage collections) is done.
	time.Sleep(echoSettle)
	base, baseAt := srv.stats(b, false), time.Now()
	baseEchoed := echoed.Load()
	time.Sleep(echoBaseline)
	pre, preAt := srv.stats(b, false), time.Now()
	echoCPURate := float64(pre.CPU-base.CPU) / float64(preAt.Sub(baseAt))
	if got, want := float64(echoed.Load()-baseEchoed)/echoBaseline.Seconds(), float64(len(busy))/echoInterval.Seconds(); got < want*0.9 {
		b.Fatalf("the server answered %.0f echoes/s of the %.0f sent before the storm", got, want)
	}

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
				// Reset rather than closed: a close would leave the
				// client's port in TIME_WAIT for a minute, and a storm
				// beside 11,000 open connections runs out of the
				// 28,000 ports loopback gives a destination, after
				// which each connect waits for a port to be reusable.
				c.nc.(*net.TCPConn).SetLinger(0)
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
	post, postAt := srv.stats(b, false), time.Now()
	stormCPU := float64(post.CPU-pre.CPU) - echoCPURate*float64(postAt.Sub(preAt))
	b.ReportMetric(stormCPU/float64(b.N)/1e3, "srv-cpu-µs/handshake")
	b.ReportMetric(echoCPURate*100, "srv-cpu-%-echoes")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(echoedDuring)/elapsed.Seconds(), "echoes/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
