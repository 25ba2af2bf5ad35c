package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// The tests of this file cover what a program ported from gorilla/websocket
// or coder/websocket reaches for; the README's migration tables name them.

// echoServer serves an echo of every message with opts, and returns its ws:// URL.
func echoServer(t *testing.T, opts *websocket.AcceptOptions) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echoOnce writes msg on c and checks that it comes back.
func echoOnce(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx := testContext(t)
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != msg {
		t.Fatalf("echo of %q: %q, %v", msg, p, err)
	}
}

// TestAcceptOnRefuse checks AcceptOptions.OnRefuse (gorilla's
// Upgrader.Error): it writes the answer to a refused handshake, given the
// status and reason, and Accept still returns the *HandshakeError.
func TestAcceptOnRefuse(t *testing.T) {
	t.Parallel()
	acceptErr := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			OnRefuse: func(w http.ResponseWriter, r *http.Request, err *websocket.HandshakeError) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(err.Status)
				fmt.Fprintf(w, `{"status":%d,"error":%q}`, err.Status, err.Reason)
			},
		})
		acceptErr <- err
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL) // not an upgrade
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(string(body), `{"status":400,"error":"Connection header`) {
		t.Fatalf("got %s %q %s; want the hook's JSON answer", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	var he *websocket.HandshakeError
	if err := <-acceptErr; !errors.As(err, &he) || he.Status != http.StatusBadRequest || !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("Accept returned %v, want a *HandshakeError with status 400", err)
	}
}

// TestCloseStatusHelpers checks IsCloseStatus and IsUnexpectedClose
// (gorilla's IsCloseError and IsUnexpectedCloseError), one row per case.
func TestCloseStatusHelpers(t *testing.T) {
	t.Parallel()
	goingAway := fmt.Errorf("read: %w", &websocket.CloseError{Code: websocket.StatusGoingAway})
	for _, tc := range []struct {
		name           string
		err            error
		codes          []websocket.StatusCode
		is, unexpected bool
	}{
		{"listed", goingAway, []websocket.StatusCode{websocket.StatusNormalClosure, websocket.StatusGoingAway}, true, false},
		{"not listed", goingAway, []websocket.StatusCode{websocket.StatusNormalClosure}, false, true},
		{"no codes", goingAway, nil, false, true},
		{"not a close", io.ErrUnexpectedEOF, []websocket.StatusCode{websocket.StatusGoingAway}, false, false},
		{"nil", nil, nil, false, false},
	} {
		if got := websocket.IsCloseStatus(tc.err, tc.codes...); got != tc.is {
			t.Errorf("%s: IsCloseStatus = %v, want %v", tc.name, got, tc.is)
		}
		if got := websocket.IsUnexpectedClose(tc.err, tc.codes...); got != tc.unexpected {
			t.Errorf("%s: IsUnexpectedClose = %v, want %v", tc.name, got, tc.unexpected)
		}
	}
}

// TestSendPingAndConnHooks checks Conn.SendPing, which returns without
// waiting for the pong, and the OnPingConn and OnPongConn hooks, which get
// the connection, beside OnPing and OnPong, which still work.
func TestSendPingAndConnHooks(t *testing.T) {
	t.Parallel()
	pinged := make(chan string, 1)
	var oldHook atomic.Int32
	url := echoServer(t, &websocket.AcceptOptions{
		OnPing: func([]byte) { oldHook.Add(1) },
		OnPingConn: func(c *websocket.Conn, p []byte) {
			pinged <- fmt.Sprintf("%s %s", p, c.Subprotocol())
		},
		Subprotocols: []string{"sp"},
	})
	ponged := make(chan string, 1)
	c, _, err := websocket.Dial(testContext(t), url, &websocket.DialOptions{
		Subprotocols: []string{"sp"},
		OnPongConn: func(c *websocket.Conn, p []byte) {
			ponged <- fmt.Sprintf("%s %s", p, c.Subprotocol())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// Nothing reads the client yet: SendPing must not wait for the pong.
	if err := c.SendPing([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if got := <-pinged; got != "hello sp" {
		t.Errorf("server's OnPingConn got %q", got)
	}
	if oldHook.Load() != 1 {
		t.Errorf("OnPing was called %d times, want 1", oldHook.Load())
	}
	echoOnce(t, c, "after the pong") // reads the pong on the way
	select {
	case got := <-ponged:
		if got != "hello sp" {
			t.Errorf("client's OnPongConn got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong seen")
	}
	if err := c.SendPing(make([]byte, 126)); err == nil {
		t.Error("SendPing of 126 bytes: no error")
	}
}

// TestCloseWithoutCode checks that Close(StatusNoStatusRcvd, "") sends an
// empty close frame, as a browser's close() does: the peer reports 1005.
func TestCloseWithoutCode(t *testing.T) {
	t.Parallel()
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, err = c.Read(r.Context())
		got <- err
	}))
	defer srv.Close()
	c, _, err := websocket.Dial(testContext(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Close(websocket.StatusNoStatusRcvd, "a reason"); err == nil {
		t.Error("Close(1005) with a reason: no error")
	}
	if err := c.Close(websocket.StatusNoStatusRcvd, ""); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if err := <-got; !errors.As(err, &ce) || ce.Code != websocket.StatusNoStatusRcvd || ce.Reason != "" {
		t.Fatalf("server read %v, want a CloseError with 1005", err)
	}
}

// headerRoundTripper wraps a transport and adds a header to every request,
// as authentication and tracing wrappers do.
type headerRoundTripper struct{ next http.RoundTripper }

func (h headerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Wrapped", "yes")
	return h.next.RoundTrip(r)
}

// TestDialHTTPClientTimeoutAndWrappedTransport checks that an HTTPClient
// with a Timeout (which bounds the handshake, not the connection) or a
// RoundTripper that wraps a transport opens a connection whose contexts
// still bound its calls.
func TestDialHTTPClientTimeoutAndWrappedTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, append(p, " "+r.Header.Get("X-Wrapped")...))
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, tc := range []struct {
		name    string
		client  *http.Client
		wrapped string
	}{
		{"timeout", &http.Client{Timeout: 300 * time.Millisecond}, ""},
		{"wrapped transport", &http.Client{Transport: headerRoundTripper{http.DefaultTransport}}, "yes"},
		{"wrapped transport with timeout", &http.Client{Transport: headerRoundTripper{&http.Transport{}}, Timeout: 300 * time.Millisecond}, "yes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := websocket.Dial(testContext(t), url, &websocket.DialOptions{HTTPClient: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			time.Sleep(400 * time.Millisecond) // past the Timeout: the connection lives on
			ctx := testContext(t)
			if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Read(ctx); err != nil || string(p) != "hi "+tc.wrapped {
				t.Fatalf("got %q, %v", p, err)
			}
			// A context ends a blocked Read: the connection's deadlines reach the socket.
			short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, _, err := c.Read(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Read with a 50ms context: %v, want context.DeadlineExceeded", err)
			}
		})
	}
}

// TestDialNetDialContext checks DialOptions.NetDialContext (gorilla's
// Dialer.NetDialContext): it opens the TCP connection.
func TestDialNetDialContext(t *testing.T) {
	t.Parallel()
	url := echoServer(t, nil)
	var dialed atomic.Int32
	c, _, err := websocket.Dial(testContext(t), url, &websocket.DialOptions{
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	echoOnce(t, c, "through my dialer")
	if dialed.Load() != 1 {
		t.Fatalf("NetDialContext called %d times, want 1", dialed.Load())
	}
}
