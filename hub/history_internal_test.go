package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// seqConn is a Conn that records the messages written to it.
type seqConn struct {
	mu  sync.Mutex
	got []*websocket.PreparedMessage
}

func (c *seqConn) WritePrepared(_ context.Context, pm *websocket.PreparedMessage) error {
	c.mu.Lock()
	c.got = append(c.got, pm)
	c.mu.Unlock()
	return nil
}

func (c *seqConn) Close(websocket.StatusCode, string) error { return nil }

func (c *seqConn) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// seqs maps each message c got to its sequence number in hs, which holds
// every message of its topic; a message not in hs maps to 0.
func (c *seqConn) seqs(hs *history) []uint64 {
	hs.mu.Lock()
	bySeq := make(map[*websocket.PreparedMessage]uint64, hs.held())
	for _, e := range hs.entries[hs.start:] {
		bySeq[e.raw] = e.pos.Seq
		if env := e.env.Load(); env != nil {
			bySeq[env] = e.pos.Seq
		}
	}
	hs.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uint64, len(c.got))
	for i, pm := range c.got {
		out[i] = bySeq[pm]
	}
	return out
}

func (h *Hub) historyOf(name string) *history {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if t := h.topics[name]; t != nil {
		return t.hist
	}
	return nil
}

// TestResumeSwitchOverUnderConcurrentPublishers resumes subscribers from
// positions inside the history while several publishers publish, and
// checks that each gets every message after its position exactly once, in
// order: no gap and no duplicate where the recovered messages meet the
// live ones.
func TestResumeSwitchOverUnderConcurrentPublishers(t *testing.T) {
	t.Parallel()
	const publishers, perPublisher, resumers = 4, 1500, 24
	total := uint64(publishers * perPublisher)
	h := New(&Options{
		History:     HistoryOptions{Length: int(total)},
		QueueLength: int(total),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	defer h.Close()
	ctx := context.Background()
	if err := h.Publish(ctx, "t", Message{Data: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	hs := h.historyOf("t")
	last := func() uint64 {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		return hs.last
	}

	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Add(1)
		go func() {
			defer pubs.Done()
			for i := range perPublisher {
				if err := h.Publish(ctx, "t", Message{Data: fmt.Appendf(nil, "%d-%d", p, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}

	type resumed struct {
		conn  *seqConn
		since uint64 // the first message expected is since+1
	}
	results := make([]resumed, resumers)
	var subs sync.WaitGroup
	for i := range resumers {
		subs.Add(1)
		go func() {
			defer subs.Done()
			// Wait for the history to grow to a point of its own, then
			// resume from somewhat before it.
			target := uint64(i+1) * total / (resumers + 2)
			for last() < target {
				time.Sleep(time.Millisecond)
			}
			c := &seqConn{}
			s, err := h.SubscribeWith(ctx, c, &SubscribeOptions{Positions: i%2 == 0})
			if err != nil {
				t.Error(err)
				return
			}
			since := Position{Epoch: hs.epoch, Seq: target - uint64(i*7)}
			if i%5 == 4 {
				since = Position{} // live only, from where Resume says
			}
			rec, err := s.Resume(ctx, "t", since)
			if err != nil || rec.Reset {
				t.Errorf("resumer %d: Resume(%v) = %+v, %v", i, since, rec, err)
				return
			}
			if since.IsZero() {
				since = rec.Position
			} else if rec.Missed != int(rec.Position.Seq-since.Seq) {
				t.Errorf("resumer %d: Missed = %d from %d to %d", i, rec.Missed, since.Seq, rec.Position.Seq)
			}
			results[i] = resumed{conn: c, since: since.Seq}
		}()
	}
	pubs.Wait()
	subs.Wait()
	end := 1 + total
	for i, r := range results {
		if r.conn == nil {
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for uint64(r.conn.len()) < end-r.since && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		got := r.conn.seqs(hs)
		if uint64(len(got)) != end-r.since {
			t.Errorf("resumer %d from %d got %d messages, want %d", i, r.since, len(got), end-r.since)
		}
		for j, seq := range got {
			if want := r.since + 1 + uint64(j); seq != want {
				t.Errorf("resumer %d from %d: message %d has seq %d, want %d (gap or duplicate at the switch-over)", i, r.since, j, seq, want)
				break
			}
		}
	}
	if st := h.Stats(); st.HistoryMessages != int(total) || st.HistoryTopics != 1 {
		t.Errorf("Stats: HistoryMessages, HistoryTopics = %d, %d; want %d, 1", st.HistoryMessages, st.HistoryTopics, total)
	}
}

// fakeHistoryBroker is an in-process HistoryBroker that numbers the
// messages of all topics with one sequence, as a JetStream stream does.
type fakeHistoryBroker struct {
	mu      sync.Mutex
	seq     uint64
	first   uint64 // the messages before it are gone
	log     []Entry
	topics  []string // of each message in log
	subs    map[string]func(Position, Message)
	fetches int
	delay   time.Duration // of each History call
}

const fakeEpoch = "E1"

func newFakeHistoryBroker() *fakeHistoryBroker {
	return &fakeHistoryBroker{subs: make(map[string]func(Position, Message)), first: 1}
}

func (b *fakeHistoryBroker) Publish(_ context.Context, topic string, m Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	e := Entry{Position: Position{Epoch: fakeEpoch, Seq: b.seq}, Message: m}
	b.log = append(b.log, e)
	b.topics = append(b.topics, topic)
	if d := b.subs[topic]; d != nil {
		d(e.Position, m)
	}
	return nil
}

func (b *fakeHistoryBroker) Subscribe(context.Context, string, func(Message)) error {
	return fmt.Errorf("fakeHistoryBroker: plain subscription")
}

func (b *fakeHistoryBroker) SubscribeHistory(_ context.Context, topic string, d func(Position, Message)) (Position, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[topic] = d
	return Position{Epoch: fakeEpoch, Seq: b.seq}, nil
}

func (b *fakeHistoryBroker) History(_ context.Context, topic string, after, through Position, limit int) ([]Entry, error) {
	time.Sleep(b.delay)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fetches++
	if after.Epoch != fakeEpoch || after.Seq+1 < b.first {
		return nil, ErrHistoryGone
	}
	var out []Entry
	for i, e := range b.log {
		if b.topics[i] == topic && e.Position.Seq > after.Seq && e.Position.Seq <= through.Seq {
			out = append(out, e)
		}
	}
	if len(out) > limit {
		return nil, ErrHistoryGone
	}
	return out, nil
}

func (b *fakeHistoryBroker) Unsubscribe(_ context.Context, topic string) error {
	b.mu.Lock()
	delete(b.subs, topic)
	b.mu.Unlock()
	return nil
}

func (b *fakeHistoryBroker) Close() error     { return nil }
func (b *fakeHistoryBroker) HasHistory() bool { return true }

// TestResumeFromHistoryBroker resumes many subscribers at once from
// positions older than the hub's cache: the broker is asked once, the
// cache serves the rest, and each gets exactly the messages of its topic
// after its position, in order, though the broker numbers the messages of
// all topics with one sequence.
func TestResumeFromHistoryBroker(t *testing.T) {
	t.Parallel()
	b := newFakeHistoryBroker()
	b.delay = 20 * time.Millisecond
	h := New(&Options{Broker: b, History: HistoryOptions{Length: 200}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h.Close()
	ctx := context.Background()
	// The history of "a" before the hub subscribes to it: 100 messages
	// interleaved with those of "b".
	for i := range 200 {
		topic := "a"
		if i%2 == 1 {
			topic = "b"
		}
		h.Publish(ctx, topic, Message{Data: fmt.Appendf(nil, "%s%d", topic, i)})
	}
	since := Position{Epoch: fakeEpoch, Seq: 0}
	// A live subscriber makes the hub hold "a" with an empty cache.
	live := &seqConn{}
	if _, err := h.Subscribe(ctx, live, "a"); err != nil {
		t.Fatal(err)
	}
	const n = 50
	conns := make([]*seqConn, n)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = &seqConn{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := h.Subscribe(ctx, conns[i])
			if err != nil {
				t.Error(err)
				return
			}
			rec, err := s.Resume(ctx, "a", since)
			if err != nil || rec.Reset || rec.Missed != 100 {
				t.Errorf("Resume = %+v, %v; want 100 missed", rec, err)
			}
		}()
	}
	wg.Wait()
	for i := range 10 {
		h.Publish(ctx, "a", Message{Data: fmt.Appendf(nil, "live%d", i)})
	}
	hs := h.historyOf("a")
	for i, c := range conns {
		deadline := time.Now().Add(5 * time.Second)
		for c.len() < 110 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		got := c.seqs(hs)
		if len(got) != 110 {
			t.Fatalf("subscriber %d got %d messages, want 110", i, len(got))
		}
		for j, seq := range got {
			// "a" has the odd sequence numbers 1, 3, …, 199, then all
			// from 201 on.
			want := uint64(2*j + 1)
			if j >= 100 {
				want = uint64(201 + j - 100)
			}
			if seq != want {
				t.Fatalf("subscriber %d message %d has seq %d, want %d", i, j, seq, want)
			}
		}
	}
	b.mu.Lock()
	fetches := b.fetches
	b.mu.Unlock()
	if fetches != 1 {
		t.Errorf("the broker was asked %d times for the history, want once", fetches)
	}
	if st := h.Stats(); st.HistoryFetches != 1 || st.Recovered != 100*n {
		t.Errorf("Stats: HistoryFetches, Recovered = %d, %d; want 1, %d", st.HistoryFetches, st.Recovered, 100*n)
	}

	// A position whose message the broker dropped gets the reset.
	b.mu.Lock()
	b.first = 50
	b.mu.Unlock()
	// The cache reaches back to 0 now; a new hub has an empty one.
	h2 := New(&Options{Broker: b, History: HistoryOptions{Length: 200}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h2.Close()
	s, err := h2.SubscribeWith(ctx, &seqConn{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Resume(ctx, "a", Position{Epoch: fakeEpoch, Seq: 9})
	if err != nil || !rec.Reset || rec.Position != (Position{Epoch: fakeEpoch, Seq: b.seq}) {
		t.Errorf("Resume from a dropped position = %+v, %v; want a reset at %d", rec, err, b.seq)
	}
}

// TestHistoryChurn resumes, closes and unsubscribes subscribers while
// publishers publish and Stats is read, on topics whose history the hub
// keeps and on topics a HistoryBroker keeps, to find lock-order deadlocks
// and races (run it with -race).
func TestHistoryChurn(t *testing.T) {
	t.Parallel()
	for _, broker := range []string{"memory", "history-broker"} {
		t.Run(broker, func(t *testing.T) {
			t.Parallel()
			opts := &Options{History: HistoryOptions{Length: 64}, QueueLength: 16, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if broker == "history-broker" {
				opts.Broker = newFakeHistoryBroker()
			}
			h := New(opts)
			defer h.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			topics := []string{"a", "b", "c"}
			for p := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ctx.Err() == nil; i++ {
						h.Publish(ctx, topics[(p+i)%3], Message{Data: []byte("x")})
					}
				}()
			}
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var last Position
					for i := 0; ctx.Err() == nil; i++ {
						s, err := h.SubscribeWith(ctx, &seqConn{}, &SubscribeOptions{Positions: w%2 == 0})
						if err != nil {
							return
						}
						rec, err := s.Resume(ctx, topics[(w+i)%3], last)
						if err == nil {
							last = rec.Position
						}
						h.Stats()
						if i%2 == 0 {
							s.Unsubscribe(ctx, topics[(w+i)%3])
						}
						s.Close()
					}
				}()
			}
			wg.Wait()
		})
	}
}
