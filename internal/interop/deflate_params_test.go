package interop_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	websocket "github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/peer"
)

// deflateParams is one row of the permessage-deflate parameter tables: our
// options and what the negotiated extension must then say.
type deflateParams struct {
	name string
	opts websocket.CompressionOptions
	ext  extWant
}

var deflateParamRows = []deflateParams{
	{"defaults", websocket.CompressionOptions{}, extWant{}},
	{"no-context-takeover",
		websocket.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		extWant{has: []string{"server_no_context_takeover", "client_no_context_takeover"}}},
	{"window-9",
		websocket.CompressionOptions{ServerMaxWindowBits: 9, ClientMaxWindowBits: 9},
		extWant{has: []string{"server_max_window_bits=9", "client_max_window_bits=9"}}},
	{"window-15-level-9-compress-all",
		websocket.CompressionOptions{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, Level: 9, Threshold: -1},
		extWant{}},
}

// deflateRounds sends three rounds of a short UTF-8 text, 64 KiB of
// repetitive text and 1 MiB of random bytes, each checked against its echo,
// so that any window kept across messages is exercised.
func deflateRounds(t *testing.T, ctx context.Context, c *websocket.Conn) {
	t.Helper()
	msgs := []message{
		{"utf8", websocket.MessageText, []byte(utf8Text)},
		{"repetitive-text", websocket.MessageText, repetitiveText(repetitiveSize)},
		{"random-binary", websocket.MessageBinary, randomBytes(t, randomSize)},
	}
	for round := range 3 {
		for _, m := range msgs {
			if err := c.Write(ctx, m.typ, m.data); err != nil {
				t.Fatalf("round %d %s: Write: %v", round, m.name, err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("round %d %s: Read: %v", round, m.name, err)
			}
			if typ != m.typ || !bytes.Equal(got, m.data) {
				t.Fatalf("round %d %s: echo is type %d, %d bytes; sent type %d, %d bytes",
					round, m.name, typ, len(got), m.typ, len(m.data))
			}
		}
	}
}

// TestPythonServerDeflateParameters dials the Python echo server offering
// each row's parameters.
func TestPythonServerDeflateParameters(t *testing.T) {
	p := peer.StartPython(t, peer.Script{File: "testdata/python_echo_server.py", Args: []string{"deflate"}, Timeout: scriptTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	line, err := p.Line(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://127.0.0.1:" + strings.TrimPrefix(line, "listening ")
	for _, row := range deflateParamRows {
		t.Run(row.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Compression: &row.opts})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			row.ext.check(t, "Dial", c.Extensions(), true)
			deflateRounds(t, ctx, c)
			if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestPythonClientDeflateParameters runs the Python deflate client against
// our server configured with each row.
func TestPythonClientDeflateParameters(t *testing.T) {
	for _, row := range deflateParamRows {
		t.Run(row.name, func(t *testing.T) {
			testDeflateClient(t, peer.StartPython, "testdata/python_deflate_client.py", row)
		})
	}
}

// TestNodeClientDeflateParameters runs the Node deflate client against our
// server configured with each row, and with the smallest window, 2^8, which
// Node's zlib accepts.
func TestNodeClientDeflateParameters(t *testing.T) {
	rows := append(slices.Clone(deflateParamRows), deflateParams{"window-8",
		websocket.CompressionOptions{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8},
		extWant{has: []string{"server_max_window_bits=8", "client_max_window_bits=8"}}})
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			testDeflateClient(t, peer.StartNode, "testdata/node_deflate_client.js", row)
		})
	}
}

func testDeflateClient(t *testing.T, start startFunc, file string, row deflateParams) {
	s := newServer(t, &websocket.AcceptOptions{Compression: &row.opts})
	p := start(t, peer.Script{File: file, Args: []string{s.WS + "/echo"}, Timeout: scriptTimeout})
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
	if len(lines) != 2 || lines[1] != "ok" || !strings.HasPrefix(lines[0], "extensions ") {
		t.Fatalf("client script printed %q, want its extensions line and ok", lines)
	}
	row.ext.check(t, "client", strings.TrimPrefix(lines[0], "extensions "), true)
	r := s.wait(t, "/echo")
	wantClose(t, r.err, websocket.StatusNormalClosure, "")
	row.ext.check(t, "Accept", r.extensions, true)
}
