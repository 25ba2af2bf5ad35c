package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// readAll reads messages until reading fails, and returns them and the error.
func readAll(ctx context.Context, c *websocket.Conn) ([]string, error) {
	var got []string
	for {
		_, p, err := c.Read(ctx)
		if err != nil {
			return got, err
		}
		got = append(got, string(p))
	}
}

func TestExecEchoesThroughCat(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--", "cat")
	c := dial(t, s.ws("/"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, msg := range []string{"first", "second line", ""} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(p) != msg {
			t.Fatalf("sent %q, got %v %q %v", msg, typ, p, err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("closing: %v", err)
	}
}

func TestExecConnectScripted(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--", "cat")
	r := runDuplex(t, "a\nb\nc\n", "connect", s.ws("/cat"))
	if r.code != 0 || r.stdout != "a\nb\nc\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestExecCloseCodeFollowsExitStatus(t *testing.T) {
	tests := []struct {
		script   string
		wantMsgs []string
		wantCode websocket.StatusCode
	}{
		{"echo hello; echo world", []string{"hello", "world"}, websocket.StatusNormalClosure},
		{"echo bye; exit 3", []string{"bye"}, websocket.StatusInternalError},
		{"kill -9 $$", nil, websocket.StatusInternalError},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--", "sh", "-c", tc.script)
			c := dial(t, s.ws("/"), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := readAll(ctx, c)
			if strings.Join(got, "|") != strings.Join(tc.wantMsgs, "|") {
				t.Errorf("messages %q, want %q", got, tc.wantMsgs)
			}
			if code := websocket.CloseStatus(err); code != tc.wantCode {
				t.Errorf("closed with %v (%d), want %d", err, code, tc.wantCode)
			}
		})
	}
}

func TestExecEnvironmentDescribesRequest(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--", "sh", "-c",
		`echo "$REQUEST_METHOD $PATH_INFO $QUERY_STRING $HTTP_X_TEST $REMOTE_ADDR $SERVER_SOFTWARE"; echo "$REQUEST_URI"; echo "$SERVER_PORT"`)
	c := dial(t, s.ws("/path/x?a=1&b=2"), &websocket.DialOptions{HTTPHeader: http.Header{"X-Test": {"yes"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	want := []string{"GET /path/x a=1&b=2 yes 127.0.0.1 duplex", "/path/x?a=1&b=2", s.url[strings.LastIndex(s.url, ":")+1:]}
	for _, w := range want {
		_, p, err := c.Read(ctx)
		if err != nil || string(p) != w {
			t.Fatalf("got %q %v, want %q", p, err, w)
		}
	}
}

func TestExecClosingConnectionEndsProgram(t *testing.T) {
	// The program ignores stdin's end and SIGTERM; only SIGKILL of its group stops it.
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--kill-grace", "200ms", "--max-procs", "1", "--",
		"sh", "-c", `trap "" TERM; echo started; while :; do sleep 0.05; done`)
	c := dial(t, s.ws("/"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, p, err := c.Read(ctx); err != nil || string(p) != "started" {
		t.Fatalf("got %q %v", p, err)
	}
	// --max-procs 1: a second connection is refused while the program runs.
	if _, resp, err := websocket.Dial(ctx, s.ws("/"), nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("second connection with --max-procs 1: err %v, response %v; want 503", err, resp)
	}
	c.Close(websocket.StatusNormalClosure, "")
	// Once the program is gone its slot is free again.
	var err error
	if !eventually(func() bool {
		var c2 *websocket.Conn
		if c2, _, err = websocket.Dial(ctx, s.ws("/"), nil); err == nil {
			c2.CloseNow()
		}
		return err == nil
	}) {
		t.Fatalf("the program still runs 10s after the connection closed: %v", err)
	}
	if !strings.Contains(s.logs(), "signal=killed") {
		t.Errorf("expected SIGKILL in the logs after SIGTERM was ignored:\n%s", s.logs())
	}
}

func TestExecBinaryChunks(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--binary", "--", "cat")
	c := dial(t, s.ws("/"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data := []byte{0, 1, 2, '\n', 0xff, 0xfe}
	if err := c.Write(ctx, websocket.MessageBinary, data); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < len(data) {
		typ, p, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageBinary {
			t.Fatalf("got %v %q %v", typ, p, err)
		}
		got = append(got, p...)
	}
	if string(got) != string(data) {
		t.Fatalf("got %q, want %q", got, data)
	}
	var ce *websocket.CloseError
	c.Close(websocket.StatusNormalClosure, "")
	if _, _, err := c.Read(ctx); !errors.Is(err, websocket.ErrClosed) && !errors.As(err, &ce) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestExecPassesStderrAndLogsJSON(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--log-format", "json", "--", "sh", "-c", "echo to-stderr >&2; echo out")
	c := dial(t, s.ws("/"), nil)
	expectMessage(t, c, "out")
	if !eventually(func() bool { return strings.Contains(s.logs(), `"msg":"program exited"`) }) {
		t.Fatalf("no JSON log of the program's exit:\n%s", s.logs())
	}
	if !strings.Contains(s.logs(), "to-stderr\n") {
		t.Errorf("the program's stderr did not reach the server's:\n%s", s.logs())
	}
	for _, line := range strings.Split(strings.TrimSpace(s.logs()), "\n") {
		if line != "to-stderr" && !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

// TestExecDeliversLastOutput runs a program that answers the first line and
// exits while the client goes on sending: everything it wrote reaches the
// client before the close, as with websocketd, though writing the next
// messages to its stdin fails.
func TestExecDeliversLastOutput(t *testing.T) {
	s := startServer(t, "exec", "--addr", "127.0.0.1:0", "--", "sh", "-c", `read x; echo "got $x"; echo bye`)
	for i := range 5 {
		c := dial(t, s.ws("/"), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		go func() {
			for n := 0; c.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", n%5000))) == nil; n++ {
			}
		}()
		got, err := readAll(ctx, c)
		cancel()
		if strings.Join(got, "|") != "got |bye" || websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Fatalf("connection %d: got %q, then %v; want \"got \", \"bye\" and close 1000", i, got, err)
		}
	}
}
