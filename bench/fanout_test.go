package bench

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
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
	size  int // of a message's payload
	// lat holds each subscriber's latencies, publish to receipt, of the
	// messages publishAt sent while stamped is set: each payload begins
	// with the time it was sent, counted from base.
	lat     [][]time.Duration
	base    time.Time
	stamped atomic.Bool
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
// goroutine reading every message, and a publisher of messages of size
// bytes. The caller must close it; if newFanout fails, it has closed what
// it opened.
func newFanout(tb testing.TB, lib string, n, size int) *fanout {
	tb.Helper()
	srv, err := launchServer(lib, compressOff)
	if err != nil {
		tb.Fatal(err)
	}
	f := &fanout{
		srv:   srv,
		frame: maskedFrame(opBinary, binaryPayload(size)),
		size:  size,
		batch: min(100, max(1, 100000/n)),
		lat:   make([][]time.Duration, n),
		base:  time.Now(),
	}
	ok := false
	defer func() {
		if !ok {
			f.close()
		}
	}()
	f.subs = dialMany(tb, f.srv.addr, "/sub", n, 4096)
	for i, c := range f.subs {
		f.readers.Go(func() { f.read(c, &f.lat[i]) })
	}
	f.srv.waitSubscribers(tb, n)
	pubs := dialMany(tb, f.srv.addr, "/pub", 1, 4096)
	f.pub = pubs[0]
	ok = true
	return f
}

// read counts the messages of one subscriber, marking it done each time it
// reaches the target, and records in lat how long each message publishAt
// sent took to arrive.
func (f *fanout) read(c *rawClient, lat *[]time.Duration) {
	var n int64
	for {
		_, p, err := c.readMessage()
		if err != nil {
			if !f.closing.Load() {
				f.fail(err)
			}
			return
		}
		if len(p) != f.size {
			f.fail(fmt.Errorf("subscriber read %d bytes, want %d", len(p), f.size))
			return
		}
		if f.stamped.Load() {
			*lat = append(*lat, time.Since(f.base)-time.Duration(binary.LittleEndian.Uint64(p)))
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
		if err := f.readByAll(ctx, fmt.Sprintf("batch of %d messages", k)); err != nil {
			return err
		}
		sent += k
	}
	return nil
}

// publishAt sends msgs messages, each stamped with the time it was sent,
// rate a second, and returns when every subscriber has read all of them.
func (f *fanout) publishAt(ctx context.Context, msgs int, rate float64) error {
	f.pub.nc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
	f.stamped.Store(true)
	defer f.stamped.Store(false)
	f.done.Add(len(f.subs))
	f.target.Add(int64(msgs))
	payload := binaryPayload(f.size)
	every := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for range msgs {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		binary.LittleEndian.PutUint64(payload, uint64(time.Since(f.base)))
		if err := f.pub.write(maskedFrame(opBinary, payload)); err != nil {
			return err
		}
	}
	return f.readByAll(ctx, fmt.Sprintf("%d messages", msgs))
}

// readByAll waits until every subscriber has read what was published, and
// returns the first error a subscriber met, or one saying that what (the
// messages waited for) was not read in time.
func (f *fanout) readByAll(ctx context.Context, what string) error {
	through := make(chan struct{})
	go func() {
		f.done.Wait()
		close(through)
	}()
	select {
	case <-through:
	case <-ctx.Done():
		return fmt.Errorf("%s not read by every subscriber in time (first error: %v)", what, f.firstErr())
	}
	return f.firstErr()
}

// latencies returns every latency the subscribers recorded, sorted, and
// forgets them.
func (f *fanout) latencies() []time.Duration {
	var all []time.Duration
	for i := range f.lat {
		all = append(all, f.lat[i]...)
		f.lat[i] = f.lat[i][:0]
	}
	slices.Sort(all)
	return all
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
					f = newFanout(b, lib, n, fanoutSize)
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

// BenchmarkFanoutLatency measures how long a published message takes to
// reach its subscribers: one publisher sends 1 KiB messages at a fixed
// rate, 5 a second for 10 seconds, to 10,000 subscribers (20 and a second
// in a short run), whose clients read every message; each payload carries
// the time it was sent. An operation is one run; it reports the median and
// the 99th percentile of every delivery's latency, publish to receipt, and
// the server's CPU seconds per million deliveries. The clients read the
// subscribers one after another on their own core, so the last of a
// message's deliveries waits for the client too: the same for every
// server.
func BenchmarkFanoutLatency(b *testing.B) {
	n, msgs, rate := 10000, 50, 5.0
	if testing.Short() {
		n, msgs = 20, 5
	}
	for _, lib := range fanoutLibs {
		b.Run(fmt.Sprintf("subs=%d/lib=%s", n, lib), func(b *testing.B) {
			f := newFanout(b, lib, n, 1024)
			defer f.close()
			var lat []time.Duration
			var cpu time.Duration
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				before := f.srv.stats(b, false)
				err := f.publishAt(ctx, msgs, rate)
				after := f.srv.stats(b, false)
				cancel()
				if err != nil {
					b.Fatalf("%s: %v", lib, err)
				}
				cpu += after.CPU - before.CPU
				lat = append(lat, f.latencies()...)
			}
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(cpu.Seconds()/float64(len(lat))*1e6, "srv-cpu-s/Mdelivery")
		})
	}
}

// TestFanoutDeliversAll checks that every fan-out server delivers every
// message to every subscriber, over several batches.
func TestFanoutDeliversAll(t *testing.T) {
	for _, lib := range fanoutLibs {
		t.Run(lib, func(t *testing.T) {
			f := newFanout(t, lib, 20, fanoutSize)
			defer f.close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := f.publish(ctx, 3*f.batch+1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
