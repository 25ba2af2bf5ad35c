package wsconn

import (
	"context"
	"sync"
	"testing"
	"time"
)

// deadlines records the read deadline a watch sets.
type deadlines struct {
	mu sync.Mutex
	rd time.Time
	n  int // calls
}

func (d *deadlines) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rd, d.n = t, d.n+1
	return nil
}

func (d *deadlines) SetWriteDeadline(time.Time) error { return nil }

func (d *deadlines) get() (time.Time, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rd, d.n
}

// waitPast waits until the deadline is in the past, or fails.
func (d *deadlines) waitPast(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if rd, _ := d.get(); rd.Equal(Past) {
			return
		}
	}
	t.Fatal("the deadline was not pushed into the past")
}

func TestCtxWatchEndDuringOperation(t *testing.T) {
	var d deadlines
	var w CtxWatch
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Watch(ctx, &d, false); err != nil {
		t.Fatal(err)
	}
	cancel()
	d.waitPast(t)
	w.Unwatch()
	if rd, _ := d.get(); !rd.IsZero() {
		t.Fatalf("after Unwatch the deadline is %v, want none", rd)
	}
	if err := w.Watch(ctx, &d, false); err != context.Canceled {
		t.Fatalf("Watch of the ended context again: %v, want context.Canceled", err)
	}
	w.Unwatch()
}

func TestCtxWatchEndAfterOperation(t *testing.T) {
	var d deadlines
	var w CtxWatch
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Watch(ctx, &d, false); err != nil {
		t.Fatal(err)
	}
	w.Unwatch()
	cancel()
	// The AfterFunc runs on a goroutine of its own: give it every chance.
	for range 100 {
		time.Sleep(100 * time.Microsecond)
		if rd, n := d.get(); n != 0 {
			t.Fatalf("a context that ended after its operation set the deadline to %v", rd)
		}
	}
	// The next operation with that context fails at once; one with
	// another context goes on, with no deadline.
	if err := w.Watch(ctx, &d, false); err != context.Canceled {
		t.Fatalf("Watch of the ended context: %v, want context.Canceled", err)
	}
	w.Unwatch()
	if err := w.Watch(context.Background(), &d, false); err != nil {
		t.Fatal(err)
	}
	w.Unwatch()
	if rd, _ := d.get(); !rd.IsZero() {
		t.Fatalf("deadline %v, want none", rd)
	}
}

func TestCtxWatchEndedBefore(t *testing.T) {
	var d deadlines
	var w CtxWatch
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Watch(ctx, &d, false); err != context.Canceled {
		t.Fatalf("Watch of an ended context: %v, want context.Canceled", err)
	}
	w.Unwatch()
	if _, n := d.get(); n != 0 {
		t.Fatal("an operation refused for its ended context touched the deadline")
	}
}

// TestCtxWatchRace ends contexts at every point around their operations,
// from other goroutines: after Unwatch, no deadline is left in the past.
func TestCtxWatchRace(t *testing.T) {
	var d deadlines
	var w CtxWatch
	for i := range 2000 {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			go cancel()
		}
		w.Watch(ctx, &d, false)
		w.Unwatch()
		cancel()
		if rd, _ := d.get(); rd.Equal(Past) {
			t.Fatalf("round %d: a deadline in the past outlived its operation", i)
		}
	}
}
