package hub_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// fakeConn is a hub.Conn that records what the hub writes to it. A gated
// fakeConn blocks every write until release is called (or the write's
// context ends).
type fakeConn struct {
	mu      sync.Mutex
	got     []*websocket.PreparedMessage
	grew    chan struct{} // closed and replaced on every write
	gate    chan struct{} // nil: writes do not block
	failErr error         // returned by every write when set
	closed  bool
	calls   atomic.Int64 // WritePrepared calls begun
	code    websocket.StatusCode
	reason  string
}

func newFakeConn() *fakeConn { return &fakeConn{grew: make(chan struct{})} }

func newGatedConn() *fakeConn {
	c := newFakeConn()
	c.gate = make(chan struct{})
	return c
}

func (c *fakeConn) WritePrepared(ctx context.Context, pm *websocket.PreparedMessage) error {
	c.calls.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failErr != nil {
		return c.failErr
	}
	c.got = append(c.got, pm)
	close(c.grew)
	c.grew = make(chan struct{})
	return nil
}

func (c *fakeConn) Close(code websocket.StatusCode, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.code, c.reason = true, code, reason
	return nil
}

// release lets every blocked and future write through.
func (c *fakeConn) release() { close(c.gate) }

// messages returns a copy of what was written so far.
func (c *fakeConn) messages() []*websocket.PreparedMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*websocket.PreparedMessage(nil), c.got...)
}

// waitFor waits until n messages were written, failing t after timeout.
func (c *fakeConn) waitFor(t testing.TB, n int) []*websocket.PreparedMessage {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		got, grew := len(c.got), c.grew
		c.mu.Unlock()
		if got >= n {
			return c.messages()
		}
		select {
		case <-grew:
		case <-deadline:
			t.Fatalf("fake connection got %d messages, want %d", got, n)
		}
	}
}

// waitBlocked waits until a write is blocked on a gated connection.
func (c *fakeConn) waitBlocked(t testing.TB) {
	t.Helper()
	waitUntil(t, func() bool { return c.calls.Load() > 0 }, "a write to begin")
}
