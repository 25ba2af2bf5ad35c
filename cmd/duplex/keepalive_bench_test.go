package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

var (
	idleConns  = flag.Int("idle.conns", 10000, "connections BenchmarkServeIdleConns holds open")
	idleWindow = flag.Duration("idle.window", 60*time.Second, "how long BenchmarkServeIdleConns measures the server's CPU for")
)

// BenchmarkServeIdleConns measures what keep-alive pings cost duplex serve:
// -idle.conns connections (10,000) to /echo, each after one echo, held
// idle for -idle.window (60 s) with --ping-interval 25s (the default) and
// 0, in engine and goroutine modes. It reports the server process's RSS
// and the CPU it spent in the window. The clients answer the pings from an
// Engine of their own, in this process.
//
//	go test -run '^$' -bench ServeIdleConns -benchtime 1x ./cmd/duplex
func BenchmarkServeIdleConns(b *testing.B) {
	for _, engine := range []string{"true", "false"} {
		for _, ping := range []string{"25s", "0"} {
			b.Run(fmt.Sprintf("engine=%s/ping=%s", engine, ping), func(b *testing.B) {
				benchIdleConns(b, *idleConns, *idleWindow, "--engine="+engine, "--ping-interval", ping)
			})
		}
	}
}

func benchIdleConns(b *testing.B, n int, window time.Duration, args ...string) {
	s := startServer(b, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	var pings atomic.Int64
	clients, err := websocket.NewEngine(&websocket.EngineOptions{OnMessage: func(*websocket.Conn, websocket.MessageType, io.Reader) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer clients.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for range next {
				err := func() error {
					c, _, err := websocket.Dial(ctx, s.ws("/echo"), &websocket.DialOptions{OnPing: func([]byte) { pings.Add(1) }})
					if err != nil {
						return err
					}
					if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
						return err
					}
					if _, _, err := c.Read(ctx); err != nil {
						return err
					}
					return clients.Serve(c)
				}()
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatalf("opening %d connections: %v", n, first)
	}
	time.Sleep(5 * time.Second) // the echoes' workers go idle
	pid := s.cmd.Process.Pid
	cpu0, start := procCPU(b, pid), time.Now()
	b.ResetTimer()
	time.Sleep(window)
	cpu := procCPU(b, pid) - cpu0
	elapsed := time.Since(start)
	b.StopTimer()
	if got := clients.Len(); got != n {
		b.Fatalf("%d of %d connections left after the window", got, n)
	}
	b.ReportMetric(float64(procRSS(b, pid))/(1<<20), "srv-RSS-MiB")
	b.ReportMetric(cpu.Seconds()*1000/elapsed.Seconds(), "srv-CPU-ms/s")
	b.ReportMetric(float64(pings.Load())/float64(n), "pings/conn")
}

// procCPU returns the user and system CPU time process pid has spent.
func procCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which ends with ')'; utime
	// and stime are the 14th and 15th of the line, in clock ticks (100 Hz).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// procRSS returns the resident set of process pid, in bytes.
func procRSS(b *testing.B, pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}
