package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// compressLibs are the libraries of the compression benchmarks. gobwas/ws is
// not among them: it offers permessage-deflate only as low-level helpers
// (wsflate) to wire into one's own frame loop, not as a server option.
var compressLibs = []string{"duplex", "gorilla", "coder", "gws"}

// compressModes are the two ways of running permessage-deflate.
var compressModes = []compressMode{compressTakeover, compressNoTakeover}

// compressConns is the number of connections of the compression memory
// benchmark; a short run uses 50.
func compressConns() int {
	if testing.Short() {
		return 50
	}
	return 1000
}

// skipCompression skips a row that lib cannot run, saying why.
func skipCompression(tb testing.TB, lib string, mode compressMode) {
	tb.Helper()
	if lib == "gorilla" && mode == compressTakeover {
		tb.Skip("gorilla/websocket implements permessage-deflate without context takeover only")
	}
}

// countingConn counts the bytes read from and written to a net.Conn.
type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

// Read reads from the connection and counts the bytes.
func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// Write writes to the connection and counts the bytes.
func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// wireCount is the traffic of the connections made by its dial function.
type wireCount struct {
	read, written atomic.Int64
}

// dial connects to addr and counts the connection's bytes.
func (w *wireCount) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, read: &w.read, written: &w.written}, nil
}

// total is the count of bytes both ways.
func (w *wireCount) total() int64 { return w.read.Load() + w.written.Load() }

// dialCompressed opens a Duplex client to the echo endpoint at addr offering
// permessage-deflate in mode, and checks that the server accepted it.
func dialCompressed(ctx context.Context, addr string, mode compressMode, wc *wireCount) (*websocket.Conn, error) {
	opts := &websocket.DialOptions{
		Compression: &websocket.CompressionOptions{},
		ReadLimit:   maxMessage,
	}
	if mode == compressNoTakeover {
		opts.Compression.ServerNoContextTakeover = true
		opts.Compression.ClientNoContextTakeover = true
	}
	if wc != nil {
		opts.NetDialContext = wc.dial
	}
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/echo", opts)
	if err != nil {
		return nil, err
	}
	ext := c.Extensions()
	switch {
	case !strings.Contains(ext, "permessage-deflate"):
		err = fmt.Errorf("server did not negotiate permessage-deflate (extensions %q)", ext)
	case mode == compressTakeover && strings.Contains(ext, "no_context_takeover"):
		err = fmt.Errorf("server refused context takeover (extensions %q)", ext)
	case mode == compressNoTakeover && !strings.Contains(ext, "server_no_context_takeover"):
		err = fmt.Errorf("server kept its context (extensions %q)", ext)
	}
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	return c, nil
}

// echoText writes msg and checks that the echo is the same text.
func echoText(ctx context.Context, c *websocket.Conn, msg []byte) error {
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	typ, p, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if typ != websocket.MessageText || !bytes.Equal(p, msg) {
		return fmt.Errorf("echo: type %v, %d bytes, want text of %d bytes", typ, len(p), len(msg))
	}
	return nil
}

// BenchmarkCompressEcho measures compressed echo over one connection with
// context takeover (ctx=takeover) and without (ctx=notakeover), for JSON-like
// text of 1 KiB and 64 KiB. The client is Duplex's for every server. Besides
// the server figures of BenchmarkEcho it reports wire/payload: the bytes on
// the client's TCP connection both ways over the payload bytes both ways.
func BenchmarkCompressEcho(b *testing.B) {
	for _, mode := range compressModes {
		servers := make(map[string]*serverProc)
		for _, lib := range compressLibs {
			if lib == "gorilla" && mode == compressTakeover {
				continue
			}
			servers[lib] = startServer(b, lib, mode)
		}
		for _, size := range []int{1 << 10, 64 << 10} {
			for _, lib := range compressLibs {
				b.Run(fmt.Sprintf("ctx=%s/size=%d/lib=%s", mode, size, lib), func(b *testing.B) {
					skipCompression(b, lib, mode)
					benchCompressEcho(b, servers[lib], mode, size)
				})
			}
		}
		for _, s := range servers {
			s.stop()
		}
	}
}

// benchCompressEcho runs b.N compressed round trips on one connection.
func benchCompressEcho(b *testing.B, srv *serverProc, mode compressMode, size int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wc wireCount
	c, err := dialCompressed(ctx, srv.addr, mode, &wc)
	if err != nil {
		b.Fatalf("%s: %v", srv.lib, err)
	}
	defer c.CloseNow()
	// Distinct messages of the same kind, more of them than a 32 KiB
	// window holds, so that context takeover gains what it gains on a real
	// stream (the keys, the shapes) and not by finding a whole earlier
	// message in its window.
	msgs := make([][]byte, max(64, (256<<10)/size))
	for i := range msgs {
		msgs[i] = jsonText(size, uint64(i))
	}
	if err := echoText(ctx, c, msgs[0]); err != nil {
		b.Fatalf("%s: %v", srv.lib, err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	before := srv.stats(b, false)
	wire := wc.total()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if err := echoText(ctx, c, msgs[i%len(msgs)]); err != nil {
			b.Fatalf("%s: %v", srv.lib, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	after := srv.stats(b, false)
	reportServer(b, before, after, float64(b.N), elapsed, "msgs", "msg")
	b.ReportMetric(float64(wc.total()-wire)/float64(2*size*b.N), "wire/payload")
}

// BenchmarkCompressIdleMemory measures what each server holds per
// connection with permessage-deflate on, with and without context takeover.
// Each of compressConns Duplex clients echoes 1 KiB JSON-like messages and
// then waits: one message (traffic=1KiB), or 64 distinct ones
// (traffic=64KiB, 64 KiB each way: a busy connection whose windows are
// full); the figures are those of BenchmarkIdleMemory.
func BenchmarkCompressIdleMemory(b *testing.B) {
	n := compressConns()
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonText(1<<10, uint64(i+1))
	}
	for _, mode := range compressModes {
		for _, count := range []int{1, len(msgs)} {
			open := func(ctx context.Context, addr string) (func(), error) {
				c, err := dialCompressed(ctx, addr, mode, nil)
				if err != nil {
					return nil, err
				}
				for _, msg := range msgs[:count] {
					if err := echoText(ctx, c, msg); err != nil {
						c.CloseNow()
						return nil, err
					}
				}
				return func() { c.CloseNow() }, nil
			}
			for _, lib := range compressLibs {
				b.Run(fmt.Sprintf("ctx=%s/traffic=%dKiB/conns=%d/lib=%s", mode, count, n, lib), func(b *testing.B) {
					skipCompression(b, lib, mode)
					benchIdle(b, lib, mode, n, open)
				})
			}
		}
	}
}

// TestCompressedEcho checks that every compressing server negotiates
// permessage-deflate with Duplex's client in both modes, echoes text
// unchanged, and sends fewer bytes than the text.
func TestCompressedEcho(t *testing.T) {
	for _, mode := range compressModes {
		for _, lib := range compressLibs {
			t.Run(fmt.Sprintf("%s/%s", mode, lib), func(t *testing.T) {
				skipCompression(t, lib, mode)
				srv := startServer(t, lib, mode)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var wc wireCount
				c, err := dialCompressed(ctx, srv.addr, mode, &wc)
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				start := wc.total()
				var payload int64
				for i := range 4 {
					msg := jsonText(16<<10, uint64(i))
					if err := echoText(ctx, c, msg); err != nil {
						t.Fatal(err)
					}
					payload += 2 * int64(len(msg))
				}
				if wire := wc.total() - start; wire >= payload/2 {
					t.Errorf("%d bytes on the wire for %d bytes of text: not compressed", wire, payload)
				}
			})
		}
	}
}
