package interop_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// scriptTimeout bounds one run of a peer script.
const scriptTimeout = 5 * time.Minute

// startFunc starts a peer script (peer.StartPython or peer.StartNode).
type startFunc func(t testing.TB, s peer.Script) *peer.Process

// testScriptServer dials, with opts, the echo server that file starts (it
// prints "listening PORT", then "closed CODE REASON" per connection).
func testScriptServer(t *testing.T, start startFunc, file string, opts *websocket.DialOptions, ext extWant) {
	compressed := opts.Compression != nil
	p := start(t, peer.Script{File: file, Args: []string{compressionName(compressed)}, Timeout: scriptTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	line, err := p.Line(ctx)
	if err != nil {
		t.Fatal(err)
	}
	port, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("the server script printed %q, want listening PORT", line)
	}
	testDial(t, dialPeer{url: "ws://127.0.0.1:" + port, opts: opts, closed: p.Line, ext: ext}, compressed)
}

// testScriptClient runs the client that file holds against our server with
// opts, and checks what both sides saw.
func testScriptClient(t *testing.T, start startFunc, file string, opts *websocket.AcceptOptions, ext extWant) {
	compressed := opts.Compression != nil
	s := newServer(t, opts)
	p := start(t, peer.Script{File: file, Args: []string{s.WS, compressionName(compressed)}, Timeout: scriptTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("client script: %v", err)
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
	for _, want := range []string{"ok messages", "ok burst-to-client", "ok burst-to-server", "server-closed 4002 go says bye"} {
		if !slices.Contains(lines, want) {
			t.Errorf("client script did not print %q; it printed %q", want, lines)
		}
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "extensions ") })
	if i < 0 {
		t.Errorf("client script printed no extensions line: %q", lines)
	} else {
		ext.check(t, "client", strings.TrimPrefix(lines[i], "extensions "), compressed)
	}

	r := s.wait(t, "/echo")
	wantClose(t, r.err, 4003, "client says bye")
	ext.check(t, "Accept", r.extensions, compressed)
	if r := s.wait(t, "/close"); r.err != nil {
		t.Errorf("server Close(4002): %v", r.err)
	}
}

func TestPythonServer(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		testScriptServer(t, peer.StartPython, "testdata/python_echo_server.py", &websocket.DialOptions{}, extWant{})
	})
	t.Run("deflate", func(t *testing.T) {
		testScriptServer(t, peer.StartPython, "testdata/python_echo_server.py",
			&websocket.DialOptions{Compression: &websocket.CompressionOptions{}}, extWant{})
	})
}

func TestPythonClient(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		testScriptClient(t, peer.StartPython, "testdata/python_client.py", &websocket.AcceptOptions{}, extWant{})
	})
	t.Run("deflate", func(t *testing.T) {
		testScriptClient(t, peer.StartPython, "testdata/python_client.py",
			&websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}}, extWant{})
	})
}

// nodeDeflate is what the Node scripts negotiate: they ask for
// client_no_context_takeover and server_max_window_bits=10.
var nodeDeflate = extWant{has: []string{"client_no_context_takeover", "server_max_window_bits=10"}}

func TestNodeServer(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		testScriptServer(t, peer.StartNode, "testdata/node_echo_server.js", &websocket.DialOptions{}, extWant{})
	})
	// The server asks for client_no_context_takeover and a 2^10 window; the
	// client offers both.
	t.Run("deflate", func(t *testing.T) {
		testScriptServer(t, peer.StartNode, "testdata/node_echo_server.js",
			&websocket.DialOptions{Compression: &websocket.CompressionOptions{
				ClientNoContextTakeover: true,
				ServerMaxWindowBits:     10,
			}}, nodeDeflate)
	})
}

func TestNodeClient(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		testScriptClient(t, peer.StartNode, "testdata/node_client.js", &websocket.AcceptOptions{}, extWant{})
	})
	// The client offers client_no_context_takeover and server_max_window_bits=10.
	t.Run("deflate", func(t *testing.T) {
		testScriptClient(t, peer.StartNode, "testdata/node_client.js",
			&websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}}, nodeDeflate)
	})
}
