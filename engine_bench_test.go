package websocket

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEngineEcho has a client send small messages over loopback TCP
// to an Engine that echoes each one, and read the echo: the engine's event
// path (epoll, the connection table, a worker per burst) on every message.
// Connections run one message at a time each, several at once.
func BenchmarkEngineEcho(b *testing.B) {
	for _, conns := range []int{1, 16} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			ee := startEngineEcho(b, nil, nil)
			cs := make([]*Conn, conns)
			for i := range cs {
				cs[i] = dialT(b, ee.url, nil)
			}
			msg := make([]byte, 16)
			ctx := context.Background()
			b.SetBytes(int64(len(msg) * conns))
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range cs {
					if err := c.Write(ctx, MessageBinary, msg); err != nil {
						b.Fatal(err)
					}
				}
				for _, c := range cs {
					if _, _, err := c.Read(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
