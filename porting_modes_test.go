package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The tests of this file run the handshake options and hooks a program
// ported from gorilla/websocket reaches for (porting_test.go tests them
// over HTTP/1.1) in every mode, HTTP/2 streams (RFC 8441) included. The
// handshake's options run in Accept, before an Engine takes a connection,
// so handshakeModes leaves the engine modes out; the ping hooks, called by
// whatever reads the connection, run in every mode.
var handshakeModes = []mode{plainTCP, plainTLS, plainHTTP2, deflateHTTP2}

// wantProto fails t when resp did not come over the mode's HTTP version.
func (m mode) wantProto(t *testing.T, resp *http.Response) {
	t.Helper()
	want := 1
	if m.http2 {
		want = 2
	}
	if resp == nil || resp.ProtoMajor != want {
		t.Fatalf("%v: answer %v, want one over HTTP/%d", m, resp, want)
	}
}

// TestCheckOriginInModes checks AcceptOptions.CheckOrigin beside
// OriginPatterns in each mode: it is asked only about the origins the
// same-host rule and the patterns refuse, and accepts those it returns
// true for; the others get 403.
func TestCheckOriginInModes(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		var asked atomic.Int32
		s := m.echo(t, &AcceptOptions{
			OriginPatterns: []string{"pattern.example"},
			CheckOrigin: func(r *http.Request) bool {
				asked.Add(1)
				return r.Header.Get("Origin") == "https://func.example"
			},
		})
		for _, tc := range []struct {
			origin string
			ok     bool
			asks   int32
		}{
			{"", true, 0},
			{"https://pattern.example", true, 0},
			{"https://func.example", true, 1},
			{"https://other.example", false, 1},
		} {
			asked.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, resp, err := Dial(ctx, s.url, s.dialOptions(&DialOptions{Origin: tc.origin}))
			cancel()
			if tc.ok != (err == nil) || asked.Load() != tc.asks {
				t.Errorf("origin %q: %v, CheckOrigin asked %d times; want accepted=%v, asked %d times", tc.origin, err, asked.Load(), tc.ok, tc.asks)
			}
			m.wantProto(t, resp)
			if err == nil {
				c.CloseNow()
			} else if resp.StatusCode != http.StatusForbidden {
				t.Errorf("origin %q: status %d, want 403", tc.origin, resp.StatusCode)
			}
		}
	}, handshakeModes...)
}

// TestOnRefuseInModes checks AcceptOptions.OnRefuse in each mode: it
// answers a refused handshake (a foreign origin; over HTTP/2 a GET too,
// with the Allow: CONNECT that 405 calls for already set), and Accept still
// returns the *HandshakeError.
func TestOnRefuseInModes(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		acceptErr := make(chan error, 2)
		opts := m.acceptOptions(&AcceptOptions{
			OnRefuse: func(w http.ResponseWriter, r *http.Request, err *HandshakeError) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(err.Status)
				fmt.Fprintf(w, `{"status":%d,"proto":%q}`, err.Status, r.Proto)
			},
		})
		s := m.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, opts)
			if err == nil {
				c.CloseNow()
			}
			acceptErr <- err
		}))
		checkAcceptErr := func(status int) {
			t.Helper()
			var he *HandshakeError
			select {
			case err := <-acceptErr:
				if !errors.As(err, &he) || he.Status != status || !errors.Is(err, ErrBadHandshake) {
					t.Errorf("Accept returned %v, want a *HandshakeError with status %d", err, status)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the handler did not return")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := Dial(ctx, s.url, s.dialOptions(&DialOptions{Origin: "https://evil.example"}))
		if err == nil {
			c.CloseNow()
			t.Fatal("a foreign origin connected")
		}
		m.wantProto(t, resp)
		body, _ := io.ReadAll(resp.Body)
		wantBody := fmt.Sprintf(`{"status":403,"proto":%q}`, resp.Proto)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/json" || string(body) != wantBody {
			t.Errorf("answer %s %q %s; want the hook's %s", resp.Status, resp.Header.Get("Content-Type"), body, wantBody)
		}
		checkAcceptErr(http.StatusForbidden)

		if !m.http2 {
			return
		}
		// A GET to a WebSocket endpoint over HTTP/2: 405, Allow: CONNECT.
		resp, err = (&http.Client{Transport: s.h2}).Get("https" + strings.TrimPrefix(s.url, "wss"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodConnect ||
			string(body) != `{"status":405,"proto":"HTTP/2.0"}` {
			t.Errorf("GET over HTTP/2: %s %s Allow %q %s; want the hook's 405 with Allow: CONNECT", resp.Proto, resp.Status, resp.Header.Get("Allow"), body)
		}
		checkAcceptErr(http.StatusMethodNotAllowed)
	}, handshakeModes...)
}

// TestSelectSubprotocolInModes checks AcceptOptions.SelectSubprotocol in
// each mode: the choice may depend on the request's URL (over HTTP/2 the
// extended CONNECT's :path), and a choice the client did not offer fails
// the handshake with 500.
func TestSelectSubprotocolInModes(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		s := m.echo(t, &AcceptOptions{
			SelectSubprotocol: func(r *http.Request, offered []string) string {
				v := r.URL.Query().Get("v")
				if v == "bad" {
					return "never-offered"
				}
				for _, p := range offered {
					if strings.HasSuffix(p, "."+v) {
						return p
					}
				}
				return ""
			},
		})
		offer := &DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}}
		for _, tc := range []struct{ query, want string }{{"?v=v2", "chat.v2"}, {"?v=v1", "chat.v1"}, {"?v=v9", ""}} {
			c := dialT(t, s.url+"/"+tc.query, s.dialOptions(offer))
			if c.Subprotocol() != tc.want {
				t.Errorf("%s: subprotocol %q, want %q", tc.query, c.Subprotocol(), tc.want)
			}
			echoRoundTrip(t, c, "over "+tc.query)
			c.CloseNow()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := Dial(ctx, s.url+"/?v=bad", s.dialOptions(offer))
		if err == nil {
			c.CloseNow()
			t.Fatal("a choice never offered: connected")
		}
		m.wantProto(t, resp)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("a choice never offered: %s, %v; want 500", resp.Status, err)
		}
	}, handshakeModes...)
}

// echoRoundTrip writes msg on c and checks that it comes back.
func echoRoundTrip(t *testing.T, c *Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != msg {
		t.Fatalf("echo of %q: %q, %v", msg, p, err)
	}
}

// TestPingConnHooksInModes checks, in every mode, that OnPingConn and
// OnPongConn get the connection and the payload at both ends, beside OnPing
// and OnPong, and that SendPing does not wait for its pong: the client
// pings the server, and the server the client.
func TestPingConnHooksInModes(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		hookOf := func(ch chan<- string) func(*Conn, []byte) {
			return func(c *Conn, p []byte) { ch <- fmt.Sprintf("%s %s", p, c.Subprotocol()) }
		}
		srvPinged, srvPonged := make(chan string, 4), make(chan string, 4)
		var srvOnPing atomic.Int32
		s := m.start(t, handler{
			Accept: &AcceptOptions{
				Subprotocols: []string{"sp"},
				OnPing:       func([]byte) { srvOnPing.Add(1) },
				OnPingConn:   hookOf(srvPinged),
				OnPongConn:   hookOf(srvPonged),
			},
			OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
				p, _ := io.ReadAll(r)
				if string(p) == "ping me" {
					if err := c.SendPing([]byte("from the server")); err != nil {
						c.CloseNow()
						return
					}
				}
				c.Write(context.Background(), typ, p)
			},
		})
		cliPinged, cliPonged := make(chan string, 4), make(chan string, 4)
		c := s.dial(t, &DialOptions{Subprotocols: []string{"sp"}, OnPingConn: hookOf(cliPinged), OnPongConn: hookOf(cliPonged)})
		wait := func(what string, ch <-chan string, want string) {
			t.Helper()
			select {
			case got := <-ch:
				if got != want {
					t.Errorf("%s got %q, want %q", what, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s was not called", what)
			}
		}
		// Nothing reads the client yet: SendPing must not wait for the pong.
		if err := c.SendPing([]byte("from the client")); err != nil {
			t.Fatal(err)
		}
		wait("the server's OnPingConn", srvPinged, "from the client sp")
		if srvOnPing.Load() != 1 {
			t.Errorf("the server's OnPing was called %d times, want 1", srvOnPing.Load())
		}
		echoRoundTrip(t, c, "after the ping") // reads the pong on the way
		wait("the client's OnPongConn", cliPonged, "from the client sp")
		echoRoundTrip(t, c, "ping me") // reads the server's ping on the way
		wait("the client's OnPingConn", cliPinged, "from the server sp")
		echoRoundTrip(t, c, "after the server's ping") // the server reads the pong on the way
		wait("the server's OnPongConn", srvPonged, "from the server sp")
	})
}

// TestIsWebSocketUpgradeInModes checks IsWebSocketUpgrade in each mode with
// a page and a WebSocket on one path: the WebSocket's request (over HTTP/2
// an extended CONNECT) is an upgrade, the page's GET is not.
func TestIsWebSocketUpgradeInModes(t *testing.T) {
	run(t, func(t *testing.T, m mode) {
		opts := m.acceptOptions(nil)
		s := m.serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !IsWebSocketUpgrade(r) {
				io.WriteString(w, "the page over "+r.Proto)
				return
			}
			c, err := Accept(w, r, opts)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.Write(r.Context(), MessageText, []byte("the socket over "+r.Proto))
			c.Close(StatusNormalClosure, "")
		}))
		client := &http.Client{Transport: s.h2}
		if s.h2 == nil {
			client.Transport = &http.Transport{TLSClientConfig: s.tls}
		}
		resp, err := client.Get("http" + strings.TrimPrefix(s.url, "ws"))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		proto := "HTTP/1.1"
		if m.http2 {
			proto = "HTTP/2.0"
		}
		if string(page) != "the page over "+proto {
			t.Errorf("page %q, want the page over %s", page, proto)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := Dial(ctx, s.url, s.dialOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		m.wantProto(t, resp)
		if _, p, err := c.Read(ctx); err != nil || string(p) != "the socket over "+proto {
			t.Fatalf("message %q, %v; want the socket over %s", p, err, proto)
		}
	}, handshakeModes...)
}
