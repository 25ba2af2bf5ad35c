package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// coldStartLibs are the servers of the cold-start rows: the Duplex engine
// behind net/http's server as is, behind a ReleaseListener, with its
// upgrades read by ServeUpgrades behind a ReleaseListener, and accepting
// its sockets itself (Engine.ServeUpgrades), as is and from inside a
// ReleaseListener, and the peer the scale issue measures it against.
var coldStartLibs = []string{"duplex-engine", "duplex-engine-release", "duplex-engine-upgrades-release", "duplex-engine-accept", "duplex-engine-accept-release", "nbio"}

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

// coldStartLate skips a cold-start benchmark under -short, and returns how
// long after the storm its late figure is taken: 200 s, or what
// DUPLEX_BENCH_COLDSTART_LATE says.
func coldStartLate(b *testing.B) time.Duration {
	b.Helper()
	if testing.Short() {
		b.Skip("cold-start memory waits 200 s per server: not in -short")
	}
	s := os.Getenv(envColdStartLate)
	if s == "" {
		return 200 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		b.Fatalf("%s: %v", envColdStartLate, err)
	}
	return d
}

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
// One measurement per run whatever b.N; run it with -benchtime 1x (else the
// testing package, which times only the storm, runs it again with a larger
// b.N) and with the servers alternated (-count 1 in a loop, see RESULTS.md), the server on one core and this
// process, the load generator, on another. It takes 3.5 minutes a server
// and is skipped with -short. With DUPLEX_BENCH_CPUPROFILE set the server
// also writes a heap profile of the storm, fetched at +5 s:
// <lib>-coldstart-<pid>.heap.pprof.
func BenchmarkColdStartMemory(b *testing.B) {
	late := coldStartLate(b)
	for _, lib := range coldStartLibs {
		b.Run(fmt.Sprintf("conns=%d/lib=%s", coldStartConns, lib), func(b *testing.B) {
			benchColdStart(b, lib, late)
		})
	}
}

func benchColdStart(b *testing.B, lib string, late time.Duration) {
	b.StopTimer()
	benchColdStartOf(b, startServer(b, lib, compressOff), late)
}

// benchColdStartOf measures srv, a server process just started.
func benchColdStartOf(b *testing.B, srv *serverProc, late time.Duration) {
	b.StopTimer()
	lib := srv.lib
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
	if testing.Verbose() && srv.stopFunc == nil {
		logColdStart(b, srv, "+5s")
	}
	if dir := os.Getenv(envProfile); dir != "" && srv.stopFunc == nil {
		fetchHeapProfile(b, srv, filepath.Join(dir, fmt.Sprintf("%s-coldstart-%d.heap.pprof", lib, pid)))
	}
	time.Sleep(time.Until(opened.Add(late)))
	after, peak, err := procMemory(pid)
	if err != nil {
		b.Fatal(err)
	}
	if testing.Verbose() && srv.stopFunc == nil {
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

// BenchmarkColdStartServe is BenchmarkColdStartMemory against `duplex
// serve` itself, the operator's server, built from ../cmd/duplex: its
// engine mode (the default on Linux) serving /echo, with its defaults
// (storm memory released) and with --keep-storm-memory, and then nbio's
// benchmark server for a ratio in the same run. It runs with
// --ping-interval 0, since the raw clients read nothing while idle and would
// be closed for missing pongs, and --tcp-keepalive 0, as every other row
// runs without TCP keep-alive: on loopback its probes, 10,000 in step, are
// dropped, and the connections aborted in a wave at about 150 s idle (see
// RESULTS.md, "The idle growth"). The server is pinned as the benchmark
// servers are (DUPLEX_BENCH_SERVER_CPUS).
func BenchmarkColdStartServe(b *testing.B) {
	late := coldStartLate(b)
	bin := filepath.Join(b.TempDir(), "duplex")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "cmd", "duplex")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("building duplex: %v\n%s", err, out)
	}
	for _, row := range []struct {
		name string
		args []string
	}{
		{"duplex-serve", nil},
		{"duplex-serve-keep", []string{"--keep-storm-memory"}},
	} {
		b.Run(fmt.Sprintf("conns=%d/lib=%s", coldStartConns, row.name), func(b *testing.B) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--ping-interval", "0", "--tcp-keepalive", "0", "--no-deflate"}, row.args...)
			srv := startDuplexServe(b, bin, args...)
			benchColdStartOf(b, srv, late)
		})
	}
	b.Run(fmt.Sprintf("conns=%d/lib=nbio", coldStartConns), func(b *testing.B) {
		benchColdStart(b, "nbio", late)
	})
}

// startDuplexServe runs the duplex binary bin with args (a serve command
// listening on port 0) and registers its stop with tb.Cleanup: SIGTERM,
// and a kill by PID 5 s later.
func startDuplexServe(tb testing.TB, bin string, args ...string) *serverProc {
	tb.Helper()
	name := bin
	if cpus := os.Getenv(envServerCPUs); cpus != "" {
		name, args = "taskset", append([]string{"-c", cpus, bin}, args...)
	}
	cmd := exec.Command(name, args...)
	// Its log (a line per connection) is written, as an operator's
	// would be, and dropped.
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &serverProc{lib: "duplex-serve", cmd: cmd, ctl: &http.Client{Timeout: 30 * time.Second}}
	p.stopFunc = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	tb.Cleanup(p.stop)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(s, "duplex: listening on http://")
		if !ok {
			tb.Fatalf("duplex serve said %q", s)
		}
		p.addr = addr
	case <-time.After(30 * time.Second):
		tb.Fatal("duplex serve did not start within 30s")
	}
	return p
}
