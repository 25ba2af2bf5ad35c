package hub_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// addrConn is a gated fakeConn with a peer address.
type addrConn struct{ *fakeConn }

func (addrConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242} }

// lockedLog is a log destination safe for concurrent writes.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// TestSlowSubscribersLoggedAndCounted checks that subscribers whose writes
// time out are disconnected with the hub's close code, counted in Stats
// and logged one line each with their address, at most 10 lines a second,
// the next line saying how many were left out.
func TestSlowSubscribersLoggedAndCounted(t *testing.T) {
	t.Parallel()
	var log lockedLog
	h := hub.New(&hub.Options{WriteTimeout: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	t.Cleanup(func() { h.Close() })
	ctx := context.Background()
	subscribe := func(n int) ([]*hub.Subscriber, []*fakeConn) {
		var subs []*hub.Subscriber
		var conns []*fakeConn
		for range n {
			c := newGatedConn()
			s, err := h.Subscribe(ctx, addrConn{c}, "room")
			if err != nil {
				t.Fatal(err)
			}
			subs, conns = append(subs, s), append(conns, c)
		}
		return subs, conns
	}
	wait := func(subs []*hub.Subscriber) {
		for _, s := range subs {
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("a slow subscriber was not ended")
			}
		}
	}
	start := time.Now()
	subs, conns := subscribe(30)
	h.Publish(ctx, "room", text("x"))
	wait(subs)
	for _, c := range conns {
		c.mu.Lock()
		closed, code := c.closed, c.code
		c.mu.Unlock()
		if !closed || code != websocket.StatusPolicyViolation {
			t.Fatalf("a slow subscriber's connection: closed %v with %d, want 1008", closed, code)
		}
	}
	if st := h.Stats(); st.TimedOut != 30 {
		t.Errorf("Stats().TimedOut = %d, want 30", st.TimedOut)
	}
	lines := log.lines("disconnected a slow subscriber")
	if time.Since(start) < time.Second && len(lines) != 10 {
		t.Errorf("%d lines logged for 30 slow subscribers within a second, want 10:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], "remote=192.0.2.7:4242") {
		t.Errorf("line without the peer's address: %s", lines[0])
	}
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	late, _ := subscribe(1)
	h.Publish(ctx, "room", text("y"))
	wait(late)
	lines = log.lines("disconnected a slow subscriber")
	if last := lines[len(lines)-1]; !strings.Contains(last, "suppressed=20") {
		t.Errorf("the next line does not count the 20 left out: %s", last)
	}
	var metrics bytes.Buffer
	h.WriteMetrics(&metrics)
	if !strings.Contains(metrics.String(), "\nduplex_hub_subscribers_timed_out_total 31\n") {
		t.Errorf("metrics lack the count of timed-out subscribers:\n%s", metrics.String())
	}
}
