package interop_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	websocket "github.com/duplexws/websocket"
)

// clientConn is a connection made by a Go client written elsewhere, seen
// through the few operations the accept suite needs.
type clientConn interface {
	write(ctx context.Context, typ websocket.MessageType, p []byte) error
	read(ctx context.Context) (websocket.MessageType, []byte, error)
	close(code int, reason string) error
	// closeStatus returns the close code and reason carried by a read error.
	closeStatus(err error) (code int, reason string, ok bool)
	// extensions is the Sec-WebSocket-Extensions value of the 101 answer.
	extensions() string
	closeNow()
}

// testAccept runs a client written elsewhere against our server s: the echo
// table round-trips, a burst from us arrives in order, a burst from the
// client arrives in order, and close codes travel both ways.
func testAccept(t *testing.T, s *server, dial func(ctx context.Context, url string) (clientConn, error), compressed bool, ext extWant) {
	connect := func(t *testing.T, ctx context.Context, path string) clientConn {
		t.Helper()
		c, err := dial(ctx, s.WS+path)
		if err != nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		t.Cleanup(c.closeNow)
		return c
	}

	t.Run("messages", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := connect(t, ctx, "/echo")
		ext.check(t, "client", c.extensions(), compressed)
		for _, m := range echoMessages(t, compressed) {
			if err := c.write(ctx, m.typ, m.data); err != nil {
				t.Fatalf("%s: write: %v", m.name, err)
			}
			typ, got, err := c.read(ctx)
			if err != nil {
				t.Fatalf("%s: read: %v", m.name, err)
			}
			if typ != m.typ || !bytes.Equal(got, m.data) {
				t.Errorf("%s: echo is type %d, %d bytes %.40q; sent type %d, %d bytes %.40q",
					m.name, typ, len(got), got, m.typ, len(m.data), m.data)
			}
		}
		if err := c.close(4003, "client says bye"); err != nil {
			t.Errorf("client close: %v", err)
		}
		r := s.wait(t, "/echo")
		wantClose(t, r.err, 4003, "client says bye")
		ext.check(t, "Accept", r.extensions, compressed)
	})

	t.Run("burst-to-client", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := connect(t, ctx, "/burst?n="+strconv.Itoa(burstCount))
		for i := range burstCount {
			typ, got, err := c.read(ctx)
			if err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			if typ != websocket.MessageText || string(got) != strconv.Itoa(i) {
				t.Fatalf("message %d of the burst is type %d %q", i, typ, got)
			}
		}
		if err := c.close(1000, ""); err != nil {
			t.Errorf("client close: %v", err)
		}
		r := s.wait(t, "/burst")
		wantClose(t, r.err, websocket.StatusNormalClosure, "")
	})

	t.Run("burst-to-server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := connect(t, ctx, "/count")
		for i := range burstCount {
			if err := c.write(ctx, websocket.MessageText, []byte(strconv.Itoa(i))); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if err := c.write(ctx, websocket.MessageText, []byte("end")); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := "ok " + strconv.Itoa(burstCount); string(got) != want {
			t.Errorf("server answered %q, want %q", got, want)
		}
		if err := c.close(1000, ""); err != nil {
			t.Errorf("client close: %v", err)
		}
		s.wait(t, "/count")
	})

	t.Run("server-closes", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		c := connect(t, ctx, "/close?code=4002&reason=go+says+bye")
		_, p, err := c.read(ctx)
		if err == nil {
			t.Fatalf("read returned message %q, want the server's close", p)
		}
		code, reason, ok := c.closeStatus(err)
		if !ok || code != 4002 || reason != "go says bye" {
			t.Errorf("client saw %v (code %d reason %q), want close 4002 %q", err, code, reason, "go says bye")
		}
		if r := s.wait(t, "/close"); r.err != nil {
			t.Errorf("server Close: %v", r.err)
		}
	})
}
