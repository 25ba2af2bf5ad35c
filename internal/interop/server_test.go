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
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 2 * time.Minute

// report is what a handler of the test server saw of one connection.
type report struct {
	path        string
	subprotocol string
	extensions  string
	err         error // the error that ended the connection (nil after a clean Close we started)
}

// server is a Duplex server on 127.0.0.1 for peers that dial us. Its
// endpoints:
//
//	/echo          echoes every message with its type until the peer closes
//	/close?code=C&reason=R
//	               closes at once with code C and reason R
//	/burst?n=N     sends the text messages "0".."N-1", then echoes until closed
//	/stream?n=N    sends pattern(N) as one binary message written through
//	               Writer in 1000-byte pieces (so in several frames), then
//	               echoes until closed
//	/count         expects the text messages "0", "1", … then "end", answers
//	               "ok N" or the first mismatch, then echoes until closed
//	/              the page for browser tests (page in chromium_test.go)
type server struct {
	URL     string // http://127.0.0.1:port
	WS      string // ws://127.0.0.1:port
	reports chan report
	traffic traffic // bytes through all of the server's connections
}

func newServer(t *testing.T, opts *websocket.AcceptOptions) *server {
	t.Helper()
	s := &server{reports: make(chan report, 256)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	accept := func(w http.ResponseWriter, r *http.Request) *websocket.Conn {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			s.reports <- report{path: r.URL.Path, err: fmt.Errorf("Accept: %w", err)}
			return nil
		}
		return c
	}
	finish := func(r *http.Request, c *websocket.Conn, err error) {
		c.CloseNow()
		s.reports <- report{path: r.URL.Path, subprotocol: c.Subprotocol(), extensions: c.Extensions(), err: err}
	}
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r)
		if c == nil {
			return
		}
		finish(r, c, echo(r.Context(), c))
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		c := accept(w, r)
		if c == nil {
			return
		}
		finish(r, c, c.Close(websocket.StatusCode(code), r.URL.Query().Get("reason")))
	})
	mux.HandleFunc("/burst", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		c := accept(w, r)
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), waitTimeout)
		defer cancel()
		for i := range n {
			if err := c.Write(ctx, websocket.MessageText, []byte(strconv.Itoa(i))); err != nil {
				finish(r, c, fmt.Errorf("write %d: %w", i, err))
				return
			}
		}
		finish(r, c, echo(r.Context(), c))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		c := accept(w, r)
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), waitTimeout)
		defer cancel()
		if err := writePieces(ctx, c, websocket.MessageBinary, pattern(n), 1000); err != nil {
			finish(r, c, err)
			return
		}
		finish(r, c, echo(r.Context(), c))
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		c := accept(w, r)
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), waitTimeout)
		defer cancel()
		answer := ""
		for i := 0; answer == ""; i++ {
			typ, p, err := c.Read(ctx)
			switch {
			case err != nil:
				finish(r, c, fmt.Errorf("read message %d: %w", i, err))
				return
			case typ == websocket.MessageText && string(p) == "end":
				answer = "ok " + strconv.Itoa(i)
			case typ != websocket.MessageText || string(p) != strconv.Itoa(i):
				answer = fmt.Sprintf("bad at %d: got type %d %q", i, typ, p)
			}
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(answer)); err != nil {
			finish(r, c, err)
			return
		}
		finish(r, c, echo(r.Context(), c))
	})
	hs := httptest.NewUnstartedServer(mux) // listens on 127.0.0.1
	hs.Listener = &countingListener{Listener: hs.Listener, tr: &s.traffic}
	hs.Start()
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	s.WS = "ws" + strings.TrimPrefix(hs.URL, "http")
	return s
}

// echo sends every message back with its type until reading fails, and
// returns that failure.
func echo(ctx context.Context, c *websocket.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 5*waitTimeout)
	defer cancel()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return fmt.Errorf("echo write: %w", err)
		}
	}
}

// writePieces sends p as one message through Writer, piece bytes per Write.
func writePieces(ctx context.Context, c *websocket.Conn, typ websocket.MessageType, p []byte, piece int) error {
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return fmt.Errorf("Writer: %w", err)
	}
	for len(p) > 0 {
		n := min(piece, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			w.Close()
			return fmt.Errorf("write a piece: %w", err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close the message writer: %w", err)
	}
	return nil
}

// wait returns the next report of a connection to path.
func (s *server) wait(t *testing.T, path string) report {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case r := <-s.reports:
			if r.path == path {
				return r
			}
		case <-timer.C:
			t.Fatalf("no connection to %s ended within %v", path, waitTimeout)
		}
	}
}

// wantClose checks that err carries the close frame code and reason.
func wantClose(t *testing.T, err error, code websocket.StatusCode, reason string) {
	t.Helper()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v, want a *CloseError with %d %q", err, code, reason)
	}
	if ce.Code != code || ce.Reason != reason {
		t.Errorf("CloseError = %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
	}
	if got := websocket.CloseStatus(err); got != code {
		t.Errorf("CloseStatus = %d, want %d", got, code)
	}
	if !errors.Is(err, websocket.ErrClosed) {
		t.Errorf("errors.Is(%v, ErrClosed) = false", err)
	}
}
