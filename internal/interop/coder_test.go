package interop_test

import (
	"context"
	"errors"
	"fmt"
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

func TestCoderServer(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			if compressed {
				skipUntilDeflateLands(t)
			}
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
			testDial(t, dialPeer{url: hs.URL, opts: opts, closed: chanLines(closed)}, compressed)
		})
	}
}

func TestCoderClient(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			if compressed {
				skipUntilDeflateLands(t)
			}
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
			}, compressed)
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
