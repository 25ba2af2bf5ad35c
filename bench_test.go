package websocket

import (
	"context"
	"io"
	"net"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkMask unmasks payloads of the echo benchmark's sizes and a large
// one; "copy" is a plain copy of the large one, for scale.
func BenchmarkMask(b *testing.B) {
	buf := make([]byte, 1<<20)
	for _, size := range []int{16, 1 << 10, 64 << 10, 1 << 20} {
		b.Run("mask-"+sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				mask(0x12345678, buf[:size])
			}
		})
	}
	b.Run("copy", func(b *testing.B) {
		dst := make([]byte, len(buf))
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			copy(dst, buf)
		}
	})
}

// pipePair returns a server and a client Conn joined by an in-memory pipe.
func pipePair(tb testing.TB) (server, client *Conn) {
	a, b := net.Pipe()
	tb.Cleanup(func() { a.Close(); b.Close() })
	server = newConn(newConnReader(a, 0), false, connConfig{})
	client = newConn(newConnReader(b, 0), true, connConfig{})
	return server, client
}

// tcpPair returns a server and a client Conn joined by loopback TCP.
func tcpPair(tb testing.TB) (server, client *Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		b.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	server = newConn(newConnReader(a, 0), false, connConfig{})
	client = newConn(newConnReader(b, 0), true, connConfig{})
	return server, client
}

// BenchmarkWriteRead sends small messages from client to server over a
// pipe and over loopback TCP (the "-tcp" rows), the steady state of a busy
// connection; it must not allocate. The "cancellable" rows use a context
// that can end, as an http.Request's does, which is what handlers usually
// pass.
func BenchmarkWriteRead(b *testing.B) {
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, size := range []int{16, 1024} {
		for _, bc := range []struct {
			name string
			ctx  context.Context
		}{{"background", context.Background()}, {"cancellable", cancellable}} {
			b.Run(sizeName(size)+"/"+bc.name, func(b *testing.B) {
				benchWriteRead(b, pipePair, bc.ctx, size)
			})
			b.Run(sizeName(size)+"/"+bc.name+"-tcp", func(b *testing.B) {
				benchWriteRead(b, tcpPair, bc.ctx, size)
			})
		}
	}
}

func benchWriteRead(b *testing.B, pair func(testing.TB) (server, client *Conn), ctx context.Context, size int) {
	server, client := pair(b)
	msg := make([]byte, size)
	buf := make([]byte, size)
	go func() {
		for {
			if err := client.Write(ctx, MessageBinary, msg); err != nil {
				return
			}
		}
	}()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		_, r, err := server.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// TestStream2GiB sends a 2 GiB message through Writer and Reader and checks
// that the heap stays bounded by buffers, not the message.
func TestStream2GiB(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("2 GiB transfer: skipped with -short and -race")
	}
	server, client := pipePair(t)
	server.SetReadLimit(-1)
	const size = 2 << 30
	ctx := context.Background()
	go func() {
		w, err := client.Writer(ctx, MessageBinary)
		if err != nil {
			return
		}
		io.Copy(w, io.LimitReader(&patternReader{}, size))
		w.Close()
	}()
	typ, r, err := server.Reader(ctx)
	if err != nil || typ != MessageBinary {
		t.Fatalf("Reader: %v", err)
	}
	var peak uint64
	sink := &heapWatch{peak: &peak}
	n, err := io.Copy(sink, r)
	if err != nil || n != size {
		t.Fatalf("received %d bytes: %v", n, err)
	}
	if peak > 64<<20 {
		t.Fatalf("heap peaked at %d MiB while streaming 2 GiB", peak>>20)
	}
	t.Logf("2 GiB streamed; heap peaked at %.1f MiB", float64(peak)/(1<<20))
}

// heapWatch discards what it is given, sampling the heap now and then.
type heapWatch struct {
	n    int64
	peak *uint64
}

func (h *heapWatch) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.n >= 64<<20 {
		h.n = 0
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		*h.peak = max(*h.peak, ms.HeapInuse)
	}
	return len(p), nil
}

// BenchmarkWriterSharedBuffers writes a 64 KiB message through Writer
// (4 KiB frames) on each of 256 connections in turn, as a server pushing
// to many clients does: the frame buffers are borrowed from pools for the
// message and returned on Close, so the connections share them, which is
// what gorilla's WriteBufferPool is for. B/op is what writing a message
// allocates, and stays near zero however many connections take turns.
func BenchmarkWriterSharedBuffers(b *testing.B) {
	const conns, size = 256, 64 << 10
	ctx := context.Background()
	clients := make([]*Conn, conns)
	for i := range clients {
		server, client := pipePair(b)
		clients[i] = client
		go func() {
			for {
				_, r, err := server.Reader(ctx)
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					return
				}
			}
		}()
	}
	msg := make([]byte, size)
	b.SetBytes(size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w, err := clients[i%conns].Writer(ctx, MessageBinary)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < size; off += 1000 { // written in pieces, as an encoder does
			if _, err := w.Write(msg[off:min(off+1000, size)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
