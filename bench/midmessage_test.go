package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// midMessageLibs are the servers of the mid-message memory benchmark.
var midMessageLibs = []string{"duplex-engine", "duplex", "nbio", "gws"}

// Sizes of the mid-message benchmark: the length every client's frame
// header announces, and how much of the payload it has sent at each stage.
const (
	midMessageAnnounced = 1 << 20
	midMessageFirst     = 16
	midMessageSecond    = 64 << 10
)

// envMidProfile, when set, is a directory where the mid-message benchmark
// saves, at each stage, the server's heap profile (after a garbage
// collection) and its goroutines' stacks: <lib>-<pid>-<stage>.heap.pprof
// and <lib>-<pid>-<stage>.goroutines.txt.
const envMidProfile = "DUPLEX_BENCH_MIDPROFILE"

// envMidGone, when set, is how long the mid-message benchmark waits after
// the clients disconnected before its last stage (a Go duration; 5s by
// default), to see when each server gives the memory back.
const envMidGone = "DUPLEX_BENCH_MIDGONE"

// BenchmarkMidMessageMemory measures what a server holds for connections
// in the middle of a message. A fresh server process takes n raw clients
// on /stream (Duplex's servers stream each message back through Writer in
// 1 KiB chunks; the peers echo as they do, buffering the whole message);
// each client sends a binary, masked frame header announcing 1 MiB and the
// first 16 bytes of its payload, then (second stage) the payload up to
// 64 KiB, then disconnects. At each stage, once the server's RSS has
// settled, its VmRSS, heap in use plus stacks, stacks alone and
// goroutines, without a forced garbage collection, are taken over the same
// figures of the fresh process before the first connection and divided by
// n. The last stage is 5 seconds (1 under -short, or as envMidGone says)
// after the clients disconnected, and is taken once more after a forced collection
// (gone-gc), to tell memory still referenced from memory the runtime has
// not yet given back. peak-rss is VmHWM at the end over the starting RSS.
// One measurement per run whatever b.N; -count repeats each library in a
// row, so run it in a loop with -count 1 to alternate the servers
// (README.md). The timer runs throughout (seconds), so that the default
// -benchtime asks for one run: ns/op is the time of the whole measurement.
func BenchmarkMidMessageMemory(b *testing.B) {
	n, gone := 5000, 5*time.Second
	if testing.Short() {
		n, gone = 100, time.Second
	}
	if v := os.Getenv(envMidGone); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s: %v", envMidGone, err)
		}
		gone = d
	}
	frame := maskedFrame(opBinary, binaryPayload(midMessageAnnounced))
	hdr := len(frame) - midMessageAnnounced
	first, second := frame[:hdr+midMessageFirst], frame[hdr+midMessageFirst:hdr+midMessageSecond]
	for _, lib := range midMessageLibs {
		b.Run(fmt.Sprintf("conns=%d/lib=%s", n, lib), func(b *testing.B) {
			benchMidMessage(b, lib, n, gone, first, second)
		})
	}
}

// midStage is a server's growth per connection at one stage.
type midStage struct {
	rss, heap, stack, goroutines float64
}

// benchMidMessage makes the measurement of BenchmarkMidMessageMemory for
// lib with n clients, which send first and then second, and are gone for
// the time gone before the last stage.
func benchMidMessage(b *testing.B, lib string, n int, gone time.Duration, first, second []byte) {
	srv := startServer(b, lib, compressOff)
	pid := srv.cmd.Process.Pid
	srv.stats(b, false) // the control path's own first-use cost is not a connection's
	time.Sleep(200 * time.Millisecond)
	base, _ := procStatus(b, pid)
	baseSt := srv.stats(b, false)
	stage := func(name string) midStage {
		settleRSS(b, pid)
		rss, _ := procStatus(b, pid)
		st := srv.stats(b, false)
		saveMidProfile(b, srv, pid, name)
		return midStage{
			rss:        (float64(rss) - float64(base)) / float64(n),
			heap:       (float64(st.HeapInuse+st.StackInuse) - float64(baseSt.HeapInuse+baseSt.StackInuse)) / float64(n),
			stack:      (float64(st.StackInuse) - float64(baseSt.StackInuse)) / float64(n),
			goroutines: float64(st.Goroutines-baseSt.Goroutines) / float64(n),
		}
	}

	clients := dialMany(b, srv.addr, "/stream", n, 512)
	defer closeAll(clients)
	// Each client discards what the server sends back (Duplex's streaming
	// echo), so that no server write waits on a full socket.
	var drains sync.WaitGroup
	for _, c := range clients {
		drains.Go(func() {
			buf := make([]byte, 512)
			for {
				if _, err := c.nc.Read(buf); err != nil {
					return
				}
			}
		})
	}
	defer drains.Wait()
	sendEach(b, clients, first)
	at16 := stage("16B")
	if at16.goroutines < 0.99 && lib != "duplex-engine" && lib != "nbio" {
		b.Fatalf("%s server has %.2f goroutines a connection: connections were dropped", lib, at16.goroutines)
	}
	sendEach(b, clients, second)
	at64 := stage("64KiB")
	closeAll(clients)
	time.Sleep(gone)
	left := stage("gone")
	_, peak := procStatus(b, pid)
	srv.stats(b, true)
	rssGC, _ := procStatus(b, pid)

	b.ReportMetric(at16.rss, "rss-16B-B/conn")
	b.ReportMetric(at64.rss, "rss-64KiB-B/conn")
	b.ReportMetric(left.rss, "rss-gone-B/conn")
	b.ReportMetric((float64(rssGC)-float64(base))/float64(n), "rss-gone-gc-B/conn")
	b.ReportMetric((float64(peak)-float64(base))/float64(n), "peak-rss-B/conn")
	b.ReportMetric(at16.heap, "heap+stack-16B-B/conn")
	b.ReportMetric(at64.heap, "heap+stack-64KiB-B/conn")
	b.ReportMetric(left.heap, "heap+stack-gone-B/conn")
	b.ReportMetric(at16.stack, "stack-16B-B/conn")
	b.ReportMetric(at64.stack, "stack-64KiB-B/conn")
	b.ReportMetric(at16.goroutines, "goroutines-16B/conn")
	b.ReportMetric(at64.goroutines, "goroutines-64KiB/conn")
}

// sendEach writes p on every client, 32 at a time.
func sendEach(tb testing.TB, clients []*rawClient, p []byte) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	next := make(chan *rawClient)
	for range min(len(clients), 32) {
		wg.Go(func() {
			for c := range next {
				c.nc.SetWriteDeadline(deadline)
				if err := c.write(p); err != nil {
					errMu.Lock()
					first = cmp.Or(first, err)
					errMu.Unlock()
				}
			}
		})
	}
	for _, c := range clients {
		next <- c
	}
	close(next)
	wg.Wait()
	if first != nil {
		tb.Fatalf("sending %d bytes on each of %d connections: %v", len(p), len(clients), first)
	}
}

// settleRSS waits until the resident set of process pid changes by less
// than 1 % over half a second (the server has taken in what was sent), at
// least a second and at most 15.
func settleRSS(tb testing.TB, pid int) {
	tb.Helper()
	time.Sleep(time.Second)
	prev, _ := procStatus(tb, pid)
	for end := time.Now().Add(14 * time.Second); time.Now().Before(end); {
		time.Sleep(500 * time.Millisecond)
		rss, _ := procStatus(tb, pid)
		if d := float64(rss) - float64(prev); d*d < 1e-4*float64(prev)*float64(prev) {
			return
		}
		prev = rss
	}
}

// procStatus returns VmRSS and VmHWM (the peak of VmRSS) of process pid
// from /proc, in bytes.
func procStatus(tb testing.TB, pid int) (rss, hwm uint64) {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("reading the server's status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseUint(string(f[1]), 10, 64)
		if err != nil {
			continue
		}
		switch string(f[0]) {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	if rss == 0 || hwm == 0 {
		tb.Fatalf("no VmRSS or VmHWM in /proc/%d/status", pid)
	}
	return rss, hwm
}

// saveMidProfile saves the server's heap profile and goroutine stacks at
// stage into the directory named by envMidProfile, if it is set.
func saveMidProfile(tb testing.TB, srv *serverProc, pid int, stage string) {
	tb.Helper()
	dir := os.Getenv(envMidProfile)
	if dir == "" {
		return
	}
	for _, p := range []struct{ query, suffix string }{{"?gc=1", "heap.pprof"}, {"?debug=2", "goroutines.txt"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.addr+"/ctl/heap"+p.query, nil)
		resp, err := srv.ctl.Do(req)
		if err != nil {
			cancel()
			tb.Fatalf("%s server profile: %v", srv.lib, err)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d-%s.%s", srv.lib, pid, stage, p.suffix)))
		if err == nil {
			_, err = io.Copy(f, resp.Body)
			f.Close()
		}
		resp.Body.Close()
		cancel()
		if err != nil {
			tb.Fatalf("%s server profile: %v", srv.lib, err)
		}
	}
}

// TestStreamEchoServers checks that /stream of every server in the
// mid-message benchmark echoes messages unchanged, Duplex's streaming
// echo included (a message of many chunks comes back as one message, an
// empty one as an empty one).
func TestStreamEchoServers(t *testing.T) {
	for _, lib := range midMessageLibs {
		t.Run(lib, func(t *testing.T) {
			srv := startServer(t, lib, compressOff)
			clients := dialMany(t, srv.addr, "/stream", 2, 4096)
			defer closeAll(clients)
			for _, c := range clients {
				c.nc.SetDeadline(time.Now().Add(30 * time.Second))
				for _, size := range []int{0, 16, 1024, 1025, 64 << 10, 70000, midMessageAnnounced} {
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
