package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawPeer speaks the wire protocol by hand, to send what a correct peer never would.
type rawPeer struct {
	t      *testing.T
	nc     net.Conn
	br     *bufio.Reader
	client bool // frames this peer sends are masked
}

// dialRaw performs an RFC 6455 handshake by hand with srv, over TLS in TLS
// modes; extra holds more header lines. It offers no extension unless extra
// does, whatever the mode.
func dialRaw(t *testing.T, srv *testServer, extra string) *rawPeer {
	t.Helper()
	return dialRawPath(t, srv, "/", extra)
}

// dialRawPath is dialRaw for a request target other than "/".
func dialRawPath(t *testing.T, srv *testServer, target, extra string) *rawPeer {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(srv.url, "ws://"), "wss://")
	d := &net.Dialer{Timeout: 5 * time.Second}
	var nc net.Conn
	var err error
	if srv.tls != nil {
		conf := srv.tls.Clone()
		conf.NextProtos = []string{"http/1.1"} // an HTTP/1.1 upgrade, in HTTP/2 modes too
		nc, err = tls.DialWithDialer(d, "tcp", host, conf)
	} else {
		nc, err = d.Dial("tcp", host)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", target, host, extra)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	return &rawPeer{t: t, nc: nc, br: br, client: true}
}

// frame sends one frame; b0 is the first header byte (FIN, RSV, opcode).
func (p *rawPeer) frame(b0 byte, payload []byte) {
	p.frameMasked(b0, payload, p.client)
}

func (p *rawPeer) frameMasked(b0 byte, payload []byte, masked bool) {
	p.t.Helper()
	h := frameHeader{fin: b0&bitFIN != 0, rsv: b0 & 0x70, op: opcode(b0 & 0x0F), masked: masked, length: int64(len(payload)), key: 0x12345678}
	b := appendFrameHeader(nil, h)
	data := append([]byte(nil), payload...)
	if masked {
		mask(h.key, data)
	}
	if _, err := p.nc.Write(append(b, data...)); err != nil {
		p.t.Fatalf("raw write: %v", err)
	}
}

// expectClose reads frames until a close frame and returns its code.
func (p *rawPeer) expectClose() StatusCode {
	p.t.Helper()
	for {
		h, err := readFrameHeader(p.br)
		if err != nil {
			p.t.Fatalf("reading for a close frame: %v", err)
		}
		payload := make([]byte, h.length)
		if _, err := io.ReadFull(p.br, payload); err != nil {
			p.t.Fatalf("reading payload: %v", err)
		}
		if h.masked {
			mask(h.key, payload)
		}
		if h.op == opClose {
			if len(payload) < 2 {
				return StatusNoStatusRcvd
			}
			return StatusCode(binary.BigEndian.Uint16(payload))
		}
	}
}

// startReadingServer starts an echo server in mode m whose first failed
// Accept or Read is sent on the channel.
func startReadingServer(t *testing.T, m mode, opts *AcceptOptions) (*testServer, chan error) {
	errs := make(chan error, 1)
	srv := m.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, m.acceptOptions(opts))
		if err != nil {
			errs <- err
			return
		}
		defer c.CloseNow()
		for {
			typ, data, err := c.Read(context.Background())
			if err != nil {
				errs <- err
				return
			}
			c.Write(context.Background(), typ, data)
		}
	}))
	return srv, errs
}

func closePayload(code StatusCode, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// TestServerProtocolViolations runs in the plain modes only: with
// permessage-deflate negotiated RSV1 is no violation.
func TestServerProtocolViolations(t *testing.T) {
	run(t, testServerProtocolViolations, plainTCP, plainTLS)
}

func testServerProtocolViolations(t *testing.T, m mode) {
	fin := byte(bitFIN)
	tests := []struct {
		name string
		send func(p *rawPeer)
		want StatusCode
	}{
		{"unmasked client frame", func(p *rawPeer) { p.frameMasked(fin|byte(opText), []byte("hi"), false) }, StatusProtocolError},
		{"RSV1 without extension", func(p *rawPeer) { p.frame(fin|bitRSV1|byte(opText), []byte("hi")) }, StatusProtocolError},
		{"RSV2", func(p *rawPeer) { p.frame(fin|bitRSV2|byte(opText), []byte("hi")) }, StatusProtocolError},
		{"RSV3 on ping", func(p *rawPeer) { p.frame(fin|bitRSV3|byte(opPing), nil) }, StatusProtocolError},
		{"reserved opcode 3", func(p *rawPeer) { p.frame(fin|3, nil) }, StatusProtocolError},
		{"reserved opcode 7", func(p *rawPeer) { p.frame(fin|7, nil) }, StatusProtocolError},
		{"reserved opcode 0xB", func(p *rawPeer) { p.frame(fin|0xB, nil) }, StatusProtocolError},
		{"reserved opcode 0xF", func(p *rawPeer) { p.frame(fin|0xF, []byte("x")) }, StatusProtocolError},
		{"control frame of 126 bytes", func(p *rawPeer) { p.frame(fin|byte(opPing), make([]byte, 126)) }, StatusProtocolError},
		{"fragmented ping", func(p *rawPeer) { p.frame(byte(opPing), []byte("x")) }, StatusProtocolError},
		{"continuation without a message", func(p *rawPeer) { p.frame(fin|byte(opContinuation), []byte("x")) }, StatusProtocolError},
		{"new message inside a fragmented one", func(p *rawPeer) {
			p.frame(byte(opText), []byte("a"))
			p.frame(fin|byte(opText), []byte("b"))
		}, StatusProtocolError},
		{"invalid UTF-8", func(p *rawPeer) { p.frame(fin|byte(opText), []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80")) }, StatusInvalidFramePayloadData},
		{"text ends inside a sequence", func(p *rawPeer) { p.frame(fin|byte(opText), []byte("ab\xe2\x82")) }, StatusInvalidFramePayloadData},
		{"one-byte close payload", func(p *rawPeer) { p.frame(fin|byte(opClose), []byte{0x03}) }, StatusProtocolError},
		{"close reason not UTF-8", func(p *rawPeer) { p.frame(fin|byte(opClose), append(closePayload(1000, ""), 0xff, 0xfe)) }, StatusInvalidFramePayloadData},
		{"64-bit length with the top bit set", func(p *rawPeer) {
			p.nc.Write([]byte{fin | byte(opBinary), 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})
		}, StatusProtocolError},
	}
	for _, code := range []StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name string
			send func(p *rawPeer)
			want StatusCode
		}{fmt.Sprintf("close code %d", code), func(p *rawPeer) { p.frame(fin|byte(opClose), closePayload(code, "")) }, StatusProtocolError})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, errs := startReadingServer(t, m, nil)
			p := dialRaw(t, srv, "")
			tc.send(p)
			if got := p.expectClose(); got != tc.want {
				t.Errorf("server closed with %v, want %v", got, tc.want)
			}
			select {
			case err := <-errs:
				if CloseStatus(err) != tc.want {
					t.Errorf("server Read returned %v, want a CloseError with %v", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("server Read did not return")
			}
		})
	}
}

func TestFailFastUTF8AcrossFrames(t *testing.T) {
	t.Parallel()
	srv, _ := startReadingServer(t, plainTCP, nil)
	p := dialRaw(t, srv, "")
	p.frame(byte(opText), []byte("valid so far \xce"))
	p.frame(byte(opContinuation), []byte("\xba then \xf4\x90")) // U+110000 and above: invalid at once
	// The message is not finished, yet the server must fail it now.
	if got := p.expectClose(); got != StatusInvalidFramePayloadData {
		t.Fatalf("server closed with %v, want 1007 before the message ended", got)
	}
}

// TestReaderAfterFailureInsideMessage fails a message halfway with frames of
// it still arriving: the message's reader then reports the failure again
// and reads nothing more, for the connection's bytes now belong to the
// goroutine that drains the peer until it closes.
func TestReaderAfterFailureInsideMessage(t *testing.T) {
	t.Parallel()
	type result struct {
		first, second error
		n             int
	}
	results := make(chan result, 1)
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.CloseNow()
		_, mr, err := c.Reader(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		var res result
		_, res.first = io.Copy(io.Discard, mr)
		res.n, res.second = mr.Read(make([]byte, 64))
		results <- res
	}))
	p := dialRaw(t, srv, "")
	var b bytes.Buffer
	p.nc = writerConn{p.nc, &b}
	p.frame(byte(opText), []byte("valid so far"))
	p.frame(byte(opContinuation), []byte("\xff"))
	p.frame(byte(opContinuation), []byte("more of the message"))
	p.frame(bitFIN|byte(opContinuation), []byte("and its end"))
	p.nc = p.nc.(writerConn).Conn
	if _, err := p.nc.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	res := <-results
	if CloseStatus(res.first) != StatusInvalidFramePayloadData {
		t.Fatalf("reading the message: %v, want a CloseError with 1007", res.first)
	}
	if res.n != 0 || CloseStatus(res.second) != StatusInvalidFramePayloadData {
		t.Errorf("reading again: %d bytes, %v; want none and the same CloseError", res.n, res.second)
	}
}

// writerConn is a net.Conn whose writes go to w, so that a test can send
// several frames in one write.
type writerConn struct {
	net.Conn
	w io.Writer
}

func (c writerConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func TestValidCloseCodesEchoed(t *testing.T) {
	t.Parallel()
	for _, code := range []StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		t.Run(fmt.Sprint(int(code)), func(t *testing.T) {
			t.Parallel()
			srv, errs := startReadingServer(t, plainTCP, nil)
			p := dialRaw(t, srv, "")
			p.frame(bitFIN|byte(opClose), closePayload(code, "reason"))
			if got := p.expectClose(); got != code {
				t.Errorf("server answered close %v with %v", code, got)
			}
			err := <-errs
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != code || ce.Reason != "reason" {
				t.Errorf("server Read returned %v", err)
			}
			// RFC 6455 §7.1.1: the server closes TCP after the handshake.
			p.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := p.br.ReadByte(); err != io.EOF {
				t.Errorf("after the close handshake the server did not close TCP: %v", err)
			}
		})
	}
}

func TestEmptyCloseAnsweredEmpty(t *testing.T) {
	t.Parallel()
	srv, errs := startReadingServer(t, plainTCP, nil)
	p := dialRaw(t, srv, "")
	p.frame(bitFIN|byte(opClose), nil)
	if got := p.expectClose(); got != StatusNoStatusRcvd {
		t.Errorf("answer to an empty close frame carried code %v", got)
	}
	if got := CloseStatus(<-errs); got != StatusNoStatusRcvd {
		t.Errorf("Read reported %v, want 1005", got)
	}
}

func TestPingAnsweredBetweenFragments(t *testing.T) {
	t.Parallel()
	srv, _ := startReadingServer(t, plainTCP, nil)
	p := dialRaw(t, srv, "")
	p.frame(byte(opText), []byte("frag"))
	p.frame(bitFIN|byte(opPing), []byte("ping payload"))
	p.frame(bitFIN|byte(opContinuation), []byte("mented"))
	var got []string
	for len(got) < 2 {
		h, err := readFrameHeader(p.br)
		if err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, h.length)
		io.ReadFull(p.br, payload)
		if h.masked {
			t.Fatal("server sent a masked frame")
		}
		got = append(got, fmt.Sprintf("%d:%s", h.op, payload))
	}
	if got[0] != "10:ping payload" || got[1] != "1:fragmented" {
		t.Fatalf("got frames %q, want the pong then the echo", got)
	}
}

func TestReadLimit(t *testing.T) {
	t.Parallel()
	srv, errs := startReadingServer(t, plainTCP, &AcceptOptions{ReadLimit: 1000})
	p := dialRaw(t, srv, "")
	p.frame(byte(opBinary), make([]byte, 600))
	p.frame(bitFIN|byte(opContinuation), make([]byte, 600))
	if got := p.expectClose(); got != StatusMessageTooBig {
		t.Fatalf("server closed with %v, want 1009", got)
	}
	if err := <-errs; !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("Read returned %v, want ErrMessageTooBig", err)
	}
}

// TestOversizeFrameClosedCleanly sends one frame over the read limit: the
// server skips the rest of that frame, finds the client's close frame behind
// it and closes TCP cleanly, so no reset loses the close to the client.
func TestOversizeFrameClosedCleanly(t *testing.T) {
	t.Parallel()
	srv, errs := startReadingServer(t, plainTCP, &AcceptOptions{ReadLimit: 1000})
	p := dialRaw(t, srv, "")
	h := frameHeader{fin: true, op: opBinary, masked: true, length: 64 << 10, key: 0x12345678}
	// Payload bytes that would read as frame headers of huge frames.
	wire := append(appendFrameHeader(nil, h), bytes.Repeat([]byte{0xFF}, int(h.length))...)
	if _, err := p.nc.Write(wire); err != nil {
		t.Fatal(err)
	}
	if got := p.expectClose(); got != StatusMessageTooBig {
		t.Fatalf("server closed with %v, want 1009", got)
	}
	p.frame(bitFIN|byte(opClose), closePayload(StatusMessageTooBig, ""))
	start := time.Now()
	if _, err := p.br.ReadByte(); err != io.EOF {
		t.Fatalf("after the closing handshake the client read %v, want io.EOF (a clean TCP close)", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the server closed TCP %v after the client's close frame; it should not wait for a timeout", d)
	}
	if err := <-errs; !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("Read returned %v, want ErrMessageTooBig", err)
	}
}

func TestClientRejectsMaskedServerFrame(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, _ := http.NewResponseController(w).Hijack()
		defer nc.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
		p := &rawPeer{t: t, nc: nc, br: brw.Reader, client: true} // masks: wrong for a server
		p.frame(bitFIN|byte(opText), []byte("masked"))
		p.expectClose()
	}))
	defer srv.Close()
	c := dialT(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); CloseStatus(err) != StatusProtocolError {
		t.Fatalf("Read of a masked server frame: %v, want 1002", err)
	}
}

// TestBadConnectionDoesNotDisturbOthers fails connections that send
// invalid UTF-8 (offering no extension, whatever the mode) while a good one
// goes on in the mode.
func TestBadConnectionDoesNotDisturbOthers(t *testing.T) {
	run(t, testBadConnectionDoesNotDisturbOthers)
}

func testBadConnectionDoesNotDisturbOthers(t *testing.T, m mode) {
	srv := m.echo(t, nil)
	good := srv.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 20 {
		bad := dialRaw(t, srv, "")
		bad.frame(bitFIN|byte(opText), []byte("\xff\xfe invalid"))
		if i%2 == 0 {
			bad.nc.Write([]byte{0x8F, 0x80, 1, 2, 3, 4}) // reserved opcode
		}
		if got := bad.expectClose(); got != StatusInvalidFramePayloadData {
			t.Fatalf("bad connection closed with %v", got)
		}
		msg := fmt.Sprintf("still here %d", i)
		if err := good.Write(ctx, MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := good.Read(ctx); err != nil || string(got) != msg {
			t.Fatalf("good connection: %q %v", got, err)
		}
	}
}
