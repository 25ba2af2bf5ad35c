package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// quietHub returns a hub that logs nothing, closed when the test ends.
func quietHub(t testing.TB, opts hub.Options) *hub.Hub {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(&opts)
	t.Cleanup(func() { h.Close() })
	return h
}

func text(s string) hub.Message { return hub.Message{Type: websocket.MessageText, Data: []byte(s)} }

func TestPublishPreparesOnceForAllSubscribers(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{})
	ctx := context.Background()
	conns := make([]*fakeConn, 10)
	for i := range conns {
		conns[i] = newFakeConn()
		if _, err := h.Subscribe(ctx, conns[i], "news"); err != nil {
			t.Fatal(err)
		}
	}
	other := newFakeConn()
	if _, err := h.Subscribe(ctx, other, "sports"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if err := h.Publish(ctx, "news", text(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	want := conns[0].waitFor(t, n)
	for i, c := range conns[1:] {
		got := c.waitFor(t, n)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("subscriber %d message %d is another PreparedMessage than subscriber 0's: the message was prepared more than once", i+1, j)
			}
		}
	}
	if got := other.messages(); len(got) != 0 {
		t.Errorf("subscriber of another topic got %d messages", len(got))
	}
	st := h.Stats()
	if st.Published != n || st.Received != n {
		t.Errorf("Published, Received = %d, %d; want %d, %d", st.Published, st.Received, n, n)
	}
	waitUntil(t, func() bool { return h.Stats().Delivered == n*uint64(len(conns)) }, "all deliveries counted")
}

func TestDropOldestKeepsNewestAndNeverBlocksPublisher(t *testing.T) {
	t.Parallel()
	const queueLen = 8
	h := quietHub(t, hub.Options{QueueLength: queueLen, Policy: hub.DropOldest})
	ctx := context.Background()
	fast, slow := newFakeConn(), newGatedConn()
	if _, err := h.Subscribe(ctx, fast, "t"); err != nil {
		t.Fatal(err)
	}
	slowSub, err := h.Subscribe(ctx, slow, "t")
	if err != nil {
		t.Fatal(err)
	}
	// The slow subscriber's first message is stuck in its write; the next
	// queueLen wait; every further one pushes out the oldest waiting.
	const n = queueLen + 1 + 5
	for i := range n {
		if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		fast.waitFor(t, i+1) // the fast subscriber keeps up and loses nothing
		if i == 0 {
			slow.waitBlocked(t)
		}
	}
	st := h.Stats()
	if st.Dropped != n-1-queueLen {
		t.Errorf("Dropped = %d, want %d", st.Dropped, n-1-queueLen)
	}
	if st.MaxQueued != queueLen || st.Queued != queueLen {
		t.Errorf("Queued, MaxQueued = %d, %d; want %d, %d", st.Queued, st.MaxQueued, queueLen, queueLen)
	}
	slow.release()
	all := fast.messages()
	got := slow.waitFor(t, queueLen+1)
	want := append(all[:1:1], all[n-queueLen:]...)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slow subscriber's message %d is not the expected one: want the first, then the %d newest", i, queueLen)
		}
	}
	if err := slowSub.Err(); err != nil {
		t.Errorf("slow subscriber ended under DropOldest: %v", err)
	}
}

func TestDisconnectPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		code     websocket.StatusCode
		wantCode websocket.StatusCode
	}{
		{"default code", 0, websocket.StatusPolicyViolation},
		{"try again later", websocket.StatusTryAgainLater, websocket.StatusTryAgainLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const queueLen = 4
			h := quietHub(t, hub.Options{QueueLength: queueLen, Policy: hub.Disconnect, DisconnectCode: tc.code})
			ctx := context.Background()
			fast, slow := newFakeConn(), newGatedConn()
			if _, err := h.Subscribe(ctx, fast, "t"); err != nil {
				t.Fatal(err)
			}
			sub, err := h.Subscribe(ctx, slow, "t")
			if err != nil {
				t.Fatal(err)
			}
			const n = queueLen + 2 + 10
			for i := range n {
				if err := h.Publish(ctx, "t", text(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
				fast.waitFor(t, i+1)
				if i == 0 {
					slow.waitBlocked(t)
				}
			}
			// The write in flight holds the writer: release it so that it
			// can close the connection.
			slow.release()
			select {
			case <-sub.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("slow subscriber was not disconnected")
			}
			if !errors.Is(sub.Err(), hub.ErrSlowConsumer) {
				t.Errorf("Err = %v, want ErrSlowConsumer", sub.Err())
			}
			slow.mu.Lock()
			closed, code, reason := slow.closed, slow.code, slow.reason
			slow.mu.Unlock()
			if !closed || code != tc.wantCode || !strings.Contains(reason, "slow consumer") {
				t.Errorf("connection closed=%v with %d %q; want closed with %d and a reason naming the slow consumer", closed, code, reason, tc.wantCode)
			}
			st := h.Stats()
			if st.Disconnected != 1 || st.Subscribers != 1 || st.Subscriptions != 1 {
				t.Errorf("Disconnected, Subscribers, Subscriptions = %d, %d, %d; want 1, 1, 1", st.Disconnected, st.Subscribers, st.Subscriptions)
			}
			// 1 in flight, queueLen queued: the next one overflows and
			// everything queued plus it is dropped; later ones are ignored.
			if st.Dropped != queueLen+1 {
				t.Errorf("Dropped = %d, want %d", st.Dropped, queueLen+1)
			}
			if got := len(slow.messages()); got != 1 {
				t.Errorf("slow subscriber got %d messages after its queue overflowed, want only the one in flight", got)
			}
		})
	}
}

func TestSubscriberEnds(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("broken pipe")
	for _, tc := range []struct {
		name    string
		end     func(h *hub.Hub, s *hub.Subscriber, c *fakeConn)
		wantErr error
	}{
		{"Close", func(h *hub.Hub, s *hub.Subscriber, c *fakeConn) { s.Close() }, hub.ErrSubscriberClosed},
		{"write error", func(h *hub.Hub, s *hub.Subscriber, c *fakeConn) {
			c.mu.Lock()
			c.failErr = errBroken
			c.mu.Unlock()
			h.Publish(context.Background(), "a", text("x"))
		}, errBroken},
		{"hub Close", func(h *hub.Hub, s *hub.Subscriber, c *fakeConn) { h.Close() }, hub.ErrHubClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broker := newRecordingBroker()
			h := quietHub(t, hub.Options{Broker: broker})
			c := newFakeConn()
			s, err := h.Subscribe(context.Background(), c, "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			if got := broker.topics(); got != "a,b" {
				t.Fatalf("broker topics = %q, want a,b", got)
			}
			tc.end(h, s, c)
			select {
			case <-s.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("subscriber did not end")
			}
			if !errors.Is(s.Err(), tc.wantErr) {
				t.Errorf("Err = %v, want %v", s.Err(), tc.wantErr)
			}
			st := h.Stats()
			if st.Subscribers != 0 || st.Topics != 0 || st.Subscriptions != 0 {
				t.Errorf("after the end: %d subscribers, %d topics, %d subscriptions; want none", st.Subscribers, st.Topics, st.Subscriptions)
			}
			if got := broker.topics(); got != "" {
				t.Errorf("broker still subscribed to %q", got)
			}
			if err := s.Subscribe(context.Background(), "c"); !errors.Is(err, tc.wantErr) {
				t.Errorf("Subscribe after the end = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	broker := newRecordingBroker()
	h := quietHub(t, hub.Options{Broker: broker})
	ctx := context.Background()
	c1, c2 := newFakeConn(), newFakeConn()
	s1, err := h.Subscribe(ctx, c1, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe(ctx, c2, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s1.Unsubscribe(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s1.Topics(), ","); got != "b" {
		t.Errorf("Topics = %q, want b", got)
	}
	if got := broker.topics(); got != "a,b" {
		t.Errorf("broker topics = %q, want a,b (a still has a subscriber)", got)
	}
	h.Publish(ctx, "a", text("1"))
	h.Publish(ctx, "b", text("2"))
	c2.waitFor(t, 1)
	c1.waitFor(t, 1)
	if got := len(c1.messages()); got != 1 {
		t.Errorf("unsubscribed connection got %d messages, want 1 (of topic b)", got)
	}
	if err := s1.Unsubscribe(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := broker.topics(); got != "a" {
		t.Errorf("broker topics = %q, want a", got)
	}
	if err := s1.Err(); err != nil {
		t.Errorf("a subscriber with no topics left ended: %v", err)
	}
}

func TestWriteTimeout(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{WriteTimeout: 50 * time.Millisecond})
	c := newGatedConn()
	s, err := h.Subscribe(context.Background(), c, "t")
	if err != nil {
		t.Fatal(err)
	}
	h.Publish(context.Background(), "t", text("x"))
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a write blocked past WriteTimeout did not end the subscriber")
	}
	if !errors.Is(s.Err(), hub.ErrWriteTimeout) {
		t.Errorf("Err = %v, want ErrWriteTimeout in the chain", s.Err())
	}
	if got := h.Stats().WriteErrors; got != 1 {
		t.Errorf("WriteErrors = %d, want 1", got)
	}
}

func TestHubRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := quietHub(t, hub.Options{})
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"Publish bad topic", h.Publish(ctx, "a.*", text("x")), hub.ErrBadTopic},
		{"Publish canceled", h.Publish(canceled, "a", text("x")), context.Canceled},
		{"Subscribe bad topic", func() error { _, err := h.Subscribe(ctx, newFakeConn(), "a b"); return err }(), hub.ErrBadTopic},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if st := h.Stats(); st.Subscribers != 0 || st.Published != 0 {
		t.Errorf("rejected calls left %d subscribers, %d published", st.Subscribers, st.Published)
	}
	h.Close()
	if err := h.Publish(ctx, "a", text("x")); !errors.Is(err, hub.ErrHubClosed) {
		t.Errorf("Publish after Close = %v, want ErrHubClosed", err)
	}
	if _, err := h.Subscribe(ctx, newFakeConn(), "a"); !errors.Is(err, hub.ErrHubClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrHubClosed", err)
	}
}

func TestNoGoroutineLeftBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	h := hub.New(&hub.Options{QueueLength: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	var subs []*hub.Subscriber
	var gated []*fakeConn
	for i := range 100 {
		c := newFakeConn()
		if i%3 == 0 {
			c = newGatedConn() // stuck in a write until the hub closes
			gated = append(gated, c)
		}
		s, err := h.Subscribe(ctx, c, "t", fmt.Sprint("own", i))
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	for i := range 50 {
		h.Publish(ctx, "t", text(fmt.Sprint(i)))
	}
	// Close waits for a write in flight, so close only subscribers whose
	// writes go through; the hub's Close abandons the stuck ones.
	for i, s := range subs[:10] {
		if i%3 != 0 {
			s.Close()
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		select {
		case <-s.Done():
		default:
			t.Fatal("a subscriber was not done after the hub's Close returned")
		}
	}
	waitUntil(t, func() bool { return runtime.NumGoroutine() <= before }, "goroutines back to the count before the hub")
}

// waitUntil polls cond for up to 5 seconds, failing t with what if it never
// holds.
func waitUntil(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("timed out waiting for %s; goroutines:\n%s", what, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestChurn subscribes, unsubscribes and closes subscribers from many
// goroutines while others publish, then checks that the hub and its broker
// are left with nothing (run it with -race).
func TestChurn(t *testing.T) {
	t.Parallel()
	broker := newRecordingBroker()
	h := quietHub(t, hub.Options{Broker: broker, QueueLength: 8})
	ctx := context.Background()
	topics := []string{"a", "b", "c", "d"}
	stop := make(chan struct{})
	var publishers, churners sync.WaitGroup
	for p := range 2 {
		publishers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h.Publish(ctx, topics[(p+i)%len(topics)], text("x"))
			}
		})
	}
	for g := range 8 {
		churners.Go(func() {
			for i := range 200 {
				s, err := h.Subscribe(ctx, newFakeConn(), topics[(g+i)%len(topics)])
				if err != nil {
					t.Error(err)
					return
				}
				s.Subscribe(ctx, topics[(g+i+1)%len(topics)])
				s.Unsubscribe(ctx, topics[(g+i)%len(topics)])
				s.Close()
			}
		})
	}
	churners.Wait()
	close(stop)
	publishers.Wait()
	st := h.Stats()
	if st.Subscribers != 0 || st.Topics != 0 || st.Subscriptions != 0 || st.Queued != 0 {
		t.Errorf("after the churn: %+v; want no subscribers, topics or queued messages", st)
	}
	if got := broker.topics(); got != "" {
		t.Errorf("broker still subscribed to %q", got)
	}
}
