package websocket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestServeUpgradesEngineTakesSocketsOver(t *testing.T) {
	e, err := NewEngine(&EngineOptions{OnMessage: func(c *Conn, typ MessageType, r io.Reader) {
		p, _ := io.ReadAll(r)
		c.Write(t.Context(), typ, p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	conns := make(chan *Conn, 1)
	addr := upgradeServer(t, ServeUpgrades, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		if err := e.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
		}
		conns <- c
	})}, nil)
	roundTrip(t, "ws://"+addr+"/", nil)
	takenOver(t, conns)
}

// TestEngineServeUpgradesServesInPlace checks that a connection accepted by
// an Engine's ServeUpgrades and handed to the same engine's Serve is read
// through the engine's own socket from the moment Serve returns (no
// takeover), while one handed to another engine is taken over by it, read
// through its own socket too, and leaves the first engine; and that a
// request sent a few bytes at a time is served once it has all arrived.
func TestEngineServeUpgradesServesInPlace(t *testing.T) {
	e, other := echoEngine(t), echoEngine(t)
	inPlace := make(chan bool, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		serving := e
		if r.URL.Path == "/other" {
			serving = other
		}
		if err := serving.Serve(c); err != nil {
			t.Errorf("Serve: %v", err)
			return
		}
		c.readLock.Lock(context.Background(), &c.ended)
		ok := c.br.nc == c.served.Transport() // the serving engine's socket
		c.readLock.Unlock()
		inPlace <- ok
	})}
	addr := upgradeServer(t, e.ServeUpgrades, srv, nil)
	c := roundTrip(t, "ws://"+addr+"/", nil)
	if !<-inPlace {
		t.Error("a connection the engine accepted was not read through its own socket after Serve")
	}
	roundTrip(t, "ws://"+addr+"/other", nil)
	if !<-inPlace {
		t.Error("a connection handed to another engine was not read through that engine's own socket")
	}
	waitFor(t, 5*time.Second, "the accepting engine to hold only its own connection", func() bool {
		return e.loop.Len() == 1 && other.loop.Len() == 1
	})
	c.CloseNow()

	// A request a few bytes at a time.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	for i := 0; i < len(req); i += 7 {
		io.WriteString(nc, req[i:min(i+7, len(req))])
		time.Sleep(time.Millisecond)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("a request sent in pieces: %v, %v", resp, err)
	}
}

// TestEngineServeUpgradesWaitsWithoutGoroutines checks that connections
// whose request has not arrived hold no goroutine, that one whose peer
// leaves before sending it is forgotten, and that Engine.Shutdown closes
// the others.
func TestEngineServeUpgradesWaitsWithoutGoroutines(t *testing.T) {
	e := echoEngine(t)
	addr := upgradeServer(t, e.ServeUpgrades, &http.Server{Handler: pageOrEcho(nil, nil)}, nil)
	before := runtime.NumGoroutine()
	const n = 100
	var conns []net.Conn
	for i := range n {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if i%2 == 0 {
			io.WriteString(nc, "GET / HTTP/1.1\r\n") // part of a request
		}
		conns = append(conns, nc)
	}
	waitFor(t, 5*time.Second, "every connection to be accepted", func() bool { return e.loop.Len() == n })
	// The workers that read the partial requests linger a moment (20 ms)
	// after the reads; then none stays.
	waitFor(t, 5*time.Second, "no goroutine to stay for the connections waiting for their request", func() bool {
		return runtime.NumGoroutine()-before <= n/10
	})
	for _, nc := range conns[:n/2] {
		nc.Close()
	}
	waitFor(t, 5*time.Second, "connections whose peer left to be forgotten", func() bool { return e.loop.Len() == n/2 })
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, nc := range conns[n/2:] {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a connection waiting for its request after Engine.Shutdown: read %v, want it closed", err)
		}
	}
}

// TestEngineServeUpgradesCountsForRelease checks that connections an
// Engine accepts from inside a ReleaseListener count towards its bursts.
func TestEngineServeUpgradesCountsForRelease(t *testing.T) {
	e := echoEngine(t)
	var rl *ReleaseListener
	var released atomic.Int32
	addr := upgradeServer(t, e.ServeUpgrades, &http.Server{Handler: pageOrEcho(nil, nil)}, func(ln net.Listener) net.Listener {
		rl = NewReleaseListener(ln, &ReleaseOptions{Burst: 3, Quiet: 50 * time.Millisecond})
		rl.release = func() { released.Add(1) }
		return rl
	})
	for range 3 {
		roundTrip(t, "ws://"+addr+"/", nil).CloseNow()
	}
	waitFor(t, 5*time.Second, "a release after a burst of 3", func() bool { return released.Load() == 1 })
}
