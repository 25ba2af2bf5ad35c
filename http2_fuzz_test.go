package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// HTTP/2 frame types and flags the fuzz client speaks (RFC 9113 §6).
const (
	h2Data          = 0x0
	h2Headers       = 0x1
	h2RSTStream     = 0x3
	h2Settings      = 0x4
	h2GoAway        = 0x7
	h2FlagAck       = 0x1
	h2FlagEndHdrs   = 0x4
	h2NoError       = 0x0
	h2ProtocolErr   = 0x1
	h2ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

var (
	fuzzServerOnce sync.Once
	fuzzServerAddr string
)

// fuzzH2Server is an h2c echo server shared by every input of the fuzz run.
func fuzzH2Server() string {
	fuzzServerOnce.Do(func() {
		srv := httptest.NewUnstartedServer(echoHandler(nil, nil))
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Start()
		fuzzServerAddr = srv.Listener.Addr().String()
	})
	return fuzzServerAddr
}

// FuzzExtendedConnect sends an arbitrary header block (one "name: value"
// field a line, pseudo-header fields included) as stream 1 of an HTTP/2
// connection, then a valid extended CONNECT as stream 3. Stream 1 must get
// a response or a PROTOCOL_ERROR reset, never a connection error, and the
// WebSocket of stream 3 must echo.
func FuzzExtendedConnect(f *testing.F) {
	for _, seed := range []string{
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nsec-websocket-version: 13",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nsec-websocket-version: 13\nsec-websocket-extensions: permessage-deflate; client_max_window_bits\nsec-websocket-protocol: chat, x",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nsec-websocket-version: 8",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nsec-websocket-version: 13\norigin: http://evil.example",
		":method: CONNECT\n:protocol: websocket\n:authority: a\nsec-websocket-version: 13",
		":method: CONNECT\n:protocol: chat\n:scheme: http\n:path: /\n:authority: a",
		":method: CONNECT\n:authority: a:443",
		":method: GET\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a",
		":method: GET\n:scheme: http\n:path: /\n:authority: a\nupgrade: websocket\nconnection: upgrade",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\n:protocol: websocket",
		"sec-websocket-version: 13\n:method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nSec-WebSocket-Version: 13",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\n:status: 200",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: *\n:authority: a\nsec-websocket-version: 13",
		":method: CONNECT\n:protocol: websocket\n:scheme: http\n:path: /\n:authority: a\nsec-websocket-version: 13\ncontent-length: 5",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, block string) {
		nc, err := net.DialTimeout("tcp", fuzzH2Server(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		bw := bufio.NewWriter(nc)
		bw.WriteString(h2ClientPreface)
		writeH2Frame(bw, h2Settings, 0, 0, nil)
		writeH2Frame(bw, h2Headers, h2FlagEndHdrs, 1, hpackLiterals(parseFields(block)))
		writeH2Frame(bw, h2Headers, h2FlagEndHdrs, 3, hpackLiterals([][2]string{
			{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
			{":path", "/"}, {":authority", "fuzz"}, {"sec-websocket-version", "13"},
		}))
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}

		br := bufio.NewReader(nc)
		stream1, stream3Open, echoed := false, false, false
		for !(stream1 && echoed) {
			typ, flags, id, payload, err := readH2Frame(br)
			if err != nil {
				t.Fatalf("reading frames (stream 1 answered: %v, stream 3 open: %v): %v", stream1, stream3Open, err)
			}
			switch {
			case typ == h2Settings && flags&h2FlagAck == 0:
				writeH2Frame(bw, h2Settings, h2FlagAck, 0, nil)
				bw.Flush()
			case typ == h2GoAway:
				t.Fatalf("GOAWAY with error %d: a bad stream must not end the connection", binary.BigEndian.Uint32(payload[4:8]))
			case id == 1 && typ == h2Headers:
				stream1 = true
			case id == 1 && typ == h2RSTStream:
				// RFC 9113 §8.1.1: a malformed request is a stream error of
				// type PROTOCOL_ERROR. After a response, NO_ERROR only says
				// the server will read no more of the request (§8.1).
				code := binary.BigEndian.Uint32(payload)
				if !stream1 && code != h2ProtocolErr || stream1 && code != h2NoError {
					t.Fatalf("stream 1 reset with error %d (answered before: %v)", code, stream1)
				}
				stream1 = true
			case id == 3 && typ == h2RSTStream:
				t.Fatalf("the valid extended CONNECT was reset with error %d", binary.BigEndian.Uint32(payload))
			case id == 3 && typ == h2Headers:
				// The server encodes ":status: 200" as static table entry 8.
				if len(payload) == 0 || payload[0] != 0x88 {
					t.Fatalf("stream 3 answered %x, want status 200", payload)
				}
				stream3Open = true
				frame := []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}
				writeH2Frame(bw, h2Data, 0, 3, frame)
				bw.Flush()
			case id == 3 && typ == h2Data && len(payload) > 0:
				if !bytes.Equal(payload, []byte{0x81, 2, 'h', 'i'}) {
					t.Fatalf("stream 3 echoed %x", payload)
				}
				echoed = true
			}
		}
	})
}

// parseFields splits a fuzz input into header fields, one "name: value" a
// line; a line without ": " is a name with an empty value.
func parseFields(block string) [][2]string {
	var fields [][2]string
	for line := range strings.SplitSeq(block, "\n") {
		name, value, _ := strings.Cut(line, ": ")
		fields = append(fields, [2]string{name, value})
	}
	return fields
}

// hpackLiterals encodes fields as HPACK literals without indexing and with
// literal names, no Huffman coding (RFC 7541 §6.2.2), so that any bytes go
// through the decoder as they are.
func hpackLiterals(fields [][2]string) []byte {
	var b []byte
	for _, f := range fields {
		b = append(b, 0x00)
		b = hpackString(b, f[0])
		b = hpackString(b, f[1])
	}
	return b
}

// hpackString appends s as an HPACK string literal with a 7-bit prefix length.
func hpackString(b []byte, s string) []byte {
	n := len(s)
	if n < 127 {
		b = append(b, byte(n))
	} else {
		b = append(b, 127)
		n -= 127
		for n >= 128 {
			b = append(b, byte(n%128+128))
			n /= 128
		}
		b = append(b, byte(n))
	}
	return append(b, s...)
}

func writeH2Frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	w.Write(h[:])
	w.Write(payload)
}

func readH2Frame(r io.Reader) (typ, flags byte, stream uint32, payload []byte, err error) {
	var h [9]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if h[3] == h2GoAway && n < 8 {
		err = fmt.Errorf("GOAWAY of %d bytes", n)
	}
	return h[3], h[4], binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1), payload, err
}
