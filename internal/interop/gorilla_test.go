package interop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
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

// TestGorillaNoContextTakeover sends one random message twice each way with
// gorilla, which negotiates no context takeover in both directions: Duplex
// must then compress each message on its own (no back-reference into the
// previous one, which gorilla could not resolve), as a client and as a server.
func TestGorillaNoContextTakeover(t *testing.T) {
	msg := randomBytes(t, 8<<10)
	// twice sends msg twice over c and returns the bytes c's connection
	// carried out for each copy, as counted by tr.
	// twice sends msg twice and returns the bytes count added each time;
	// count must be complete when read returns.
	twice := func(t *testing.T, count func() int64, write func([]byte) error, read func() ([]byte, error)) [2]int64 {
		t.Helper()
		var out [2]int64
		for i := range 2 {
			before := count()
			if err := write(msg); err != nil {
				t.Fatal(err)
			}
			got, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("copy %d: echo differs (%d bytes, sent %d)", i+1, len(got), len(msg))
			}
			out[i] = count() - before
		}
		return out
	}

	t.Run("Dial", func(t *testing.T) {
		up := gorilla.Upgrader{EnableCompression: true}
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(waitTimeout))
			for {
				typ, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(typ, p) != nil {
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
		gorillaDeflate.check(t, "Dial", c.Extensions(), true)
		// What Duplex's client wrote is counted before Write returns.
		out := twice(t, tr.written.Load,
			func(p []byte) error { return c.Write(ctx, websocket.MessageBinary, p) },
			func() ([]byte, error) { _, p, err := c.Read(ctx); return p, err })
		t.Logf("8 KiB random message sent twice: %d then %d bytes", out[0], out[1])
		if out[1] < int64(len(msg)) {
			t.Errorf("second copy took %d bytes: it refers back to the first despite client_no_context_takeover", out[1])
		}
	})

	t.Run("Accept", func(t *testing.T) {
		s := newServer(t, &websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}})
		var tr traffic
		d := gorilla.Dialer{
			EnableCompression: true,
			HandshakeTimeout:  waitTimeout,
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: conn, tr: &tr}, nil
			},
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c, _, err := d.DialContext(ctx, s.WS+"/echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(waitTimeout))
		// The echoes Duplex compressed are what the client reads, counted
		// before ReadMessage returns (counting the server's writes would
		// race with the client's read).
		out := twice(t, tr.read.Load,
			func(p []byte) error { return c.WriteMessage(gorilla.BinaryMessage, p) },
			func() ([]byte, error) { _, p, err := c.ReadMessage(); return p, err })
		t.Logf("8 KiB random message echoed twice: %d then %d bytes", out[0], out[1])
		if out[1] < int64(len(msg)) {
			t.Errorf("second echo took %d bytes: it refers back to the first despite server_no_context_takeover", out[1])
		}
	})
}
