package legacy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	websocket "github.com/duplexws/websocket"
)

// FuzzParseKey checks parseKey against the draft's rule computed another
// way: accept exactly when there are digits and spaces, the number fits in
// 32 bits and divides exactly, and then return the quotient.
func FuzzParseKey(f *testing.F) {
	for _, ex := range draftExamples {
		f.Add(ex.key1)
		f.Add(ex.key2)
	}
	for _, s := range []string{"", " ", "1 2", "4294967295 ", "4294967296 ", "1_ tx7X d  <  nw  334J702) 7]o}` 8", "0 0", "00000000000000000000004 2", "１ ２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		var digits []byte
		spaces := 0
		for _, b := range []byte(key) {
			if b >= '0' && b <= '9' {
				digits = append(digits, b)
			} else if b == ' ' {
				spaces++
			}
		}
		want, ok := new(big.Int), len(digits) > 0 && spaces > 0
		if ok {
			n, _ := new(big.Int).SetString(string(digits), 10)
			var rem big.Int
			want.QuoRem(n, big.NewInt(int64(spaces)), &rem)
			ok = n.BitLen() <= 32 && rem.Sign() == 0
		}
		got, err := parseKey(key)
		if ok != (err == nil) {
			t.Fatalf("parseKey(%q) = %d, %v; want ok=%v", key, got, err, ok)
		}
		if ok && uint64(got) != want.Uint64() {
			t.Fatalf("parseKey(%q) = %d, want %d", key, got, want.Uint64())
		}
	})
}

// wireConn is a net.Conn that reads a fixed byte string and collects what is
// written, for feeding the frame reader without a network.
type wireConn struct {
	r *bytes.Reader
	w bytes.Buffer
}

func (c *wireConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c *wireConn) Write(p []byte) (int, error)        { return c.w.Write(p) }
func (c *wireConn) Close() error                       { return nil }
func (c *wireConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *wireConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *wireConn) SetDeadline(t time.Time) error      { return nil }
func (c *wireConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *wireConn) SetWriteDeadline(t time.Time) error { return nil }

func wireConnOf(wire []byte, limit int64) *Conn {
	wc := &wireConn{r: bytes.NewReader(wire)}
	return newConn(wc, bufio.NewReaderSize(wc, 16), "", limit, time.Second)
}

// The ways a stream of frames can end.
const (
	endEOF       = iota // the bytes ran out (possibly inside a frame)
	endClosing          // the closing frame
	endFailed           // a frame broke a rule: too long, bad UTF-8, length overflow
	endEOFOrFail        // the bytes ran out inside a text frame whose UTF-8 may already be doomed
)

// referenceFrames reads wire the plain way, one whole frame at a time.
func referenceFrames(wire []byte, limit int) (msgs []string, end int) {
	for len(wire) > 0 {
		typ := wire[0]
		wire = wire[1:]
		if typ&0x80 != 0 {
			length, i := new(big.Int), 0
			for {
				if i == len(wire) {
					return msgs, endEOF
				}
				b := wire[i]
				i++
				length.Lsh(length, 7).Or(length, big.NewInt(int64(b&0x7f)))
				if length.BitLen() > 63 {
					return msgs, endFailed
				}
				if b&0x80 == 0 {
					break
				}
			}
			wire = wire[i:]
			if typ == 0xff && length.Sign() == 0 {
				return msgs, endClosing
			}
			if length.Int64() > int64(limit) {
				return msgs, endFailed
			}
			if length.Int64() > int64(len(wire)) {
				return msgs, endEOF
			}
			wire = wire[length.Int64():]
			continue
		}
		end := bytes.IndexByte(wire, 0xff)
		if end < 0 {
			if len(wire) > limit {
				return msgs, endFailed
			}
			return msgs, endEOFOrFail
		}
		body := wire[:end]
		wire = wire[end+1:]
		if len(body) > limit {
			return msgs, endFailed
		}
		if typ == 0x00 {
			if !utf8.Valid(body) {
				return msgs, endFailed
			}
			msgs = append(msgs, string(body))
		}
	}
	return msgs, endEOF
}

// FuzzReadFrames feeds arbitrary bytes to a Conn and compares the messages
// and the way the stream ended with referenceFrames.
func FuzzReadFrames(f *testing.F) {
	for _, s := range []string{
		"\x00hello\xff", "\x00\xff\xff\x00", "\x05junk\xff\x00ok\xff", "\x80\x03abc\x00ok\xff",
		"\x81\x01" + string(make([]byte, 129)) + "\x00x\xff", "\xff\x02ab\xff\x00", "\x00\xc3\x28\xff",
		"\x00grüße\xff\x00世界\xff", "\x00" + string(make([]byte, 70)) + "\xff", "\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		"\x00abc", "\x80", "\x00\xe2\x82", "",
	} {
		f.Add([]byte(s))
	}
	const limit = 64
	f.Fuzz(func(t *testing.T, wire []byte) {
		wantMsgs, wantEnd := referenceFrames(wire, limit)
		c := wireConnOf(wire, limit)
		ctx := context.Background()
		var err error
		for i := 0; ; i++ {
			var p []byte
			_, p, err = c.Read(ctx)
			if err != nil {
				if i != len(wantMsgs) {
					t.Fatalf("%d messages, want %d (%q): %v", i, len(wantMsgs), wantMsgs, err)
				}
				break
			}
			if i >= len(wantMsgs) || string(p) != wantMsgs[i] {
				t.Fatalf("message %d is %q; want %q", i, p, wantMsgs)
			}
			if !utf8.Valid(p) || len(p) > limit {
				t.Fatalf("message %q is over the limit or not UTF-8", p)
			}
		}
		if !errors.Is(err, websocket.ErrClosed) {
			t.Fatalf("Read ended with %v, want ErrClosed", err)
		}
		status := websocket.CloseStatus(err)
		failed := status == websocket.StatusMessageTooBig || status == websocket.StatusInvalidFramePayloadData || status == websocket.StatusProtocolError
		switch {
		case wantEnd == endClosing && status != websocket.StatusNoStatusRcvd,
			wantEnd == endEOF && status != websocket.StatusAbnormalClosure,
			wantEnd == endFailed && !failed,
			wantEnd == endEOFOrFail && !failed && status != websocket.StatusAbnormalClosure:
			t.Fatalf("stream ended with %v; the reference ended with %d", err, wantEnd)
		}
		// Answering a closing frame or failing sends exactly one closing frame.
		if sent := c.nc.(*wireConn).w.String(); (wantEnd == endClosing || failed) && sent != "\xff\x00" {
			t.Fatalf("sent %q, want one closing frame", sent)
		}
	})
}

// FuzzWriteRead writes text through Writer in pieces of a fuzzed size and
// reads it back: valid UTF-8 arrives unchanged, anything else is refused.
func FuzzWriteRead(f *testing.F) {
	f.Add("hello", 1)
	f.Add("grüße, 世界 🌍", 3)
	f.Add("a\xffb", 2)
	f.Add("", 5)
	f.Fuzz(func(t *testing.T, text string, piece int) {
		if piece <= 0 {
			piece = 1
		}
		ctx := context.Background()
		out := &wireConn{r: bytes.NewReader(nil)}
		c := newConn(out, bufio.NewReader(out), "", -1, time.Second)
		w, err := c.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Fatal(err)
		}
		for rest := []byte(text); len(rest) > 0 && err == nil; {
			n := min(piece, len(rest))
			_, err = w.Write(rest[:n])
			rest = rest[n:]
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if !utf8.ValidString(text) {
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("writing %q: %v, want ErrInvalidUTF8", text, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		_, p, err := wireConnOf(out.w.Bytes(), -1).Read(ctx)
		if err != nil || string(p) != text {
			t.Fatalf("read back %q, %v; want %q", p, err, text)
		}
	})
}

// hijackRecorder is an http.ResponseWriter whose connection can be taken
// over; the taken-over connection reads body and records what is written.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	conn *wireConn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReader(h.conn), bufio.NewWriter(h.conn)), nil
}

// FuzzAccept runs Accept on handshakes with fuzzed keys, key bytes, origin
// and subprotocol. It is accepted exactly when both keys parse and the key
// bytes are there; the answer must then be a well-formed response carrying
// the right 16 bytes, and a refusal must be a plain-text 4xx.
func FuzzAccept(f *testing.F) {
	for _, ex := range draftExamples {
		f.Add(ex.key1, ex.key2, ex.key3, "http://example.com", "sample")
	}
	f.Add("1 2", "3 4", "short", "", "")
	f.Add("1 2", "3 4", "12345678", "http://example.com\r\nX-Injected: 1", "a\nb")
	f.Add("12", "3 4", "12345678", "null", "")
	f.Fuzz(func(t *testing.T, key1, key2, key3, origin, protocol string) {
		r := httptest.NewRequest("GET", "http://example.com/demo", nil)
		r.Header.Set("Upgrade", "WebSocket")
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Sec-WebSocket-Key1", key1)
		r.Header.Set("Sec-WebSocket-Key2", key2)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if protocol != "" {
			r.Header.Set("Sec-WebSocket-Protocol", protocol)
		}
		w := &hijackRecorder{ResponseRecorder: httptest.NewRecorder(), conn: &wireConn{r: bytes.NewReader([]byte(key3))}}
		c, err := Accept(w, r, &AcceptOptions{InsecureSkipOriginCheck: true, Subprotocols: []string{protocol}})

		n1, err1 := parseKey(key1)
		n2, err2 := parseKey(key2)
		clean := !strings.ContainsFunc(origin+protocol, func(c rune) bool { return c < ' ' || c == 0x7f })
		wantOK := err1 == nil && err2 == nil && len(key3) >= 8 && clean
		if (err == nil) != wantOK {
			t.Fatalf("Accept: %v; want ok=%v", err, wantOK)
		}
		if err != nil {
			if !errors.Is(err, websocket.ErrBadHandshake) {
				t.Fatalf("Accept error %v does not wrap ErrBadHandshake", err)
			}
			if w.Code != http.StatusBadRequest && w.conn.w.Len() == 0 {
				t.Fatalf("refused with %d, want 400", w.Code)
			}
			return
		}
		defer c.CloseNow()
		br := bufio.NewReader(&w.conn.w)
		resp, rerr := http.ReadResponse(br, nil)
		if rerr != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("answer does not parse as a 101: %v, %v", resp, rerr)
		}
		for name := range resp.Header {
			switch name {
			case "Upgrade", "Connection", "Sec-Websocket-Origin", "Sec-Websocket-Location", "Sec-Websocket-Protocol":
			default:
				t.Fatalf("answer has an unexpected header %q", name)
			}
		}
		want := challengeAnswer(n1, n2, []byte(key3[:8]))
		got := make([]byte, 16)
		if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, want[:]) {
			t.Fatalf("answer bytes %q, %v; want %q", got, err, want[:])
		}
		if protocol != "" && c.Subprotocol() != protocol {
			t.Fatalf("Subprotocol() = %q, want %q", c.Subprotocol(), protocol)
		}
	})
}
