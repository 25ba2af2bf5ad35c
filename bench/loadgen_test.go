package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/loadgen"
)

// BenchmarkLoadGenerator checks that duplex bench's load generator
// (internal/loadgen, which runs Duplex's client with latency tracking) is not
// what limits a run against Duplex's server: it drives the server beside the
// raw client of the echo benchmark, whose frames are masked once in advance,
// the least a client can do. Rows are client=raw (as BenchmarkEcho) and
// client=loadgen (one measured second per sample, whatever b.N); similar
// msgs/s mean the server is the limit for both.
func BenchmarkLoadGenerator(b *testing.B) {
	srv := startServer(b, "duplex", compressOff)
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("conns=100/size=%d/client=raw", size), func(b *testing.B) {
			benchEcho(b, srv, 100, size)
		})
		b.Run(fmt.Sprintf("conns=100/size=%d/client=loadgen", size), func(b *testing.B) {
			benchLoadgen(b, srv, 100, size)
		})
	}
}

func benchLoadgen(b *testing.B, srv *serverProc, conns, size int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var rate float64
	for b.Loop() {
		res, err := loadgen.Run(ctx, loadgen.Config{
			URL: "ws://" + srv.addr + "/echo", Conns: conns, Size: size, Binary: true, Duration: time.Second,
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.Errors > 0 {
			b.Fatalf("%d errors: %v", res.Errors, res.ErrorSamples)
		}
		rate = res.MessagesPerSecond
	}
	b.ReportMetric(rate, "msgs/s")
}
