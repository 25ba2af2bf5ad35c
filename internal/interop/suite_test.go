package interop_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strconv"
	"strings"
	"testing"

	websocket "github.com/duplexws/websocket"
)

// Sizes of the large messages.
const (
	largeSize      = 16 << 20 // a 16 MiB message, both directions
	repetitiveSize = 64 << 10 // 64 KiB of repetitive text, compressed well
	randomSize     = 1 << 20  // 1 MiB of random bytes, not compressible
	burstCount     = 1000
)

const utf8Text = "héllo wörld — 你好 🎉"

// pattern returns n bytes that the browser page can recompute
// ((i*7 + i>>11) & 255), so that neither side needs to hold the other's copy.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func repetitiveText(n int) []byte {
	return []byte(strings.Repeat("duplex says hello; ", n/19+1)[:n])
}

// message is one row of the echo tables.
type message struct {
	name string
	typ  websocket.MessageType
	data []byte
}

func echoMessages(t *testing.T, compressed bool) []message {
	msgs := []message{
		{"text", websocket.MessageText, []byte("hello")},
		{"utf8", websocket.MessageText, []byte(utf8Text)},
		{"empty-text", websocket.MessageText, nil},
		{"binary", websocket.MessageBinary, pattern(256)},
		{"empty-binary", websocket.MessageBinary, nil},
		{"large-binary", websocket.MessageBinary, pattern(largeSize)},
		{"large-text", websocket.MessageText, bytes.Repeat([]byte(utf8Text), largeSize/len(utf8Text))},
	}
	if compressed {
		msgs = append(msgs,
			message{"repetitive-text", websocket.MessageText, repetitiveText(repetitiveSize)},
			message{"random-binary", websocket.MessageBinary, randomBytes(t, randomSize)},
		)
	}
	return msgs
}

// dialPeer is an echo server written elsewhere that our Dial talks to. It
// echoes every message with its type, except the text "close:CODE:REASON",
// on which it closes the connection with that code and reason. closed
// returns, one at a time, what the peer saw when connections ended, as
// "closed CODE REASON".
type dialPeer struct {
	url    string
	opts   *websocket.DialOptions
	closed func(ctx context.Context) (string, error)
	ext    extWant
}

// extWant lists what the negotiated Sec-WebSocket-Extensions value must and
// must not contain when compression is on, besides permessage-deflate.
type extWant struct {
	has, hasNot []string
}

// check compares ext, the negotiated value seen by one side, with w.
func (w extWant) check(t *testing.T, side, ext string, compressed bool) {
	t.Helper()
	t.Logf("%s negotiated extensions %q", side, ext)
	if compressed != strings.Contains(ext, "permessage-deflate") {
		t.Errorf("%s: extensions %q with compression %v", side, ext, compressed)
	}
	if !compressed {
		return
	}
	for _, s := range w.has {
		if !strings.Contains(ext, s) {
			t.Errorf("%s: extensions %q lack %q", side, ext, s)
		}
	}
	for _, s := range w.hasNot {
		if strings.Contains(ext, s) {
			t.Errorf("%s: extensions %q contain %q", side, ext, s)
		}
	}
}

// testDial runs our client against p: every message of the table
// round-trips with its type and bytes, a burst arrives in order, the
// negotiated extension matches, and close codes travel both ways.
func testDial(t *testing.T, p dialPeer, compressed bool) {
	dial := func(t *testing.T, ctx context.Context) *websocket.Conn {
		t.Helper()
		c, resp, err := websocket.Dial(ctx, p.url, p.opts)
		if err != nil {
			status := ""
			if resp != nil {
				status = resp.Status
			}
			t.Fatalf("Dial %s: %v (response %q)", p.url, err, status)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}

	t.Run("messages", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := dial(t, ctx)
		p.ext.check(t, "Dial", c.Extensions(), compressed)
		for _, m := range echoMessages(t, compressed) {
			if err := c.Write(ctx, m.typ, m.data); err != nil {
				t.Fatalf("%s: Write: %v", m.name, err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("%s: Read: %v", m.name, err)
			}
			if typ != m.typ || !bytes.Equal(got, m.data) {
				t.Errorf("%s: echo is type %d, %d bytes %.40q; sent type %d, %d bytes %.40q",
					m.name, typ, len(got), got, m.typ, len(m.data), m.data)
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	t.Run("streamed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := dial(t, ctx)
		for _, m := range []message{
			{"binary", websocket.MessageBinary, pattern(100<<10 + 7)},
			{"utf8-text", websocket.MessageText, bytes.Repeat([]byte(utf8Text), 5000)},
		} {
			// 1000-byte pieces split the multi-byte runes across frames.
			if err := writePieces(ctx, c, m.typ, m.data, 1000); err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			typ, r, err := c.Reader(ctx)
			if err != nil {
				t.Fatalf("%s: Reader: %v", m.name, err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: read the echo: %v", m.name, err)
			}
			if typ != m.typ || !bytes.Equal(got, m.data) {
				t.Errorf("%s: echo of a message written in pieces is type %d, %d bytes; sent type %d, %d bytes",
					m.name, typ, len(got), m.typ, len(m.data))
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	t.Run("burst", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := dial(t, ctx)
		for i := range burstCount {
			if err := c.Write(ctx, websocket.MessageText, []byte(strconv.Itoa(i))); err != nil {
				t.Fatalf("Write %d: %v", i, err)
			}
		}
		for i := range burstCount {
			_, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("Read %d: %v", i, err)
			}
			if string(got) != strconv.Itoa(i) {
				t.Fatalf("message %d of the burst is %q", i, got)
			}
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	t.Run("peer-closes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := dial(t, ctx)
		if err := c.Write(ctx, websocket.MessageText, []byte("close:4001:peer says bye")); err != nil {
			t.Fatal(err)
		}
		_, p, err := c.Read(ctx)
		if err == nil {
			t.Fatalf("Read returned message %q, want the peer's close", p)
		}
		wantClose(t, err, 4001, "peer says bye")
	})

	t.Run("we-close", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := dial(t, ctx)
		if err := c.Close(4002, "go says bye"); err != nil {
			t.Errorf("Close: %v", err)
		}
		const want = "closed 4002 go says bye"
		var seen []string
		for {
			line, err := p.closed(ctx)
			if err != nil {
				t.Fatalf("peer never reported %q (saw %q): %v", want, seen, err)
			}
			if line == want {
				break
			}
			seen = append(seen, line)
		}
	})
}
