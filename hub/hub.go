package hub

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/linerate"
	"github.com/duplexws/websocket/internal/topicname"
)

// Conn is the side of a WebSocket connection the hub writes to.
// *websocket.Conn implements it. The hub calls WritePrepared from one
// goroutine at a time per subscriber, and Close only to disconnect a slow
// subscriber (under the Disconnect policy, or after a write timeout).
//
// A Conn that also has a method TryWritePrepared(*websocket.PreparedMessage)
// (bool, error), as *websocket.Conn does, which sends the message if it can
// without waiting for the peer and otherwise sends nothing of it, is written
// with it from the fan-out whenever nothing waits in its subscriber's queue.
//
// A Conn that also has a method Context() context.Context, canceled when
// the connection ends, as *websocket.Conn does, ends its subscriber as soon
// as it ends, rather than at the next write: a connection an Engine serves
// needs no sub.Close in its OnClose. The hub waits for that with
// [context.AfterFunc], which keeps no goroutine.
type Conn interface {
	WritePrepared(ctx context.Context, pm *websocket.PreparedMessage) error
	Close(code websocket.StatusCode, reason string) error
}

// Hub fans messages published to topics out to their subscribers. All its
// methods are safe for concurrent use.
type Hub struct {
	broker       Broker
	queueLen     int
	policy       Policy
	code         websocket.StatusCode
	writeTimeout time.Duration
	log          *slog.Logger

	// history is Options.History with its defaults; historyBroker is the
	// broker when it keeps the history, nil when the hub keeps it.
	history       HistoryOptions
	historyBroker HistoryBroker

	// ctx is canceled by Close, aborting writes in flight.
	ctx    context.Context
	cancel context.CancelFunc

	// topicMu serializes the changes of topic membership, so that the
	// broker is subscribed to a topic exactly while it has subscribers.
	topicMu sync.Mutex

	mu     sync.RWMutex
	topics map[string]*topic
	subs   map[*Subscriber]struct{}
	closed bool

	// writers counts the running writer goroutines, so that Close returns
	// only after the last one.
	writers sync.WaitGroup

	// fanOutBufs holds the *[]*Subscriber copies of a topic's subscribers
	// that deliver writes to.
	fanOutBufs sync.Pool

	published    atomic.Uint64
	received     atomic.Uint64
	delivered    atomic.Uint64
	dropped      atomic.Uint64
	disconnected atomic.Uint64
	writeErrors  atomic.Uint64
	timedOut     atomic.Uint64
	recovered    atomic.Uint64
	resets       atomic.Uint64
	fetches      atomic.Uint64

	slowLog *linerate.Limiter // rate-limits the lines about slow subscribers
}

// topic is the set of a hub's subscribers to one topic, kept as a slice for
// fan-out with an index for removal in constant time, and the topic's
// history if it keeps one. A topic whose history the hub keeps in memory
// stays, with its broker subscription, while the hub lives.
type topic struct {
	subs  []*Subscriber
	index map[*Subscriber]int
	hist  *history

	// pending holds the subscribers that Resume is catching up: they get
	// the topic's messages from its history, not from fan-out.
	pending map[*Subscriber]struct{}
}

// New returns a hub configured by opts; nil means all defaults.
func New(opts *Options) *Hub {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Broker == nil {
		o.Broker = newLocalBroker()
	}
	if o.QueueLength <= 0 {
		o.QueueLength = DefaultQueueLength
	}
	if o.DisconnectCode == 0 {
		o.DisconnectCode = websocket.StatusPolicyViolation
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.History.on() && o.History.Length <= 0 {
		o.History.Length = DefaultHistoryLength
	}
	if o.History.MaxRecovery <= 0 {
		o.History.MaxRecovery = DefaultMaxRecovery
	}
	var hb HistoryBroker
	if b, ok := o.Broker.(HistoryBroker); ok && o.History.on() && b.HasHistory() {
		hb = b
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{
		history:       o.History,
		historyBroker: hb,
		broker:        o.Broker,
		queueLen:      o.QueueLength,
		policy:        o.Policy,
		code:          o.DisconnectCode,
		writeTimeout:  o.WriteTimeout,
		log:           o.Logger,
		ctx:           ctx,
		cancel:        cancel,
		topics:        make(map[string]*topic),
		subs:          make(map[*Subscriber]struct{}),
		slowLog:       &linerate.Limiter{PerSecond: slowLogPerSecond},
	}
}

// Publish sends m to every subscriber of topic, on this hub and on every hub
// sharing its broker. It does not wait for any subscriber: a message is
// written at once where the connection takes it without waiting (with the
// in-process broker, before Publish returns) and queued otherwise, and a
// full queue is handled by the hub's Policy. Messages one
// goroutine publishes to a topic reach each subscriber in that order. The
// hub keeps m.Data, which must not be changed afterwards.
func (h *Hub) Publish(ctx context.Context, topic string, m Message) error {
	if err := topicname.Check(topic); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		return ErrHubClosed
	}
	if h.historyBroker == nil && h.history.covers(topic) {
		// The hub keeps this topic's history: it takes the topic's
		// messages from the broker even while no one here subscribes.
		if err := h.openTopic(ctx, topic); err != nil {
			return err
		}
	}
	if err := h.broker.Publish(ctx, topic, m); err != nil {
		return err
	}
	h.published.Add(1)
	return nil
}

// Subscribe attaches c to the hub as a new subscriber of the given topics
// (possibly none; Subscriber.Subscribe adds more). Messages published from
// then on are written to c until the subscriber is closed, fails to write,
// or is disconnected by the hub's Policy, or c ends (see Conn); a c that
// has ended already is refused with an error matching
// websocket.ErrClosed. The caller keeps reading from c and closing it; the
// hub only writes.
func (h *Hub) Subscribe(ctx context.Context, c Conn, topics ...string) (*Subscriber, error) {
	return h.SubscribeWith(ctx, c, &SubscribeOptions{Topics: topics})
}

// SubscribeWith is Subscribe configured by opts; nil means all defaults
// (no topics).
func (h *Hub) SubscribeWith(ctx context.Context, c Conn, opts *SubscribeOptions) (*Subscriber, error) {
	var o SubscribeOptions
	if opts != nil {
		o = *opts
	}
	topics := o.Topics
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, t := range topics {
		if err := topicname.Check(t); err != nil {
			return nil, err
		}
	}
	connCtx := context.Context(nil)
	if cc, ok := c.(interface{ Context() context.Context }); ok {
		if connCtx = cc.Context(); connCtx.Err() != nil {
			return nil, errConnEnded
		}
	}
	s := &Subscriber{hub: h, conn: c, positions: o.Positions, topics: make(map[string]struct{}, len(topics)), done: make(chan struct{})}
	s.try, _ = c.(tryWriter)
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	if connCtx != nil {
		s.watch(connCtx)
	}
	for _, t := range topics {
		if err := s.Subscribe(ctx, t); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close ends every subscriber (their Err becomes ErrHubClosed; their
// connections are left open), abandons the writes in flight, waits for the
// writer goroutines to finish and closes the broker. Publish and Subscribe
// fail with ErrHubClosed afterwards, and so does a second Close.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrHubClosed
	}
	h.closed = true
	subs := make([]*Subscriber, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	h.cancel()
	for _, s := range subs {
		s.end(ErrHubClosed, false)
	}
	h.writers.Wait()
	return h.broker.Close()
}

// join adds s to the topic name, subscribing the broker to it first if
// s is its first subscriber here. It is a no-op if s is already
// subscribed, unless pending is set: then it fails, and otherwise adds s
// as pending on the topic (see topic.pending).
func (h *Hub) join(ctx context.Context, s *Subscriber, name string, pending bool) (*topic, error) {
	h.topicMu.Lock()
	defer h.topicMu.Unlock()
	// Checked under topicMu: an ending subscriber (or a closing hub)
	// removes its topics under topicMu after setting its error, so either
	// the error is seen here or the removal comes after the join.
	if err := s.Err(); err != nil {
		return nil, err
	}
	t, err := h.topicLocked(ctx, name)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.topics[name] = t
	if _, ok := t.index[s]; ok {
		if pending {
			return nil, fmt.Errorf("%w: %q", errAlreadySubscribed, name)
		}
		return t, nil
	}
	t.index[s] = len(t.subs)
	t.subs = append(t.subs, s)
	s.topics[name] = struct{}{}
	if pending {
		if t.pending == nil {
			t.pending = make(map[*Subscriber]struct{})
		}
		t.pending[s] = struct{}{}
	}
	return t, nil
}

// openTopic makes sure the hub takes the messages of the topic name from
// the broker.
func (h *Hub) openTopic(ctx context.Context, name string) error {
	h.mu.RLock()
	t := h.topics[name]
	h.mu.RUnlock()
	if t != nil {
		return nil
	}
	h.topicMu.Lock()
	defer h.topicMu.Unlock()
	t, err := h.topicLocked(ctx, name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.topics[name] = t
	h.mu.Unlock()
	return nil
}

// topicLocked returns the topic name, new and subscribed to at the broker
// if the hub has none by that name; h.topicMu is held. The caller stores a
// new topic in h.topics.
func (h *Hub) topicLocked(ctx context.Context, name string) (*topic, error) {
	h.mu.RLock()
	t, closed := h.topics[name], h.closed
	h.mu.RUnlock()
	if closed {
		return nil, ErrHubClosed
	}
	if t != nil {
		return t, nil
	}
	t = &topic{index: make(map[*Subscriber]int)}
	switch {
	case !h.history.covers(name):
		if err := h.broker.Subscribe(ctx, name, func(m Message) { h.deliver(name, m) }); err != nil {
			return nil, err
		}
	case h.historyBroker != nil:
		t.hist = &history{}
		from, err := h.historyBroker.SubscribeHistory(ctx, name, func(p Position, m Message) { h.deliverAt(t, p, m) })
		if err != nil {
			return nil, err
		}
		hs := t.hist
		hs.mu.Lock()
		if hs.epoch == "" {
			hs.epoch = from.Epoch
		}
		if hs.epoch == from.Epoch {
			hs.base = from.Seq
			hs.last = max(hs.last, from.Seq)
		}
		hs.mu.Unlock()
	default:
		t.hist = &history{epoch: newEpoch()}
		if err := h.broker.Subscribe(ctx, name, func(m Message) { h.deliverNumbered(t, m) }); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// leave removes s from the given topics and unsubscribes the broker from
// those left without subscribers. With forget, s is also removed from the
// hub's subscribers.
func (h *Hub) leave(s *Subscriber, names []string, forget bool) {
	h.topicMu.Lock()
	defer h.topicMu.Unlock()
	var empty []string
	h.mu.Lock()
	if forget {
		delete(h.subs, s)
		names = make([]string, 0, len(s.topics))
		for name := range s.topics {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if _, ok := s.topics[name]; !ok {
			continue
		}
		delete(s.topics, name)
		t := h.topics[name]
		i := t.index[s]
		last := len(t.subs) - 1
		t.subs[i] = t.subs[last]
		t.index[t.subs[i]] = i
		t.subs[last] = nil
		t.subs = t.subs[:last]
		delete(t.index, s)
		delete(t.pending, s)
		if len(t.subs) == 0 && (t.hist == nil || h.historyBroker != nil) {
			delete(h.topics, name)
			empty = append(empty, name)
		}
	}
	h.mu.Unlock()
	for _, name := range empty {
		if err := h.broker.Unsubscribe(context.Background(), name); err != nil {
			h.log.Warn("hub: broker unsubscribe failed", "topic", name, "err", err)
		}
	}
}

// deliver is the broker's callback: it prepares m once and has it written
// to every subscriber of the topic (see Subscriber.enqueue).
func (h *Hub) deliver(name string, m Message) {
	h.received.Add(1)
	pm := websocket.NewPreparedMessage(m.messageType(), m.Data)
	var envOnce sync.Once
	var env *websocket.PreparedMessage // for positioned subscribers
	// The writes go to a copy of the topic's subscribers, made under
	// h.mu: joining or leaving a topic does not wait for them. A
	// subscriber that ends meanwhile is skipped by enqueue.
	buf, _ := h.fanOutBufs.Get().(*[]*Subscriber)
	if buf == nil {
		buf = new([]*Subscriber)
	}
	h.mu.RLock()
	if t := h.topics[name]; t != nil {
		*buf = append((*buf)[:0], t.subs...)
	}
	h.mu.RUnlock()
	h.each(*buf, func(s *Subscriber) bool {
		if !s.positions {
			return s.enqueue(pm)
		}
		envOnce.Do(func() { env = envelope(Position{}, m) })
		return s.enqueue(env)
	})
	clear(*buf)
	*buf = (*buf)[:0]
	h.fanOutBufs.Put(buf)
}

// fanOutChunk is the number of subscribers below which a fan-out is not
// shared among goroutines: the writes a goroutine of its own would take
// over must outweigh starting it.
const fanOutChunk = 1024

// each calls send with every one of subs, and counts as delivered the
// messages it reports written. send may write to the connection (a system
// call that never waits), so a fan-out to many subscribers is shared among
// up to GOMAXPROCS goroutines, the caller's among them, each taking a run
// of subs; it returns once all are done.
func (h *Hub) each(subs []*Subscriber, send func(s *Subscriber) bool) {
	run := func(subs []*Subscriber) {
		var sent uint64
		for _, s := range subs {
			if send(s) {
				sent++
			}
		}
		h.delivered.Add(sent)
	}
	parts := min(runtime.GOMAXPROCS(0), len(subs)/fanOutChunk)
	if parts <= 1 {
		run(subs)
		return
	}
	var wg sync.WaitGroup
	size := (len(subs) + parts - 1) / parts
	for len(subs) > size {
		part := subs[:size]
		wg.Go(func() { run(part) })
		subs = subs[size:]
	}
	run(subs)
	wg.Wait()
}
