package interop_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
	gorilla "github.com/gorilla/websocket"
)

// gorillaDeflate is what gorilla negotiates: it supports only compression
// without context takeover.
var gorillaDeflate = extWant{has: []string{"server_no_context_takeover", "client_no_context_takeover"}}

func TestGorillaServer(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			closed := make(chan string, 64)
			up := gorilla.Upgrader{
				EnableCompression: compressed,
				CheckOrigin:       func(*http.Request) bool { return true },
			}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(2 * waitTimeout))
				for {
					typ, p, err := c.ReadMessage()
					if err != nil {
						var ce *gorilla.CloseError
						if errors.As(err, &ce) {
							closed <- fmt.Sprintf("closed %d %s", ce.Code, ce.Text)
						} else {
							closed <- "error " + err.Error()
						}
						return
					}
					if code, reason, ok := closeCommand(typ == gorilla.TextMessage, p); ok {
						msg := gorilla.FormatCloseMessage(code, reason)
						c.WriteControl(gorilla.CloseMessage, msg, time.Now().Add(waitTimeout))
						continue
					}
					if err := c.WriteMessage(typ, p); err != nil {
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
			testDial(t, dialPeer{url: hs.URL, opts: opts, closed: chanLines(closed), ext: gorillaDeflate}, compressed)
		})
	}
}

func TestGorillaClient(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(compressionName(compressed), func(t *testing.T) {
			opts := &websocket.AcceptOptions{}
			if compressed {
				opts.Compression = &websocket.CompressionOptions{}
			}
			s := newServer(t, opts)
			d := gorilla.Dialer{EnableCompression: compressed, HandshakeTimeout: waitTimeout}
			testAccept(t, s, func(ctx context.Context, url string) (clientConn, error) {
				c, resp, err := d.DialContext(ctx, url, nil)
				if err != nil {
					return nil, err
				}
				return &gorillaConn{c: c, ext: resp.Header.Get("Sec-WebSocket-Extensions")}, nil
			}, compressed, gorillaDeflate)
		})
	}
}

type gorillaConn struct {
	c   *gorilla.Conn
	ext string
}

func (g *gorillaConn) write(ctx context.Context, typ websocket.MessageType, p []byte) error {
	dl, _ := ctx.Deadline()
	g.c.SetWriteDeadline(dl)
	return g.c.WriteMessage(int(typ), p)
}

func (g *gorillaConn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	dl, _ := ctx.Deadline()
	g.c.SetReadDeadline(dl)
	typ, p, err := g.c.ReadMessage()
	return websocket.MessageType(typ), p, err
}

// close sends a close frame and waits for the server's answer, as gorilla
// leaves the closing handshake to the application.
func (g *gorillaConn) close(code int, reason string) error {
	err := g.c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), time.Now().Add(waitTimeout))
	if err != nil {
		return err
	}
	g.c.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		if _, _, err := g.c.ReadMessage(); err != nil {
			var ce *gorilla.CloseError
			if errors.As(err, &ce) {
				if ce.Code != code {
					return fmt.Errorf("server answered the close with %d, want %d", ce.Code, code)
				}
				return nil
			}
			return err
		}
	}
}

func (g *gorillaConn) closeStatus(err error) (int, string, bool) {
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

func (g *gorillaConn) extensions() string { return g.ext }
func (g *gorillaConn) closeNow()          { g.c.Close() }

// closeCommand parses the text message "close:CODE:REASON" that asks an echo
// peer to close the connection.
func closeCommand(text bool, p []byte) (int, string, bool) {
	rest, ok := strings.CutPrefix(string(p), "close:")
	if !text || !ok {
		return 0, "", false
	}
	codeText, reason, _ := strings.Cut(rest, ":")
	code, err := strconv.Atoi(codeText)
	return code, reason, err == nil
}

// chanLines adapts a channel of peer reports to dialPeer.closed.
func chanLines(ch <-chan string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		select {
		case s := <-ch:
			return s, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func compressionName(compressed bool) string {
	if compressed {
		return "deflate"
	}
	return "plain"
}
