package legacy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	websocket "github.com/duplexws/websocket"
)

// pair returns a Conn over loopback TCP and the raw other end, on which a
// test writes and checks the bytes of the wire.
func pair(t *testing.T, readLimit int64, closeTimeout time.Duration) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- nc
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc := <-accepted
	if nc == nil {
		t.Fatal("accept failed")
	}
	c := newConn(nc, bufio.NewReader(nc), "", readLimit, closeTimeout)
	t.Cleanup(func() {
		c.CloseNow()
		raw.Close()
	})
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	return c, raw
}

// pipePair is pair over an in-memory pipe, for tests in a synctest bubble.
func pipePair(t *testing.T) (*Conn, net.Conn) {
	nc, raw := net.Pipe()
	c := newConn(nc, bufio.NewReader(nc), "", 0, 0)
	t.Cleanup(func() {
		c.CloseNow()
		raw.Close()
	})
	return c, raw
}

// testContext is a context that ends the test's waits after a while.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading %d bytes from the wire: %v (got %q)", n, err, b)
	}
	return b
}

func TestReadFrames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	for _, tt := range []struct {
		name string
		wire string
		want []string
	}{
		{"text", "\x00hello\xff", []string{"hello"}},
		{"empty", "\x00\xff", []string{""}},
		{"UTF-8", "\x00grüße, 世界 🌍\xff", []string{"grüße, 世界 🌍"}},
		{"two in one packet", "\x00a\xff\x00b\xff", []string{"a", "b"}},
		{"sentinel frame of another type is skipped", "\x05junk\xff\x00ok\xff", []string{"ok"}},
		{"length frame is skipped", "\x80\x03abc\x00ok\xff", []string{"ok"}},
		{"length frame with 0xFF inside is skipped", "\x80\x02\xff\x00\x00ok\xff", []string{"ok"}},
		{"two-byte length", "\x81\x81\x01" + strings.Repeat("x", 129) + "\x00ok\xff", []string{"ok"}},
		{"empty length frame", "\x80\x00\x00ok\xff", []string{"ok"}},
		{"0xFF with a length is not closing", "\xff\x02ab\x00ok\xff", []string{"ok"}},
		{"long", "\x00" + long + "\xff", []string{long}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, raw := pair(t, 0, 0)
			ctx := testContext(t)
			if _, err := io.WriteString(raw, tt.wire); err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				typ, p, err := c.Read(ctx)
				if err != nil || typ != websocket.MessageText || string(p) != want {
					t.Fatalf("Read = %v, %q, %v; want text %q", typ, p, err, want)
				}
			}
		})
	}
}

func TestWriteFrames(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	big := strings.Repeat("ü", maxBufferedWrite) // longer than one buffer, sent without copying
	for _, msg := range []string{"hi", "", "grüße", big} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got := readN(t, raw, len(msg)+2); string(got) != "\x00"+msg+"\xff" {
			t.Fatalf("wire %q, want %q", got[:min(len(got), 20)], "\x00"+msg[:min(len(msg), 18)]+"\xff")
		}
	}
	// A streamed message, written in pieces that split runes and exceed the buffer.
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("a€b" + big)
	for _, piece := range [][]byte{msg[:2], msg[2:3], msg[3:10], msg[10:]} {
		if n, err := w.Write(piece); err != nil || n != len(piece) {
			t.Fatalf("Write(%d bytes) = %d, %v", len(piece), n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, raw, len(msg)+2); !bytes.Equal(got, append(append([]byte{0}, msg...), 0xff)) {
		t.Fatal("streamed message arrived changed")
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errWriterClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestBinaryUnsupported(t *testing.T) {
	t.Parallel()
	c, _ := pair(t, 0, 0)
	ctx := testContext(t)
	if err := c.Write(ctx, websocket.MessageBinary, []byte{1, 2}); !errors.Is(err, ErrBinaryUnsupported) {
		t.Errorf("Write binary: %v, want ErrBinaryUnsupported", err)
	}
	if _, err := c.Writer(ctx, websocket.MessageBinary); !errors.Is(err, ErrBinaryUnsupported) {
		t.Errorf("Writer binary: %v, want ErrBinaryUnsupported", err)
	}
	if err := c.Write(ctx, websocket.MessageType(7), nil); err == nil {
		t.Error("Write of an unknown type succeeded")
	}
	// The connection is still usable.
	if err := c.Write(ctx, websocket.MessageText, []byte("ok")); err != nil {
		t.Error(err)
	}
}

func TestWriteRefusesInvalidUTF8(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	for _, p := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "\xc0\xaf"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(p)); !errors.Is(err, ErrInvalidUTF8) {
			t.Errorf("Write(%q): %v, want ErrInvalidUTF8", p, err)
		}
	}
	// Invalid text in a Writer before anything was sent drops the message
	// and keeps the connection.
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("ab\xff")); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("Writer.Write: %v, want ErrInvalidUTF8", err)
	}
	if err := w.Close(); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("Writer.Close: %v, want ErrInvalidUTF8", err)
	}
	w, _ = c.Writer(ctx, websocket.MessageText)
	w.Write([]byte("a\xe2\x82"))
	if err := w.Close(); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("Close after an unfinished rune: %v, want ErrInvalidUTF8", err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("fine")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, raw, 6); string(got) != "\x00fine\xff" {
		t.Fatalf("wire %q: the refused messages left bytes behind", got)
	}
}

func TestReadInvalidUTF8ClosesTheConnection(t *testing.T) {
	t.Parallel()
	for _, wire := range []string{
		"\x00\xc3\x28\xff",         // bad continuation byte
		"\x00ab\xe2\x82\xff",       // rune cut by the end of the frame
		"\x00\xed\xa0\x80\xff",     // UTF-16 surrogate
		"\x00\xc0\xaf\xff",         // overlong encoding
		"\x00\xf4\x90\x80\x80\xff", // beyond U+10FFFF
	} {
		t.Run(fmt.Sprintf("%q", wire), func(t *testing.T) {
			c, raw := pair(t, 0, 0)
			ctx := testContext(t)
			io.WriteString(raw, wire)
			_, _, err := c.Read(ctx)
			if !errors.Is(err, websocket.ErrClosed) || websocket.CloseStatus(err) != websocket.StatusInvalidFramePayloadData {
				t.Fatalf("Read: %v, want ErrClosed with status 1007", err)
			}
			if got := readN(t, raw, 2); string(got) != "\xff\x00" {
				t.Fatalf("wire %q, want the closing frame", got)
			}
			if _, err := raw.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("after the closing frame: %v, want EOF", err)
			}
		})
	}
}

func TestReadLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		limit int64
		wire  string
		ok    bool
	}{
		{"at the limit", 10, "\x00" + strings.Repeat("a", 10) + "\xff", true},
		{"over the limit", 10, "\x00" + strings.Repeat("a", 11) + "\xff", false},
		{"over the limit, never ending", 10, "\x00" + strings.Repeat("a", 100), false},
		{"skipped sentinel frame over the limit", 10, "\x01" + strings.Repeat("a", 11) + "\xff", false},
		{"skipped length frame over the limit", 10, "\x80\x0b" + strings.Repeat("a", 11), false},
		{"huge length prefix", -1, "\x80" + strings.Repeat("\xff", 10) + "\x01", false},
		{"no limit", -1, "\x00" + strings.Repeat("a", 1000) + "\xff", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, raw := pair(t, tt.limit, 0)
			ctx := testContext(t)
			io.WriteString(raw, tt.wire)
			_, p, err := c.Read(ctx)
			if tt.ok {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				return
			}
			if !errors.Is(err, websocket.ErrClosed) || p != nil {
				t.Fatalf("Read = %d bytes, %v; want ErrClosed", len(p), err)
			}
			if tt.limit >= 0 && (!errors.Is(err, websocket.ErrMessageTooBig) || websocket.CloseStatus(err) != websocket.StatusMessageTooBig) {
				t.Fatalf("Read: %v, want ErrMessageTooBig with status 1009", err)
			}
			if tt.limit >= 0 && !strings.Contains(err.Error(), "SetReadLimit") {
				t.Errorf("error %q does not say how to raise the limit", err)
			}
			if got := readN(t, raw, 2); string(got) != "\xff\x00" {
				t.Fatalf("wire %q, want the closing frame", got)
			}
		})
	}
}

func TestSetReadLimit(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	if got := c.readLimit.Load(); got != 32<<20 {
		t.Fatalf("default limit %d, want 32 MiB", got)
	}
	c.SetReadLimit(3)
	io.WriteString(raw, "\x00abc\xff\x00abcd\xff")
	if _, p, err := c.Read(ctx); err != nil || string(p) != "abc" {
		t.Fatalf("Read = %q, %v", p, err)
	}
	if _, _, err := c.Read(ctx); !errors.Is(err, websocket.ErrMessageTooBig) {
		t.Fatalf("Read: %v, want ErrMessageTooBig", err)
	}
	c.SetReadLimit(0)
	if got := c.readLimit.Load(); got != 32<<20 {
		t.Fatalf("SetReadLimit(0) left %d, want the default", got)
	}
}

func TestReader(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	io.WriteString(raw, "\x00first message\xff\x00second\xff\x00third\xff")

	typ, r, err := c.Reader(ctx)
	if err != nil || typ != websocket.MessageText {
		t.Fatalf("Reader: %v, %v", typ, err)
	}
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "first message" {
		t.Fatalf("read %q", got)
	}
	// A reader left half-read is skipped by the next call, and then stale.
	_, r, _ = c.Reader(ctx)
	io.ReadFull(r, make([]byte, 2))
	if _, p, err := c.Read(ctx); err != nil || string(p) != "third" {
		t.Fatalf("Read after an unfinished Reader = %q, %v; want third", p, err)
	}
	if _, err := r.Read(buf); !errors.Is(err, errStaleReader) {
		t.Fatalf("stale reader: %v", err)
	}
}

func TestPeerClosing(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	io.WriteString(raw, "\x00last\xff\xff\x00")
	if _, p, err := c.Read(ctx); err != nil || string(p) != "last" {
		t.Fatalf("Read = %q, %v", p, err)
	}
	_, _, err := c.Read(ctx)
	var ce *websocket.CloseError
	if !errors.Is(err, websocket.ErrClosed) || !errors.As(err, &ce) || ce.Code != websocket.StatusNoStatusRcvd {
		t.Fatalf("Read after the peer's closing frame: %v, want ErrClosed with status 1005", err)
	}
	if got := readN(t, raw, 2); string(got) != "\xff\x00" {
		t.Fatalf("wire %q, want the answering closing frame", got)
	}
	if _, err := raw.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the closing frame: %v, want EOF (TCP closed)", err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("x")); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("Write after close: %v, want ErrClosed", err)
	}
	if _, _, err := c.Read(ctx); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("second Read after close: %v, want ErrClosed", err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close after the peer closed: %v, want nil", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	peer := make(chan error, 1)
	go func() {
		// A message the peer sent before seeing our closing frame is dropped.
		io.WriteString(raw, "\x00late\xff")
		got := make([]byte, 2)
		if _, err := io.ReadFull(raw, got); err != nil || string(got) != "\xff\x00" {
			peer <- fmt.Errorf("peer read %q, %v; want the closing frame", got, err)
			return
		}
		io.WriteString(raw, "\xff\x00")
		if _, err := raw.Read(got); err != io.EOF {
			peer <- fmt.Errorf("peer: after the handshake %v, want EOF", err)
			return
		}
		peer <- nil
	}()
	start := time.Now()
	if err := c.Close(websocket.StatusGoingAway, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v although the peer answered at once", d)
	}
	if err := <-peer; err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	if !errors.Is(err, websocket.ErrClosed) || websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("Read after Close: %v, want ErrClosed with our status 1001", err)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("second Close: %v, want nil", err)
	}
}

// TestCloseWhileReading closes a Conn whose Read is blocked, on a pipe so
// that synctest.Wait can tell when the Read is blocked.
func TestCloseWhileReading(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, raw := pipePair(t)
		readErr := make(chan error, 1)
		go func() {
			_, _, err := c.Read(testContext(t))
			readErr <- err
		}()
		synctest.Wait() // Read is blocked
		go func() {
			got := make([]byte, 2)
			io.ReadFull(raw, got)
			io.WriteString(raw, "\xff\x00")
		}()
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-readErr; !errors.Is(err, websocket.ErrClosed) {
			t.Fatalf("blocked Read returned %v, want ErrClosed", err)
		}
	})
}

func TestCloseRefusesBadArguments(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	for _, tt := range []struct {
		code   websocket.StatusCode
		reason string
	}{
		{websocket.StatusNoStatusRcvd, ""},
		{websocket.StatusAbnormalClosure, ""},
		{999, ""},
		{5000, ""},
		{websocket.StatusNormalClosure, strings.Repeat("r", 124)},
		{websocket.StatusNormalClosure, "\xff"},
	} {
		if err := c.Close(tt.code, tt.reason); err == nil {
			t.Errorf("Close(%d, %d-byte reason) = nil, want an error", tt.code, len(tt.reason))
		}
	}
	// Nothing was sent: the connection still carries messages.
	if err := c.Write(testContext(t), websocket.MessageText, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, raw, 4); string(got) != "\x00ok\xff" {
		t.Fatalf("wire %q", got)
	}
}

func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 100*time.Millisecond)
	start := time.Now()
	err := c.Close(websocket.StatusNormalClosure, "")
	if err == nil {
		t.Fatal("Close returned nil although the peer never answered")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Close gave up after %v, want about the 100ms close timeout", d)
	}
	if got := readN(t, raw, 2); string(got) != "\xff\x00" {
		t.Fatalf("wire %q, want the closing frame", got)
	}
	if _, err := raw.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the timeout: %v, want EOF (TCP closed)", err)
	}
}

func TestCloseNow(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		readErr <- err
	}()
	if err := c.CloseNow(); err != nil {
		t.Fatal(err)
	}
	if err := <-readErr; !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("Read: %v, want ErrClosed", err)
	}
	if _, err := raw.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("peer: %v, want EOF without a closing frame", err)
	}
	if err := c.CloseNow(); err != nil {
		t.Fatalf("second CloseNow: %v, want nil", err)
	}
}

func TestReadContext(t *testing.T) {
	t.Parallel()
	c, _ := pair(t, 0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := c.Read(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("Read: %v, want DeadlineExceeded and ErrClosed", err)
	}
}

func TestEndedContextLeavesTheConnectionUsable(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Read(ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", err)
	}
	if _, _, err := c.Reader(ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reader: %v, want context.Canceled", err)
	}
	if err := c.Write(ended, websocket.MessageText, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v, want context.Canceled", err)
	}
	if _, err := c.Writer(ended, websocket.MessageText); !errors.Is(err, context.Canceled) {
		t.Fatalf("Writer: %v, want context.Canceled", err)
	}
	ctx := testContext(t)
	io.WriteString(raw, "\x00still here\xff")
	if _, p, err := c.Read(ctx); err != nil || string(p) != "still here" {
		t.Fatalf("Read = %q, %v", p, err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("yes")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, raw, 5); string(got) != "\x00yes\xff" {
		t.Fatalf("wire %q", got)
	}
}

// TestContextThatEndedLateDoesNotBreakTheNextRead ends a Read's context
// after the Read returned; the next Read, with another context, blocks
// until data comes and gets it.
func TestContextThatEndedLateDoesNotBreakTheNextRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, raw := pipePair(t)
		go io.WriteString(raw, "\x00a\xff")
		ctx, cancel := context.WithCancel(context.Background())
		if _, p, err := c.Read(ctx); err != nil || string(p) != "a" {
			t.Fatalf("Read = %q, %v", p, err)
		}
		cancel()
		go func() {
			synctest.Wait() // the ended context's watch has run and the next Read is blocked
			io.WriteString(raw, "\x00b\xff")
		}()
		if _, p, err := c.Read(testContext(t)); err != nil || string(p) != "b" {
			t.Fatalf("Read after an earlier context ended = %q, %v", p, err)
		}
	})
}

func TestConcurrentWritersNeverInterleave(t *testing.T) {
	t.Parallel()
	c, raw := pair(t, 0, 0)
	ctx := testContext(t)
	const writers, messages = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range messages {
				// Long enough to need several TCP writes, alternating Write and Writer.
				msg := strings.Repeat(fmt.Sprintf("<%d:%d>", w, i), 500+i*50)
				if i%2 == 0 {
					if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				wr, err := c.Writer(ctx, websocket.MessageText)
				if err != nil {
					t.Error(err)
					return
				}
				for len(msg) > 0 {
					n := min(len(msg), 1000)
					wr.Write([]byte(msg[:n]))
					msg = msg[n:]
				}
				if err := wr.Close(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	peer := newConn(raw, bufio.NewReader(raw), "", -1, 0)
	seen := 0
	for seen < writers*messages {
		_, p, err := peer.Read(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", seen, err)
		}
		var w, i int
		if _, err := fmt.Sscanf(string(p), "<%d:%d>", &w, &i); err != nil {
			t.Fatalf("message starts %q", p[:min(20, len(p))])
		}
		if want := strings.Repeat(fmt.Sprintf("<%d:%d>", w, i), 500+i*50); string(p) != want {
			t.Fatalf("message <%d:%d> arrived mixed with another", w, i)
		}
		seen++
	}
	wg.Wait()
	// Close and writes racing: nothing panics, every write either succeeds or reports ErrClosed.
	var wg2 sync.WaitGroup
	for range 4 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for {
				err := c.Write(ctx, websocket.MessageText, []byte("x"))
				if err != nil {
					if !errors.Is(err, websocket.ErrClosed) {
						t.Errorf("Write during Close: %v, want ErrClosed", err)
					}
					return
				}
			}
		}()
	}
	go echoClose(peer)
	c.Close(websocket.StatusNormalClosure, "")
	wg2.Wait()
}

// echoClose reads until the closing handshake is over.
func echoClose(c *Conn) {
	for {
		if _, _, err := c.Read(context.Background()); err != nil {
			return
		}
	}
}
