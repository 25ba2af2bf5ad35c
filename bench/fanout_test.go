package bench

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fanoutLibs are the libraries of the fan-out benchmark: Duplex's hub on
// connections served a goroutine each and on an Engine, gws's Broadcaster,
// gorilla with a loop over its connections writing a PreparedMessage, and
// nbio with a loop of writes.
var fanoutLibs = []string{"duplex", "duplex-engine", "gorilla", "gws", "nbio"}

// fanoutSize is the size of a published message.
const fanoutSize = 128

// fanoutCounts are the subscriber counts of the fan-out benchmark; a short
// run uses 20.
func fanoutCounts() []int {
	if testing.Short() {
		return []int{20}
	}
	return []int{1000, 10000}
}

// fanout is one publisher and many subscribers connected to a server.
// Messages go out in batches: the publisher sends a batch, then waits until
// every subscriber has read all of it, so no server queue grows without
// bound and every message is counted as read.
type fanout struct {
	srv   *serverProc
	pub   *rawClient
	subs  []*rawClient
	frame []byte
	// batch is the number of messages in a full batch.
	batch int
	// target is the number of messages each subscriber has read once the
	// batch in flight is through; done counts down the subscribers still
	// short of it.
	target  atomic.Int64
	done    sync.WaitGroup
	readers sync.WaitGroup
	closing atomic.Bool
	errMu   sync.Mutex
	err     error
}

// newFanout starts a server of lib and connects n subscribers, each with a
// goroutine reading every message, and a publisher. The caller must close
// it; if newFanout fails, it has closed what it opened.
func newFanout(tb testing.TB, lib string, n int) *fanout {
	tb.Helper()
	srv, err := launchServer(lib, compressOff)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fanout{
		srv:   srv,
		frame: maskedFrame(opBinary, binaryPayload(fanoutSize)),
		batch: min(100, max(1, 100000/n)),
	}
	ok := false
	defer func() {
		if !ok {
			f.close()
		}
	}()
	f.subs = dialMany(tb, f.srv.addr, "/sub", n, 4096)
	for _, c := range f.subs {
		f.readers.Go(func() { f.read(c) })
	}
	f.srv.waitSubscribers(tb, n)
	pubs := dialMany(tb, f.srv.addr, "/pub", 1, 4096)
	f.pub = pubs[0]
	ok = true
	return f
}

// read counts the messages of one subscriber, marking it done each time it
// reaches the target.
func (f *fanout) read(c *rawClient) {
	var n int64
	for {
		_, p, err := c.readMessage()
		if err != nil {
			if !f.closing.Load() {
				f.fail(err)
			}
			return
		}
		if len(p) != fanoutSize {
			f.fail(fmt.Errorf("subscriber read %d bytes, want %d", len(p), fanoutSize))
			return
		}
		n++
		if n == f.target.Load() {
			f.done.Done()
		}
	}
}

// fail records the first error of a subscriber.
func (f *fanout) fail(err error) {
	f.errMu.Lock()
	f.err = cmp.Or(f.err, err)
	f.errMu.Unlock()
}

// firstErr returns the first error a subscriber met.
func (f *fanout) firstErr() error {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	return f.err
}

// publish sends msgs messages in batches and returns when every subscriber
// has read all of them.
func (f *fanout) publish(ctx context.Context, msgs int) error {
	f.pub.nc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
	for sent := 0; sent < msgs; {
		k := min(f.batch, msgs-sent)
		f.done.Add(len(f.subs))
		f.target.Add(int64(k))
		for range k {
			if err := f.pub.write(f.frame); err != nil {
				return err
			}
		}
		through := make(chan struct{})
		go func() {
			f.done.Wait()
			close(through)
		}()
		select {
		case <-through:
		case <-ctx.Done():
			return fmt.Errorf("batch of %d messages not read by every subscriber in time (first error: %v)", k, f.firstErr())
		}
		if err := f.firstErr(); err != nil {
			return err
		}
		sent += k
	}
	return nil
}

// close stops the server, then drops the clients and waits for their readers.
func (f *fanout) close() {
	f.closing.Store(true)
	f.srv.stop()
	if f.pub != nil {
		f.pub.close()
	}
	closeAll(f.subs)
	f.readers.Wait()
}

// BenchmarkFanout measures one publisher sending 128-byte messages to 1,000
// and 10,000 subscribers on loopback, whose clients read every message. An
// operation is one delivery (one message read by one subscriber); it reports
// deliveries per second, the server's CPU seconds per million deliveries and
// its allocations per delivery.
func BenchmarkFanout(b *testing.B) {
	for _, n := range fanoutCounts() {
		for _, lib := range fanoutLibs {
			// Connecting thousands of subscribers takes seconds: it is
			// done on the first call and kept for every b.N tried after.
			var f *fanout
			b.Run(fmt.Sprintf("subs=%d/lib=%s", n, lib), func(b *testing.B) {
				if f == nil {
					f = newFanout(b, lib, n)
				}
				msgs := (b.N + n - 1) / n
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				b.ReportAllocs()
				before := f.srv.stats(b, false)
				b.ResetTimer()
				start := time.Now()
				if err := f.publish(ctx, msgs); err != nil {
					b.Fatalf("%s: %v", lib, err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				after := f.srv.stats(b, false)
				reportServer(b, before, after, float64(msgs*n), elapsed, "deliveries", "delivery")
			})
			if f != nil {
				f.close()
			}
		}
	}
}

// TestFanoutDeliversAll checks that every fan-out server delivers every
// message to every subscriber, over several batches.
func TestFanoutDeliversAll(t *testing.T) {
	for _, lib := range fanoutLibs {
		t.Run(lib, func(t *testing.T) {
			f := newFanout(t, lib, 20)
			defer f.close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := f.publish(ctx, 3*f.batch+1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
