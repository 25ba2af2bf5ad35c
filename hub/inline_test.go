package hub_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// tryConn is a fakeConn that can also write without waiting, as
// *websocket.Conn can: TryWritePrepared takes a message while take is set,
// and otherwise sends nothing.
type tryConn struct {
	*fakeConn
	take    atomic.Bool
	tried   atomic.Int64
	writing atomic.Int32 // WritePrepared calls under way
	overlap atomic.Bool  // TryWritePrepared was called while one was
}

func newTryConn(c *fakeConn, take bool) *tryConn {
	tc := &tryConn{fakeConn: c}
	tc.take.Store(take)
	return tc
}

func (c *tryConn) WritePrepared(ctx context.Context, pm *websocket.PreparedMessage) error {
	c.writing.Add(1)
	defer c.writing.Add(-1)
	return c.fakeConn.WritePrepared(ctx, pm)
}

func (c *tryConn) TryWritePrepared(pm *websocket.PreparedMessage) (bool, error) {
	c.tried.Add(1)
	if c.writing.Load() > 0 {
		c.overlap.Store(true)
	}
	if !c.take.Load() {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, pm)
	close(c.grew)
	c.grew = make(chan struct{})
	return true, nil
}

// TestInlineWrites: a subscriber whose connection takes a message without
// waiting has it written by Publish itself (the in-process broker delivers
// in the publisher's goroutine), with no writer goroutine, and counted as
// delivered.
func TestInlineWrites(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	ctx := context.Background()
	c := newTryConn(newFakeConn(), true)
	if _, err := h.Subscribe(ctx, c, "t"); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if got := len(c.messages()); got != i+1 {
			t.Fatalf("after Publish %d the connection has %d messages, want %d, written by Publish", i, got, i+1)
		}
	}
	if calls := c.calls.Load(); calls != 0 {
		t.Errorf("%d messages went through WritePrepared, want none", calls)
	}
	if st := h.Stats(); st.Delivered != n {
		t.Errorf("Delivered = %d, want %d", st.Delivered, n)
	}
}

// TestInlineAndQueuedKeepOrder: messages a subscriber's connection did not
// take at once wait in its queue, and every message after them waits there
// too, behind them, until the writer has emptied the queue; only then are
// messages written inline again. The subscriber gets every message in the
// order published, and the hub never tries an inline write while its
// writer writes.
func TestInlineAndQueuedKeepOrder(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	ctx := context.Background()
	ref := newFakeConn() // takes everything, through the writer
	if _, err := h.Subscribe(ctx, ref, "t"); err != nil {
		t.Fatal(err)
	}
	c := newTryConn(newGatedConn(), true)
	if _, err := h.Subscribe(ctx, c, "t"); err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0, 3) // inline
	c.take.Store(false)
	publish(3, 4) // queued: the writer is stuck at the gate with it
	c.waitBlocked(t)
	c.take.Store(true)
	tried := c.tried.Load()
	publish(4, 8) // queued behind it, though the connection would take them
	if c.tried.Load() != tried {
		t.Errorf("the hub tried an inline write while messages waited in the queue")
	}
	c.release()
	c.waitFor(t, 8)
	waitUntil(t, func() bool { return h.Stats().Delivered == 16 }, "the writers to count their deliveries")
	publish(8, 10) // inline again
	want := ref.waitFor(t, 10)
	got := c.messages()
	if len(got) != len(want) {
		t.Fatalf("the subscriber got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d out of order", i)
		}
	}
	if c.overlap.Load() {
		t.Error("TryWritePrepared was called while the writer's WritePrepared was under way")
	}
	if calls := c.calls.Load(); calls != 5 {
		t.Errorf("%d messages went through the writer, want 5 (3 to 7)", calls)
	}
}

// TestSlowSubscriberBesideInlineWrites: a subscriber whose connection takes
// nothing without waiting, and whose writes are stuck, costs only its own
// queue: the others still get every message from Publish itself, Publish
// does not wait, and the policy applies to the full queue (DropOldest
// drops, Disconnect ends the subscriber and closes its connection).
func TestSlowSubscriberBesideInlineWrites(t *testing.T) {
	t.Parallel()
	for _, policy := range []hub.Policy{hub.DropOldest, hub.Disconnect} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			const queueLen, n = 4, 20
			h := quietHub(t, hub.Options{QueueLength: queueLen, Policy: policy})
			ctx := context.Background()
			fast := newTryConn(newFakeConn(), true)
			slow := newTryConn(newGatedConn(), false)
			if _, err := h.Subscribe(ctx, fast, "t"); err != nil {
				t.Fatal(err)
			}
			slowSub, err := h.Subscribe(ctx, slow, "t")
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
				if got := len(fast.messages()); got != i+1 {
					t.Fatalf("after Publish %d the fast subscriber has %d messages, want %d", i, got, i+1)
				}
				if i == 0 {
					slow.waitBlocked(t)
				}
			}
			st := h.Stats()
			switch policy {
			case hub.DropOldest:
				if st.Dropped != n-1-queueLen {
					t.Errorf("Dropped = %d, want %d", st.Dropped, n-1-queueLen)
				}
				slow.release()
				got := slow.waitFor(t, queueLen+1)
				all := fast.messages()
				want := append(all[:1:1], all[n-queueLen:]...)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("slow subscriber's message %d: want the first, then the %d newest", i, queueLen)
					}
				}
			case hub.Disconnect:
				slow.release()
				<-slowSub.Done()
				if st := h.Stats(); st.Disconnected != 1 {
					t.Errorf("Disconnected = %d, want 1", st.Disconnected)
				}
				slow.mu.Lock()
				closed := slow.closed
				slow.mu.Unlock()
				if !closed {
					t.Error("the slow subscriber's connection was not closed")
				}
			}
		})
	}
}

// TestFanOutShared: a fan-out to more subscribers than one goroutine
// writes alone is shared among goroutines; each subscriber still gets
// every message once, in order, and each is counted.
func TestFanOutShared(t *testing.T) {
	t.Parallel()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Log("GOMAXPROCS is 1: the fan-out runs in the publisher's goroutine alone")
	}
	h := quietHub(t, hub.Options{})
	ctx := context.Background()
	ref := newFakeConn()
	if _, err := h.Subscribe(ctx, ref, "t"); err != nil {
		t.Fatal(err)
	}
	conns := make([]*tryConn, 3000)
	for i := range conns {
		conns[i] = newTryConn(newFakeConn(), true)
		if _, err := h.Subscribe(ctx, conns[i], "t"); err != nil {
			t.Fatal(err)
		}
	}
	const n = 3
	for i := range n {
		if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	want := ref.waitFor(t, n)
	for i, c := range conns {
		got := c.messages()
		if len(got) != n {
			t.Fatalf("subscriber %d got %d messages after Publish returned, want %d", i, len(got), n)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("subscriber %d: message %d out of order", i, j)
			}
		}
	}
	waitUntil(t, func() bool { return h.Stats().Delivered == uint64(n*(len(conns)+1)) }, "every delivery counted")
}

// blockingConn is a tryConn whose TryWritePrepared, while held is open,
// waits until it is closed: a fan-out that takes long.
type blockingConn struct {
	*tryConn
	entered chan struct{}
	held    chan struct{}
}

func (c *blockingConn) TryWritePrepared(pm *websocket.PreparedMessage) (bool, error) {
	select {
	case c.entered <- struct{}{}:
	default:
	}
	<-c.held
	return c.tryConn.TryWritePrepared(pm)
}

// TestSubscribeDuringFanOut: joining a topic does not wait for a fan-out
// under way, whose writes are made from a copy of the subscribers.
func TestSubscribeDuringFanOut(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	ctx := context.Background()
	c := &blockingConn{tryConn: newTryConn(newFakeConn(), true), entered: make(chan struct{}, 1), held: make(chan struct{})}
	if _, err := h.Subscribe(ctx, c, "t"); err != nil {
		t.Fatal(err)
	}
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(c.held) }) }) // before the hub's Close
	published := make(chan error, 1)
	go func() { published <- h.Publish(ctx, "t", text("slow")) }()
	<-c.entered
	subscribed := make(chan error, 1)
	go func() {
		_, err := h.Subscribe(ctx, newFakeConn(), "t")
		subscribed <- err
	}()
	select {
	case err := <-subscribed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe waited for the fan-out under way")
	}
	release.Do(func() { close(c.held) })
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 1)
}
