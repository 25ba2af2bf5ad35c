package websocket

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/duplexws/websocket/internal/wsconn"
)

func FuzzFrameHeader(f *testing.F) {
	for _, h := range []frameHeader{
		{fin: true, op: opText, length: 5},
		{fin: true, op: opBinary, masked: true, key: 0xdeadbeef, length: 126},
		{op: opText, rsv: bitRSV1, length: 70000},
		{fin: true, op: opClose, length: 2},
		{fin: true, op: opPing, masked: true, length: 125},
	} {
		f.Add(appendFrameHeader(nil, h))
	}
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x09, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := readFrameHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if h.length < 0 {
			t.Fatalf("negative length %d", h.length)
		}
		if h.op.isControl() && (!h.fin || h.length > maxControlPayload) {
			t.Fatalf("accepted invalid control frame %+v", h)
		}
		// What was accepted re-encodes to a header that decodes the same.
		h2, err := readFrameHeader(bufio.NewReader(bytes.NewReader(appendFrameHeader(nil, h))))
		if err != nil || h2 != h {
			t.Fatalf("re-encoding %+v gave %+v, %v", h, h2, err)
		}
	})
}

func FuzzClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add([]byte{0x03, 0xe8})
	f.Add([]byte{0x03, 0xe8, 'b', 'y', 'e'})
	f.Add([]byte{0x0b, 0xb8, 0xff})
	f.Add([]byte{0x03, 0xed})
	f.Fuzz(func(t *testing.T, p []byte) {
		ce, code, err := parseClosePayload(p)
		if err != nil {
			if code != StatusProtocolError && code != StatusInvalidFramePayloadData {
				t.Fatalf("invalid payload failed with code %v", code)
			}
			return
		}
		if len(p) == 0 {
			if ce.Code != StatusNoStatusRcvd {
				t.Fatalf("empty payload gave %v", ce.Code)
			}
			return
		}
		if !wsconn.ValidWireCode(int(ce.Code)) || !utf8.ValidString(ce.Reason) {
			t.Fatalf("accepted %+v", ce)
		}
		if got := appendClosePayload(nil, ce.Code, ce.Reason); !bytes.Equal(got, p) {
			t.Fatalf("re-encoded %x as %x", p, got)
		}
	})
}

func FuzzDialResponse(f *testing.F) {
	f.Add("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
	f.Add("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: b\r\n\r\n\x81\x02hi")
	f.Add("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope")
	f.Fuzz(func(t *testing.T, raw string) {
		srv := &fakeConn{r: strings.NewReader(raw)}
		req := httptest.NewRequest("GET", "http://x/", nil).WithContext(context.Background())
		c, resp, err := handshake(srv, req, "dGhlIHNhbXBsZSBub25jZQ==", &DialOptions{Subprotocols: []string{"a", "b"}})
		if err == nil {
			if c == nil || resp.StatusCode != 101 {
				t.Fatalf("accepted %q", raw)
			}
		}
	})
}

// fakeConn is a net.Conn that reads from r and discards writes.
type fakeConn struct {
	net.Conn
	r io.Reader
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }
