package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPingFloodClosed checks the rate of pings a peer may send: a burst of
// controlBurst is answered, then controlRate a second, and a peer that
// sends more fails the connection with 1008, in goroutine and engine
// modes.
func TestPingFloodClosed(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		srv := m.start(t, handler{})
		p := dialRaw(t, srv, "")
		pings := func(n int) {
			var b bytes.Buffer
			for i := range n {
				h := frameHeader{fin: true, op: opPing, masked: true, length: 8, key: 0x01020304}
				b.Write(appendFrameHeader(nil, h))
				payload := []byte(fmt.Sprintf("%8d", i))
				mask(h.key, payload)
				b.Write(payload)
			}
			if _, err := p.nc.Write(b.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
		pongs := func(n int) {
			t.Helper()
			for i := range n {
				h, err := readFrameHeader(p.br)
				if err != nil {
					t.Fatalf("pong %d: %v", i, err)
				}
				if _, err := io.CopyN(io.Discard, p.br, h.length); err != nil {
					t.Fatal(err)
				}
				if h.op != opPong {
					t.Fatalf("frame %d: opcode %d, want a pong", i, h.op)
				}
			}
		}
		pings(controlBurst)
		pongs(controlBurst)
		time.Sleep(time.Second / 5) // 5 more allowed
		pings(4)
		pongs(4)
		pings(3 * controlBurst)
		if code := p.expectClose(); code != StatusPolicyViolation {
			t.Fatalf("close code %d after a flood of pings, want 1008", code)
		}
		var ce *CloseError
		if end := srv.ended(t); !errors.As(end.err, &ce) || ce.Code != StatusPolicyViolation {
			t.Errorf("the server's connection ended with %v, want a 1008", end.err)
		}
	}, plainTCP, plainTLS, plainEngine, deflateEngine)
}

// TestOwnPingsNotLimited checks that pongs answering this end's own pings
// are not counted as a flood, however fast it pings: a client pinging in
// a loop (measuring latency, say) a peer that answers without a limit of
// its own keeps its connection.
func TestOwnPingsNotLimited(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, _ := http.NewResponseController(w).Hijack()
		defer nc.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		p := &rawPeer{t: t, nc: nc, br: brw.Reader}
		for {
			h, err := readFrameHeader(p.br)
			if err != nil {
				return
			}
			payload := make([]byte, h.length)
			if _, err := io.ReadFull(p.br, payload); err != nil {
				return
			}
			mask(h.key, payload)
			if h.op != opPing {
				return
			}
			p.frame(bitFIN|byte(opPong), payload)
		}
	}))
	defer srv.Close()
	c := dialT(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	go c.Read(context.Background()) // reads the pongs
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 * controlBurst {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("ping %d of a client pinging in a loop: %v", i, err)
		}
	}
}

// TestPingFloodCostsOthersNothing runs 20 clients that send pings as fast
// as they can and never read, beside a client that echoes: the flooders
// are closed within a second, and every echo comes back within 200 ms (a
// second under the race detector).
func TestPingFloodCostsOthersNothing(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		srv := m.start(t, handler{})
		held := srv.dial(t, nil)
		var flooders []*rawPeer
		for range 20 {
			flooders = append(flooders, dialRaw(t, srv, ""))
		}
		var frame []byte
		for i := range 64 {
			h := frameHeader{fin: true, op: opPing, masked: true, length: 125, key: uint32(i)}
			frame = append(appendFrameHeader(frame, h), bytes.Repeat([]byte{'p'}, 125)...)
		}
		start := time.Now()
		done := make(chan time.Duration, len(flooders))
		for _, p := range flooders {
			go func() {
				p.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
				for {
					if _, err := p.nc.Write(frame); err != nil {
						done <- time.Since(start)
						return
					}
				}
			}()
		}
		worst := worstEcho(t, held)
		for range flooders {
			if d := <-done; d > 5*time.Second {
				t.Errorf("a flooder kept writing for %v", d)
			}
		}
		if bound := floodEchoBound(); worst > bound {
			t.Errorf("worst echo beside the flood: %v, want under %v", worst, bound)
		}
		t.Logf("worst echo beside 20 ping flooders: %v", worst)
	}, plainTCP, plainEngine)
}

// TestMessageFloodCostsOthersLittle runs 20 clients that send small
// messages as fast as they can beside a client that echoes: the server
// yields between connections, and every echo comes back within 200 ms (a
// second under the race detector).
func TestMessageFloodCostsOthersLittle(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		srv := m.start(t, handler{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
			if typ == MessageText {
				echoMessage(c, typ, r)
			}
		}})
		held := srv.dial(t, nil)
		var frame []byte
		for i := range 256 {
			h := frameHeader{fin: true, op: opBinary, masked: true, length: 16, key: uint32(i)}
			frame = append(appendFrameHeader(frame, h), bytes.Repeat([]byte{'m'}, 16)...)
		}
		stop := make(chan struct{})
		defer close(stop)
		for range 20 {
			p := dialRaw(t, srv, "")
			p.nc.SetWriteDeadline(time.Time{})
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := p.nc.Write(frame); err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		worst := worstEcho(t, held)
		if bound := floodEchoBound(); worst > bound {
			t.Errorf("worst echo beside the flood: %v, want under %v", worst, bound)
		}
		t.Logf("worst echo beside 20 message flooders: %v", worst)
	}, plainTCP, plainEngine)
}

// worstEcho has held, a client of an echoing server, send and read back
// 20 messages 20 ms apart, and returns the slowest round trip.
func worstEcho(t *testing.T, held *Conn) time.Duration {
	t.Helper()
	var worst time.Duration
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t0 := time.Now()
		if err := held.Write(ctx, MessageText, []byte("still there?")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := held.Read(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		worst = max(worst, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	return worst
}

// floodEchoBound is the slowest echo allowed beside flooders: 200 ms, and
// a second under the race detector, which slows every goroutine several
// times over.
func floodEchoBound() time.Duration {
	if raceEnabled {
		return time.Second
	}
	return 200 * time.Millisecond
}

// TestPongNotReadFails checks that a peer that pings while it reads
// nothing the server writes, so that the pong cannot go out, is failed
// with 1008 after the close timeout rather than left half served.
func TestPongNotReadFails(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		big := make([]byte, 64<<20)
		srv := m.start(t, handler{
			Accept:   &AcceptOptions{CloseTimeout: 300 * time.Millisecond},
			OnAccept: func(c *Conn) { go c.Write(context.Background(), MessageBinary, big) },
		})
		p := dialRaw(t, srv, "")
		time.Sleep(100 * time.Millisecond) // the server's writes fill the socket
		p.frame(byte(opPing)|bitFIN, []byte("are you reading?"))
		start := time.Now()
		var ce *CloseError
		if end := srv.ended(t); !errors.As(end.err, &ce) || ce.Code != StatusPolicyViolation {
			t.Fatalf("the server's connection ended with %v, want a 1008", end.err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("ended %v after the ping", d)
		}
	}, plainTCP, plainEngine)
}
