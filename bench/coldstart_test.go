package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// coldStartLibs are the servers of the cold-start rows: the Duplex engine
// behind net/http's server as is, behind a ReleaseListener, and with a
// prototype upgrade path that reads the request itself, and the peer the
// scale issue measures it against.
var coldStartLibs = []string{"duplex-engine", "duplex-engine-release", "duplex-engine-lean-release", "nbio"}

// Shape of a cold-start measurement, as an operator sees a storm arrive at
// a server just started.
const (
	coldStartConns = 10000
	coldStartWidth = 500 // connections opening at once
	coldStartSoon  = 5 * time.Second
)

// envColdStartLate sets how long after the last connection opened the
// cold-start benchmark takes its late figures (a Go duration): 200s, long
// enough for the runtime's periodic garbage collection (every 2 minutes)
// and its scavenger to have run, when unset.
const envColdStartLate = "DUPLEX_BENCH_COLDSTART_LATE"

// BenchmarkColdStartMemory measures what a freshly started server process
// holds after a storm of connections, as an operator reads it from /proc:
// no garbage collection is asked of the server, nothing is returned to the
// system on the benchmark's behalf. The server starts, its resident set is
// read (the fresh process); 10,000 raw clients connect, 500 at a time, and
// each echoes one 1 KiB message and then stays idle. The server's VmRSS is
// read 5 s after the last connection opened and again 200 s after it
// (envColdStartLate), and VmHWM, the process's peak, at the end. Per
// connection figures are (VmRSS − the fresh process's VmRSS) ÷ 10,000.
//
// One measurement per run whatever b.N; run it with the servers alternated
// (-count 1 in a loop, see RESULTS.md), the server on one core and this
// process, the load generator, on another. It takes 3.5 minutes a server
// and is skipped with -short. With DUPLEX_BENCH_CPUPROFILE set the server
// also writes a heap profile of the storm, fetched at +5 s:
// <lib>-coldstart-<pid>.heap.pprof.
func BenchmarkColdStartMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("cold-start memory waits 200 s per server: not in -short")
	}
	late := 200 * time.Second
	if s := os.Getenv(envColdStartLate); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("%s: %v", envColdStartLate, err)
		}
		late = d
	}
	for _, lib := range coldStartLibs {
		b.Run(fmt.Sprintf("conns=%d/lib=%s", coldStartConns, lib), func(b *testing.B) {
			benchColdStart(b, lib, late)
		})
	}
}

func benchColdStart(b *testing.B, lib string, late time.Duration) {
	b.StopTimer()
	srv := startServer(b, lib, compressOff)
	pid := srv.cmd.Process.Pid
	time.Sleep(time.Second) // what the runtime does just after start-up
	fresh, _, err := procMemory(pid)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var closers []func()
	defer func() {
		// The server goes first, so that it is the one waiting out
		// TIME_WAIT and the clients' ports are free at once.
		srv.stop()
		closeEach(closers)
	}()
	b.StartTimer()
	closers, err = openManyAtOnce(ctx, srv.addr, coldStartConns, coldStartWidth, openEchoedOnce(1024))
	if err != nil {
		b.Fatalf("%s: %v", lib, err)
	}
	b.StopTimer()
	opened := time.Now()
	time.Sleep(coldStartSoon)
	soon, _, err := procMemory(pid)
	if err != nil {
		b.Fatal(err)
	}
	if testing.Verbose() {
		logColdStart(b, srv, "+5s")
	}
	if dir := os.Getenv(envProfile); dir != "" {
		fetchHeapProfile(b, srv, filepath.Join(dir, fmt.Sprintf("%s-coldstart-%d.heap.pprof", lib, pid)))
	}
	time.Sleep(time.Until(opened.Add(late)))
	after, peak, err := procMemory(pid)
	if err != nil {
		b.Fatal(err)
	}
	if testing.Verbose() {
		logColdStart(b, srv, "late")
	}
	per := func(rss uint64) float64 { return (float64(rss) - float64(fresh)) / coldStartConns }
	b.ReportMetric(per(soon), "rss-soon-B/conn")
	b.ReportMetric(per(after), "rss-late-B/conn")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(fresh)/(1<<20), "fresh-MiB")
}

// openEchoedOnce returns an openFunc whose connection echoes one message of size
// bytes and then stays open, idle.
func openEchoedOnce(size int) openFunc {
	payload := binaryPayload(size)
	frame := maskedFrame(opBinary, payload)
	return func(ctx context.Context, addr string) (func(), error) {
		c, err := dialRaw(ctx, addr, "/echo", 4096)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			c.nc.SetDeadline(dl)
		}
		if err := roundTrip(c, frame, len(payload)); err != nil {
			c.close()
			return nil, err
		}
		return func() { c.close() }, nil
	}
}

// fetchHeapProfile writes the server's heap profile, as of its last
// garbage collection and with every allocation since it started, to name.
func fetchHeapProfile(tb testing.TB, srv *serverProc, name string) {
	tb.Helper()
	resp, err := srv.ctl.Get("http://" + srv.addr + "/ctl/heap")
	if err != nil {
		tb.Fatalf("%s server heap profile: %v", srv.lib, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s server heap profile: %s", srv.lib, resp.Status)
	}
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		tb.Fatal(err)
	}
}

// logColdStart logs what the server's runtime says it holds, without a
// garbage collection.
func logColdStart(b *testing.B, srv *serverProc, when string) {
	st := srv.stats(b, false)
	const mib = 1 << 20
	b.Logf("%s %s: heap in use %.1f MiB, idle %.1f (released %.1f), stacks %.1f, runtime's total %.1f, %d GCs, %d goroutines",
		srv.lib, when, float64(st.HeapInuse)/mib, float64(st.HeapIdle)/mib, float64(st.HeapReleased)/mib,
		float64(st.StackInuse)/mib, float64(st.Sys)/mib, st.NumGC, st.Goroutines)
}
