package websocket

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoHandler echoes every message with its type, streaming it through.
func echoHandler(t testing.TB, opts *AcceptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			wr, err := c.Writer(ctx, typ)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
			if err := wr.Close(); err != nil {
				return
			}
		}
	})
}

func TestEchoRoundTrip(t *testing.T) { run(t, testEchoRoundTrip) }

func testEchoRoundTrip(t *testing.T, m mode) {
	c := m.echo(t, nil).dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checkEchoes(t, ctx, c)
	if err := c.Close(StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := c.Read(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}

// echoCases are the messages an echo test sends: empty, text in several
// scripts, and every length class of the frame header on both sides of its
// bounds.
var echoCases = []struct {
	typ  MessageType
	data string
}{
	{MessageText, ""},
	{MessageText, "hello"},
	{MessageText, "héllo wörld — 你好 🎉"},
	{MessageBinary, "\x00\x01\x02\xff"},
	{MessageBinary, strings.Repeat("x", 125)},
	{MessageBinary, strings.Repeat("y", 126)},
	{MessageText, strings.Repeat("z", 65535)},
	{MessageText, strings.Repeat("w", 65536)},
	{MessageBinary, strings.Repeat("v", 1<<20+3)},
}

// checkEchoes writes each of echoCases to c, an echo server's client, and
// checks that it comes back whole and with its type.
func checkEchoes(t *testing.T, ctx context.Context, c *Conn) {
	t.Helper()
	for _, tc := range echoCases {
		if err := c.Write(ctx, tc.typ, []byte(tc.data)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if typ != tc.typ || string(got) != tc.data {
			t.Fatalf("echo of %v message of %d bytes: got %v of %d bytes", tc.typ, len(tc.data), typ, len(got))
		}
	}
}
