package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	coder "github.com/coder/websocket"
	websocket "github.com/duplexws/websocket"
)

// coderMode is the compression coder/websocket uses in these tests: with
// context takeover, so that both ends keep their LZ77 window across messages.
func coderMode(compressed bool) coder.CompressionMode {
	if compressed {
		return coder.CompressionContextTakeover
	}
	return coder.CompressionDisabled
}

// coderDeflate is what coder negotiates in context takeover mode: no
// *_no_context_takeover parameter.
var coderDeflate = extWant{hasNot: []string{"no_context_takeover"}}

func TestCoderServer(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			closed := make(chan string, 64)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := coder.Accept(w, r, &coder.AcceptOptions{
					InsecureSkipVerify: true,
					CompressionMode:    coderMode(compressed),
				})
				if err != nil {
					return
				}
				defer c.CloseNow()
				c.SetReadLimit(64 << 20)
				ctx, cancel := context.WithTimeout(r.Context(), 2*waitTimeout)
				defer cancel()
				for {
					typ, p, err := c.Read(ctx)
					if err != nil {
						var ce coder.CloseError
						if errors.As(err, &ce) {
							closed <- fmt.Sprintf("closed %d %s", ce.Code, ce.Reason)
						} else {
							closed <- "error " + err.Error()
						}
						return
					}
					if code, reason, ok := closeCommand(typ == coder.MessageText, p); ok {
						closed <- fmt.Sprintf("close sent %d: %v", code, c.Close(coder.StatusCode(code), reason))
						return
					}
					if err := c.Write(ctx, typ, p); err != nil {
						closed <- "error " + err.Error()
						return
					}
				}
			}))
			t.Cleanup(hs.Close)
			opts := &websocket.DialOptions{}
			if compressed {
				opts.Compression = &websocket.CompressionOptions{}
			}
			testDial(t, dialPeer{url: hs.URL, opts: opts, closed: chanLines(closed), ext: coderDeflate}, compressed)
		})
	}
}

func TestCoderClient(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			opts := &websocket.AcceptOptions{}
			if compressed {
				opts.Compression = &websocket.CompressionOptions{}
			}
			s := newServer(t, opts)
			testAccept(t, s, func(ctx context.Context, url string) (clientConn, error) {
				c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coderMode(compressed)})
				if err != nil {
					return nil, err
				}
				c.SetReadLimit(64 << 20)
				return &coderConn{c: c, ext: resp.Header.Get("Sec-WebSocket-Extensions")}, nil
			}, compressed, coderDeflate)
		})
	}
}

type coderConn struct {
	c   *coder.Conn
	ext string
}

func (c *coderConn) write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	return c.c.Write(ctx, coder.MessageType(typ), p)
}

func (c *coderConn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, p, err := c.c.Read(ctx)
	return websocket.MessageType(typ), p, err
}

func (c *coderConn) close(code int, reason string) error {
	return c.c.Close(coder.StatusCode(code), reason)
}

func (c *coderConn) closeStatus(err error) (int, string, bool) {
	var ce coder.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (c *coderConn) extensions() string { return c.ext }
func (c *coderConn) closeNow()          { c.c.CloseNow() }

// TestCoderContextTakeover checks that with context takeover both ends keep
// their LZ77 window across messages: a random (incompressible) message sent a
// second time refers back to the first copy, in each direction.
func TestCoderContextTakeover(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: coder.CompressionContextTakeover})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), waitTimeout)
		defer cancel()
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(hs.Close)
	var tr traffic
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, hs.URL, &websocket.DialOptions{
		Compression: &websocket.CompressionOptions{},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: conn, tr: &tr}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	coderDeflate.check(t, "Dial", c.Extensions(), true)

	msg := randomBytes(t, 8<<10)
	var sent, received [2]int64
	for i := range 2 {
		read0, written0 := tr.snapshot()
		if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("copy %d: echo differs (%d bytes, sent %d)", i+1, len(got), len(msg))
		}
		read1, written1 := tr.snapshot()
		sent[i], received[i] = written1-written0, read1-read0
	}
	t.Logf("8 KiB random message: sent %d then %d bytes, received %d then %d bytes", sent[0], sent[1], received[0], received[1])
	if sent[0] < int64(len(msg)) || received[0] < int64(len(msg)) {
		t.Errorf("first copy took %d bytes out and %d in; random data cannot shrink below %d", sent[0], received[0], len(msg))
	}
	// Random bytes shrink only through back-references into the previous
	// message: the compressor must have kept its window, and the other side's
	// decompressor too, to echo it right. (A fast compressor may find only
	// part of the first copy, so any saving counts.)
	if sent[1] >= int64(len(msg)) {
		t.Errorf("second copy took %d bytes out; Duplex did not refer back to the first copy", sent[1])
	}
	if received[1] >= int64(len(msg)) {
		t.Errorf("second copy took %d bytes in; coder did not refer back to the first copy", received[1])
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("Close: %v", err)
	}
}
