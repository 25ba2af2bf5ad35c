package legacy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
)

// discardConn is a net.Conn that swallows writes.
type discardConn struct{ wireConn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{16, 1024, 128 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			c := newConn(&discardConn{}, bufio.NewReader(strings.NewReader("")), "", 0, time.Second)
			p := bytes.Repeat([]byte("a"), size)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := c.Write(ctx, websocket.MessageText, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatReader replays one frame forever.
type repeatReader struct {
	frame []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.frame[r.off:])
		n += k
		r.off = (r.off + k) % len(r.frame)
	}
	return n, nil
}

func BenchmarkRead(b *testing.B) {
	for _, size := range []int{16, 1024, 128 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			frame := appendTextFrame(nil, bytes.Repeat([]byte("é"), size/2))
			var nc net.Conn = &discardConn{}
			c := newConn(nc, bufio.NewReader(&repeatReader{frame: frame}), "", 0, time.Second)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReader reads through Reader into a reused buffer, the way to read
// without allocating a buffer per message.
func BenchmarkReader(b *testing.B) {
	frame := appendTextFrame(nil, bytes.Repeat([]byte("a"), 1024))
	c := newConn(&discardConn{}, bufio.NewReader(&repeatReader{frame: frame}), "", 0, time.Second)
	ctx := context.Background()
	var buf bytes.Buffer
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		_, r, err := c.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := io.Copy(&buf, r); err != nil {
			b.Fatal(err)
		}
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
