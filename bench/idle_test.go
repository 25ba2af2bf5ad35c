package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// idleConns are the connection counts of the idle-memory benchmark, and
// the libraries measured at each; a short run uses 200 connections.
func idleRows() []struct {
	conns int
	libs  []string
} {
	if testing.Short() {
		return []struct {
			conns int
			libs  []string
		}{{200, slices.Concat(echoLibs, eventLibs)}}
	}
	return []struct {
		conns int
		libs  []string
	}{
		{10000, slices.Concat(echoLibs, eventLibs)},
		{19000, manyConnLibs},
	}
}

// BenchmarkIdleMemory measures what each library's server holds per idle
// connection. A fresh server process takes the raw clients; each echoes
// one 1 KiB message, as a connection that was used and then went quiet,
// and then all wait. After a garbage collection in the server, the growth
// of its heap in use plus goroutine stacks and of its RSS over the figures
// before the first connection (after a warm-up; see measureIdle) is divided
// by the connection count.
func BenchmarkIdleMemory(b *testing.B) {
	open := openEchoedOnce(1024)
	for _, row := range idleRows() {
		for _, lib := range row.libs {
			b.Run(fmt.Sprintf("conns=%d/lib=%s", row.conns, lib), func(b *testing.B) {
				benchIdle(b, lib, compressOff, row.conns, open)
			})
		}
	}
}

// benchIdle makes one measureIdle and reports the growth per connection.
// It measures once whatever b.N is: a measurement takes seconds, so the
// default -benchtime asks for one, and -benchtime Nx must not repeat it N
// times. Its ns/op is therefore not meaningful; -count repeats it.
func benchIdle(b *testing.B, lib string, mode compressMode, n int, open openFunc) {
	m := measureIdle(b, lib, mode, n, open)
	b.ReportMetric(m.heap, "srv-heap+stack-B/conn")
	b.ReportMetric(m.rss, "srv-rss-B/conn")
	b.ReportMetric(m.goroutines, "srv-goroutines/conn")
}

// openFunc opens one client connection to the server at addr, uses it as
// the benchmark needs and returns the function that closes it.
type openFunc func(ctx context.Context, addr string) (closeConn func(), err error)

// idleMemory is the growth of a server per connection.
type idleMemory struct {
	heap       float64 // heap in use plus stacks, bytes
	rss        float64 // resident set, bytes
	goroutines float64
}

// measureIdle starts a server of lib, opens n connections to it with open
// (a few at a time), waits a second and returns the server's growth per
// connection. The server is stopped before the clients close, so that it is
// the server's side that waits out TIME_WAIT and the client's ephemeral
// ports are free at once.
//
// The figures before the first connection are taken after a warm-up of
// warmConns connections, opened and closed the same way: what a server
// keeps once it has served any connections at all (its goroutines' free
// stacks, which the runtime keeps up to 64 per processor, a worker pool's
// lazily made parts) is a fixed cost, not a connection's, and would
// otherwise be spread over the connections measured.
func measureIdle(b *testing.B, lib string, mode compressMode, n int, open openFunc) idleMemory {
	b.StopTimer()
	srv := startServer(b, lib, mode)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var closers []func()
	defer func() {
		srv.stop()
		closeEach(closers)
	}()
	warm, err := openMany(ctx, srv.addr, min(warmConns, n), open)
	closeEach(warm)
	if err != nil {
		b.Fatalf("%s: warm-up: %v", lib, err)
	}
	time.Sleep(time.Second)
	base := srv.stats(b, true)
	b.StartTimer()
	closers, err = openMany(ctx, srv.addr, n, open)
	if err != nil {
		b.Fatalf("%s: %v", lib, err)
	}
	time.Sleep(time.Second)
	st := srv.stats(b, true)
	if st.Goroutines < n && !isEventLib(lib) {
		b.Fatalf("%s server has %d goroutines for %d connections: connections were dropped", lib, st.Goroutines, n)
	}
	per := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) }
	return idleMemory{
		heap:       per(st.HeapInuse+st.StackInuse, base.HeapInuse+base.StackInuse),
		rss:        per(st.RSS, base.RSS),
		goroutines: float64(st.Goroutines-base.Goroutines) / float64(n),
	}
}

// warmConns is the number of connections a server serves and loses before
// measureIdle takes its figures.
const warmConns = 256

// openMany opens n connections to addr with open, 32 at a time, and
// returns their closers (nil where one failed) and the first error.
func openMany(ctx context.Context, addr string, n int, open openFunc) ([]func(), error) {
	return openManyAtOnce(ctx, addr, n, 32, open)
}

// openManyAtOnce is openMany with width connections opening at a time.
func openManyAtOnce(ctx context.Context, addr string, n, width int, open openFunc) ([]func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	closers := make([]func(), n)
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	next := make(chan int)
	for range min(n, width) {
		wg.Go(func() {
			for i := range next {
				c, err := open(ctx, addr)
				if err != nil {
					errMu.Lock()
					first = cmp.Or(first, fmt.Errorf("connection %d: %w", i, err))
					errMu.Unlock()
					cancel()
					continue
				}
				closers[i] = c
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return closers, first
}

// closeEach calls every closer that is not nil.
func closeEach(closers []func()) {
	for _, c := range closers {
		if c != nil {
			c()
		}
	}
}
