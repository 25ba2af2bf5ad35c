package websocket

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/netpoll"
)

// listenerKinds are the ways listenerServer serves a Listener: with
// net/http, each WebSocket read by a goroutine or handed to an Engine; or
// with Engine.ServeUpgrades, which accepts the sockets itself, each
// WebSocket served in place by that engine or handed to another one.
var listenerKinds = []string{"goroutine", "engine", "engine-accept", "engine-accept-other"}

// listenerServer serves an echo on a Listener with opts, as kind says
// (listenerKinds), and returns its ws:// URL, its address and the
// Listener.
func listenerServer(t *testing.T, opts *ListenerOptions, kind string) (url, addr string, wl *Listener) {
	t.Helper()
	var e, accepting *Engine
	switch kind {
	case "engine", "engine-accept":
		e = echoEngine(t)
		accepting = e
	case "engine-accept-other":
		e, accepting = echoEngine(t), echoEngine(t)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		if e != nil && e.Serve(c) == nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil || c.Write(context.Background(), typ, p) != nil {
				return
			}
		}
	})}
	serve := serveFunc(func(srv *http.Server, ln net.Listener) error { return srv.Serve(ln) })
	if strings.HasPrefix(kind, "engine-accept") {
		serve = accepting.ServeUpgrades
	}
	addr = upgradeServer(t, serve, srv, func(ln net.Listener) net.Listener {
		wl = NewListener(ln, opts)
		srv.ConnContext = wl.ConnContext
		return wl
	})
	return "ws://" + addr, addr, wl
}

// dialStatus dials url within a second and returns the HTTP status of the
// answer: 101 with the connection, or the status of a refusal.
func dialStatus(url string) (int, *Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, _, err := Dial(ctx, url, nil)
	if err == nil {
		return http.StatusSwitchingProtocols, c, nil
	}
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status, nil, nil
	}
	return 0, nil, err
}

// TestListenerRefusesBeyondMaxConns holds a Listener's connections open
// and checks that every fresh client hears 503 within a second, that the
// listener counts the connections an Engine took over until they close,
// and that a client gets 101 again once connections have closed.
func TestListenerRefusesBeyondMaxConns(t *testing.T) {
	for _, kind := range listenerKinds {
		t.Run(kind, func(t *testing.T) {
			const max = 32 // 2 kept for refusals
			url, _, ln := listenerServer(t, &ListenerOptions{MaxConns: max, HandshakeTimeout: -1}, kind)
			var held []*Conn
			for range max - 2 {
				st, c, err := dialStatus(url)
				if st != http.StatusSwitchingProtocols {
					t.Fatalf("dial %d: status %d, %v; want 101", len(held), st, err)
				}
				held = append(held, c)
			}
			defer func() {
				for _, c := range held {
					c.CloseNow()
				}
			}()
			// Fresh clients, 20 at a time, each answered within a second.
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for range 10 {
				for range 20 {
					wg.Go(func() {
						start := time.Now()
						st, c, err := dialStatus(url)
						if c != nil {
							c.CloseNow()
						}
						if st != http.StatusServiceUnavailable {
							errs <- errors.New("fresh client: status " + http.StatusText(st) + ", err " + errorString(err) + " after " + time.Since(start).String())
						}
					})
				}
				wg.Wait()
			}
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if st := ln.Stats(); st.Refused < 200 {
				t.Errorf("Stats().Refused = %d, want at least 200", st.Refused)
			}
			// Closing five held connections makes room again.
			for _, c := range held[:5] {
				c.Close(StatusNormalClosure, "")
			}
			held = held[5:]
			deadline := time.Now().Add(5 * time.Second)
			for ln.Stats().Open > max-2-5 {
				if time.Now().After(deadline) {
					t.Fatalf("Stats().Open = %d after 5 connections closed, want %d", ln.Stats().Open, max-2-5)
				}
				time.Sleep(10 * time.Millisecond)
			}
			st, c, err := dialStatus(url)
			if st != http.StatusSwitchingProtocols {
				t.Fatalf("dial after closes: status %d, %v; want 101", st, err)
			}
			held = append(held, c)
		})
	}
}

func errorString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestListenerPausesAndResumes fills a Listener's reserve for refusals
// with clients that say nothing: it stops accepting, then resumes by
// itself once the listener has dropped them, and answers again.
func TestListenerPausesAndResumes(t *testing.T) {
	for _, kind := range listenerKinds {
		t.Run(kind, func(t *testing.T) {
			const max = 16 // 1 kept for refusals
			url, addr, ln := listenerServer(t, &ListenerOptions{MaxConns: max, HandshakeTimeout: -1}, kind)
			for range max - 1 {
				st, c, err := dialStatus(url)
				if st != http.StatusSwitchingProtocols {
					t.Fatalf("status %d, %v; want 101", st, err)
				}
				defer c.CloseNow()
			}
			silent, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			waitFor(t, 5*time.Second, "the listener to pause", func() bool { return ln.Stats().Paused > 0 })
			// The silent client is dropped after a second; the fresh one is
			// answered then.
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, _, err = Dial(ctx, url, nil)
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != http.StatusServiceUnavailable {
				t.Fatalf("dial while paused: %v; want a 503", err)
			}
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Errorf("answered after %v", d)
			}
			silent.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := silent.Read(make([]byte, 1)); err == nil {
				t.Errorf("the silent client's connection is still open")
			}
		})
	}
}

// TestListenerHandshakeTimeout checks that a connection that sends nothing
// is closed after HandshakeTimeout, and that a WebSocket outlives it.
func TestListenerHandshakeTimeout(t *testing.T) {
	for _, kind := range listenerKinds {
		t.Run(kind, func(t *testing.T) {
			url, addr, ln := listenerServer(t, &ListenerOptions{HandshakeTimeout: 200 * time.Millisecond}, kind)
			ws, _, err := Dial(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			silent, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			start := time.Now()
			silent.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("silent connection: %v", err)
			}
			if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
				t.Errorf("silent connection closed after %v, want about 200ms", d)
			}
			time.Sleep(200 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ws.Write(ctx, MessageText, []byte("still here")); err != nil {
				t.Fatal(err)
			}
			if _, p, err := ws.Read(ctx); err != nil || string(p) != "still here" {
				t.Fatalf("echo after the timeout: %q, %v", p, err)
			}
			if st := ln.Stats(); st.HandshakeTimeouts != 1 {
				t.Errorf("Stats() = %+v, want 1 handshake timeout", st)
			}
			// The silent connection is counted off; the WebSocket is
			// counted until it closes, wherever it is served.
			waitFor(t, 5*time.Second, "one connection to stay counted", func() bool { return ln.Stats().Open == 1 })
			ws.Close(StatusNormalClosure, "")
			waitFor(t, 5*time.Second, "no connection to stay counted", func() bool { return ln.Stats().Open == 0 })
		})
	}
}

// TestListenerDefaultLimitFromRlimit checks the default bound: the
// process's descriptor limit less its headroom.
func TestListenerDefaultLimitFromRlimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := NewListener(ln, nil)
	n := netpoll.DescriptorLimit()
	if n == 0 {
		if l.Stats().MaxConns != 0 {
			t.Fatalf("MaxConns = %d with no descriptor limit", l.Stats().MaxConns)
		}
		return
	}
	want := n - max(n/10, 64)
	if got := l.Stats().MaxConns; got != want {
		t.Fatalf("MaxConns = %d with a descriptor limit of %d, want %d", got, n, want)
	}
}
