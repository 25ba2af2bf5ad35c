package interop_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// TestNodeHybi08Client has Node's ws client speak protocol version 8 to a
// server that opts in to it.
func TestNodeHybi08Client(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{LegacyVersions: []int{8}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, msg)
		}
	}))
	defer srv.Close()
	p := peer.StartNode(t, peer.Script{File: "testdata/node_hybi08.js", Args: []string{"client", "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"}, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("node client: %v", err)
	}
	var lines []string
	for {
		l, err := p.Line(ctx)
		if errors.Is(err, peer.ErrNoMoreLines) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	for _, want := range []string{"echo text hybi-08 says hello", "echo binary 000102ff", "closed 1000"} {
		if !slices.Contains(lines, want) {
			t.Errorf("node client printed %q, want a line %q", lines, want)
		}
	}
}

// TestNodeHybi08Server dials Node's ws server with DialOptions.Version 8.
func TestNodeHybi08Server(t *testing.T) {
	p := peer.StartNode(t, peer.Script{File: "testdata/node_hybi08.js", Args: []string{"server"}, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	line, err := p.Line(ctx)
	if err != nil {
		t.Fatal(err)
	}
	port, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("server printed %q", line)
	}
	c, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+port, &websocket.DialOptions{Version: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if line, err := p.Line(ctx); err != nil || line != "version 8" {
		t.Fatalf("node saw %q (%v), want version 8", line, err)
	}
	for _, m := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, "héllo over hybi-08"}, {websocket.MessageBinary, "\x00\xff"}} {
		if err := c.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(got) != m.data {
			t.Fatalf("echo: %v %q %v", typ, got, err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
