package bench

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// The HTTP/2 benchmarks run Duplex's server over TLS (the duplex-tls
// server: HTTP/1.1 and HTTP/2 by ALPN, extended CONNECT on) and compare
// WebSockets opened as streams of one HTTP/2 connection (RFC 8441) with
// WebSockets on TLS connections of their own (HTTP/1.1). The client is
// Duplex's Dial in both.

// h2Protos are the two ways of reaching the server.
var h2Protos = []string{"http1", "http2"}

// h2Dialer opens WebSockets to addr over proto; for http2 they share the
// transport's one HTTP/2 connection.
type h2Dialer struct {
	url  string
	opts *websocket.DialOptions
	tr   *http.Transport
}

func newH2Dialer(addr, proto string) *h2Dialer {
	insecure := &tls.Config{InsecureSkipVerify: true}
	d := &h2Dialer{url: "wss://" + addr + "/echo", opts: &websocket.DialOptions{TLSConfig: insecure, ReadLimit: maxMessage}}
	if proto == "http2" {
		d.tr = &http.Transport{TLSClientConfig: insecure, ForceAttemptHTTP2: true}
		d.opts.HTTP2 = d.tr
	}
	return d
}

func (d *h2Dialer) dial(ctx context.Context) (*websocket.Conn, error) {
	c, resp, err := websocket.Dial(ctx, d.url, d.opts)
	if err != nil {
		return nil, err
	}
	if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[d.tr != nil]; resp.Proto != want {
		c.CloseNow()
		return nil, fmt.Errorf("dialled over %s, want %s", resp.Proto, want)
	}
	return c, nil
}

// dialAll opens n WebSockets, 50 handshakes at a time.
func (d *h2Dialer) dialAll(ctx context.Context, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range min(n, 50) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := d.dial(ctx)
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	return conns, first
}

func (d *h2Dialer) close(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	if d.tr != nil {
		d.tr.CloseIdleConnections()
	}
}

// echoOnce sends msg on c and checks the echo.
func echoOnce(ctx context.Context, c *websocket.Conn, msg []byte) error {
	if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
		return err
	}
	_, p, err := c.Read(ctx)
	if err == nil && !bytes.Equal(p, msg) {
		err = fmt.Errorf("echo of %d bytes came back as %d", len(msg), len(p))
	}
	return err
}

// h2OpenConns is how many WebSockets BenchmarkHTTP2Open opens: 1,000, or
// 200 with -short.
func h2OpenConns() int {
	if testing.Short() {
		return 200
	}
	return 1000
}

// BenchmarkHTTP2Open opens 1,000 WebSockets to a fresh server, as streams
// of one HTTP/2 connection or each over TCP and TLS of its own, and echoes
// one 1 KiB message on each. It reports the time to open them all and what
// the server holds per WebSocket once they are open and used: the growth
// of its heap in use plus goroutine stacks, and of its RSS, after a garbage
// collection.
func BenchmarkHTTP2Open(b *testing.B) {
	n := h2OpenConns()
	msg := binaryPayload(1024)
	for _, proto := range h2Protos {
		b.Run(fmt.Sprintf("conns=%d/proto=%s", n, proto), func(b *testing.B) {
			var open time.Duration
			var heap, rss float64
			for range b.N {
				b.StopTimer()
				srv := startServer(b, "duplex-tls", compressOff)
				before := srv.stats(b, true)
				d := newH2Dialer(srv.addr, proto)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				b.StartTimer()
				start := time.Now()
				conns, err := d.dialAll(ctx, n)
				open += time.Since(start)
				b.StopTimer()
				if err == nil {
					for _, c := range conns {
						if err = echoOnce(ctx, c, msg); err != nil {
							break
						}
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				after := srv.stats(b, true)
				heap += float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
				rss += float64(after.RSS) - float64(before.RSS)
				d.close(conns)
				cancel()
				srv.stop()
			}
			b.ReportMetric(float64(open.Milliseconds())/float64(b.N), "ms/open-all")
			b.ReportMetric(heap/float64(b.N*n), "srv-heap+stack-B/conn")
			b.ReportMetric(rss/float64(b.N*n), "srv-rss-B/conn")
		})
	}
}

// BenchmarkHTTP2Echo echoes messages on 100 WebSockets, one message in
// flight on each, as streams of one HTTP/2 connection or over 100 TLS
// connections, and reports messages per second.
func BenchmarkHTTP2Echo(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		for _, proto := range h2Protos {
			b.Run(fmt.Sprintf("conns=100/size=%d/proto=%s", size, proto), func(b *testing.B) {
				srv := startServer(b, "duplex-tls", compressOff)
				d := newH2Dialer(srv.addr, proto)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				conns, err := d.dialAll(ctx, 100)
				defer d.close(conns)
				if err != nil {
					b.Fatal(err)
				}
				msg := binaryPayload(size)
				for _, c := range conns {
					if err := echoOnce(ctx, c, msg); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(size))
				before := srv.stats(b, false)
				b.ResetTimer()
				start := time.Now()
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				var mu sync.Mutex
				var first error
				for _, c := range conns {
					wg.Go(func() {
						for left.Add(-1) >= 0 {
							if err := echoOnce(ctx, c, msg); err != nil {
								mu.Lock()
								first = cmp.Or(first, err)
								mu.Unlock()
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
				reportServer(b, before, srv.stats(b, false), float64(b.N), elapsed, "msgs", "msg")
			})
		}
	}
}
