package bench

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stormLibs are the servers of the handshake rows: Duplex in both modes,
// each once more with its upgrades read by ServeUpgrades, the engine again
// accepting its sockets itself (Engine.ServeUpgrades), and the peers of
// the scale issue.
var stormLibs = []string{"duplex", "duplex-upgrades", "duplex-engine", "duplex-engine-upgrades", "duplex-engine-accept", "nbio", "gws", "gobwas"}

// BenchmarkHandshakeStorm measures how fast each server accepts WebSocket
// handshakes while it holds idle connections and others echo: 10,000 idle
// and 1,000 echoing a 1 KiB message ten times a second each (1,000 and 100
// with -short), then b.N fresh connections opened by 64 dialers at once,
// each closed as soon as its handshake is answered. It reports handshakes
// per second, the p50 and p99 time from dialling to the 101 (TCP connect
// included), the echoes per second the busy connections got meanwhile, and
// the server's CPU per handshake: its CPU time during the storm less what
// the echoes alone cost it over the same time, measured for 3 s before the
// storm; its whole CPU during the storm, echoes and all, as a share of
// its core (the same echoes beside every server, and a figure that does
// not rest on the echoes costing during the storm what they cost alone:
// a server that handles events one at a time when idle handles them in
// batches when busy); and, counted as the CPU per handshake is, the bytes
// and objects the server allocated per handshake (for a Go server, the
// garbage a handshake leaves).
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

// stormLoad is what a storm's server carries beside the handshakes: idle
// connections and paced echoes, with what the echoes alone cost it.
type stormLoad struct {
	srv         *serverProc
	echoed      atomic.Int64
	echoErr     atomic.Value
	echoCPURate float64 // server CPU seconds per second the echoes cost
	// What the echoes alone allocate in the server, per second: bytes
	// and objects.
	echoAllocRate, echoMallocRate float64
	stop                          func()
}

// startStormLoad opens idle connections to srv, and echoing ones that
// each send a message every echoInterval from a phase of their own until
// stop, and measures what the echoes alone cost the server once what
// opening the connections left to do (its garbage collections) is done.
func startStormLoad(b *testing.B, srv *serverProc, idle, echoing int) *stormLoad {
	held := dialMany(b, srv.addr, "/echo", idle, 4096)
	busy := dialMany(b, srv.addr, "/echo", echoing, 4096)
	l := &stormLoad{srv: srv}
	payload := binaryPayload(1024)
	frame := maskedFrame(opBinary, payload)
	stop := make(chan struct{})
	var echoes sync.WaitGroup
	for i, c := range busy {
		c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
		echoes.Go(func() {
			select {
			case <-stop:
				return
			case <-time.After(echoInterval * time.Duration(i) / time.Duration(len(busy))):
			}
			// The ticker starts at the connection's phase: started
			// before it, every connection's ticks fell together, a
			// burst of every echo at once each echoInterval.
			tick := time.NewTicker(echoInterval)
			defer tick.Stop()
			for {
				if err := roundTrip(c, frame, len(payload)); err != nil {
					l.echoErr.CompareAndSwap(nil, err)
					return
				}
				l.echoed.Add(1)
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
	}
	l.stop = func() {
		close(stop)
		echoes.Wait()
		closeAll(busy)
		closeAll(held)
	}
	time.Sleep(echoSettle)
	base, baseAt := srv.stats(b, false), time.Now()
	baseEchoed := l.echoed.Load()
	time.Sleep(echoBaseline)
	pre, preAt := srv.stats(b, false), time.Now()
	took := preAt.Sub(baseAt)
	l.echoCPURate = float64(pre.CPU-base.CPU) / float64(took)
	l.echoAllocRate = float64(pre.TotalAlloc-base.TotalAlloc) / took.Seconds()
	l.echoMallocRate = float64(pre.Mallocs-base.Mallocs) / took.Seconds()
	if got, want := float64(l.echoed.Load()-baseEchoed)/echoBaseline.Seconds(), float64(len(busy))/echoInterval.Seconds(); got < want*0.9 {
		l.stop()
		b.Fatalf("the server answered %.0f echoes/s of the %.0f sent before the storm", got, want)
	}
	return l
}

// handshake opens a connection to the storm's server, reads its 101 and
// resets it. Reset rather than closed: a close would leave the client's
// port in TIME_WAIT for a minute, and a storm beside 11,000 open
// connections runs out of the 28,000 ports loopback gives a destination,
// after which each connect waits for a port to be reusable.
func (l *stormLoad) handshake(ctx context.Context) error {
	c, err := dialRaw(ctx, l.srv.addr, "/echo", 4096)
	if err != nil {
		return err
	}
	c.nc.(*net.TCPConn).SetLinger(0)
	return c.close()
}

// measure runs storm, which makes b.N handshakes and returns each one's
// latency, and reports what it cost the server and what it left the
// echoes.
func (l *stormLoad) measure(b *testing.B, storm func(ctx context.Context) ([]time.Duration, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The client collects no garbage during the storm: its collections
	// of the buffers of 11,000 connections stalled every dial at once,
	// a tail of the client's that every server's p99 showed.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	pre, preAt := l.srv.stats(b, false), time.Now()
	b.ResetTimer()
	echoedBefore := l.echoed.Load()
	start := time.Now()
	latencies, err := storm(ctx)
	elapsed := time.Since(start)
	echoedDuring := l.echoed.Load() - echoedBefore
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if err, _ := l.echoErr.Load().(error); err != nil {
		b.Fatalf("an echoing connection failed during the storm: %v", err)
	}
	post, postAt := l.srv.stats(b, false), time.Now()
	took := postAt.Sub(preAt)
	stormCPU := float64(post.CPU-pre.CPU) - l.echoCPURate*float64(took)
	b.ReportMetric(stormCPU/float64(b.N)/1e3, "srv-cpu-µs/handshake")
	stormAlloc := float64(post.TotalAlloc-pre.TotalAlloc) - l.echoAllocRate*took.Seconds()
	stormMallocs := float64(post.Mallocs-pre.Mallocs) - l.echoMallocRate*took.Seconds()
	b.ReportMetric(stormAlloc/float64(b.N), "srv-B/handshake")
	b.ReportMetric(stormMallocs/float64(b.N), "srv-allocs/handshake")
	b.ReportMetric(l.echoCPURate*100, "srv-cpu-%-echoes")
	b.ReportMetric(float64(post.CPU-pre.CPU)/float64(took)*100, "srv-cpu-%-storm")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
	b.ReportMetric(float64(echoedDuring)/elapsed.Seconds(), "echoes/s")
	slices.Sort(latencies)
	ms := func(q int) float64 { return float64(latencies[len(latencies)*q/1000].Microseconds()) / 1000 }
	b.ReportMetric(ms(500), "p50-ms")
	b.ReportMetric(ms(990), "p99-ms")
	b.ReportMetric(ms(999), "p99.9-ms")
}

func benchStorm(b *testing.B, srv *serverProc, idle, echoing int) {
	l := startStormLoad(b, srv, idle, echoing)
	defer l.stop()
	const dialers = 64
	l.measure(b, func(ctx context.Context) ([]time.Duration, error) {
		latencies := make([]time.Duration, b.N)
		var (
			next    atomic.Int64
			errMu   sync.Mutex
			first   error
			dialing sync.WaitGroup
		)
		for range dialers {
			dialing.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(b.N) {
						return
					}
					t0 := time.Now()
					if err := l.handshake(ctx); err != nil {
						errMu.Lock()
						first = cmp.Or(first, err)
						errMu.Unlock()
						return
					}
					latencies[i] = time.Since(t0)
				}
			})
		}
		dialing.Wait()
		return latencies, first
	})
}

// BenchmarkHandshakeRate is BenchmarkHandshakeStorm's load with the
// handshakes arriving at a fixed rate, below what every server accepts,
// rather than from 64 dialers each dialling again once answered: each
// handshake starts at its own time whether or not those before it were
// answered, and its latency runs from that time to its 101. It measures
// how long a server keeps a handshake waiting at a given load. The closed
// loop of BenchmarkHandshakeStorm measures how many it accepts, and its
// latencies are as much the client's as the server's: with the client's
// core busy dialling, a p99 there is half the client's wait to run a
// connect whose SYN the kernel answered at once.
func BenchmarkHandshakeRate(b *testing.B) {
	idle, echoing := 10000, 1000
	if testing.Short() {
		idle, echoing = 1000, 100
	}
	rates := []int{2000, 4000}
	if testing.Short() {
		rates = rates[:1]
	}
	for _, rate := range rates {
		for _, lib := range stormLibs {
			b.Run(fmt.Sprintf("idle=%d/echoing=%d/rate=%d/lib=%s", idle, echoing, rate, lib), func(b *testing.B) {
				srv := startServer(b, lib, compressOff)
				benchRate(b, srv, idle, echoing, rate)
			})
		}
	}
}

// maxPending bounds the handshakes a paced storm leaves unanswered at
// once: a server that falls that far behind cannot carry the rate.
const maxPending = 4096

func benchRate(b *testing.B, srv *serverProc, idle, echoing, rate int) {
	l := startStormLoad(b, srv, idle, echoing)
	defer l.stop()
	l.measure(b, func(ctx context.Context) ([]time.Duration, error) {
		latencies := make([]time.Duration, b.N)
		var (
			errMu   sync.Mutex
			first   error
			dialing sync.WaitGroup
			pending atomic.Int64
		)
		fail := func(err error) {
			errMu.Lock()
			first = cmp.Or(first, err)
			errMu.Unlock()
		}
		interval := time.Second / time.Duration(rate)
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; i < b.N; {
			// Every handshake due by now starts, each at its own time.
			for ; i < b.N; i++ {
				due := start.Add(time.Duration(i) * interval)
				if time.Now().Before(due) {
					break
				}
				if pending.Add(1) > maxPending {
					fail(fmt.Errorf("%d handshakes unanswered at once at %d a second: the server cannot carry this rate on this machine; run the lower rate, or HandshakeStorm for its capacity", maxPending, rate))
					dialing.Wait()
					return nil, first
				}
				n := i
				dialing.Go(func() {
					defer pending.Add(-1)
					if err := l.handshake(ctx); err != nil {
						fail(err)
						return
					}
					latencies[n] = time.Since(due)
				})
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				dialing.Wait()
				return nil, ctx.Err()
			}
		}
		dialing.Wait()
		return latencies, first
	})
}
