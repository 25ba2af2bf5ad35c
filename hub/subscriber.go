package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/topicname"
)

// Subscriber is one connection attached to a hub, subscribed to any number
// of topics. Its methods are safe for concurrent use.
type Subscriber struct {
	hub       *Hub
	conn      Conn
	try       tryWriter // conn, if it can write without waiting; else nil
	positions bool      // SubscribeOptions.Positions

	// topics is guarded by hub.mu.
	topics map[string]struct{}

	mu       sync.Mutex
	q        queue
	writing  bool  // a writer goroutine is running
	overflow bool  // the Disconnect policy applies; the writer closes conn
	backlog  int   // recovered messages in q, allowed beyond the queue length
	err      error // why the subscriber ended; nil while it is live

	// wctx bounds the writes: it is canceled by the hub's Close or, with
	// a WriteTimeout, by timer. Both are made by the first writer.
	wctx   context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer

	writer sync.WaitGroup // the running writer goroutine
	done   chan struct{}  // closed when the subscriber has ended

	// stopWatch, when the connection has a context, stops the wait for
	// its end (see watch); guarded by mu, set once.
	stopWatch func() bool
}

// Subscribe adds topic to s's subscriptions; it is a no-op if s is already
// subscribed to it.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) error {
	if err := topicname.Check(topic); err != nil {
		return err
	}
	_, err := s.hub.join(ctx, s, topic, false)
	return err
}

// Unsubscribe removes topic from s's subscriptions; it is a no-op if s is
// not subscribed to it. Messages of topic already queued are still written.
func (s *Subscriber) Unsubscribe(ctx context.Context, topic string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.hub.leave(s, []string{topic}, false)
	return nil
}

// Topics returns the topics s is subscribed to, sorted.
func (s *Subscriber) Topics() []string {
	s.hub.mu.RLock()
	names := make([]string, 0, len(s.topics))
	for name := range s.topics {
		names = append(names, name)
	}
	s.hub.mu.RUnlock()
	slices.Sort(names)
	return names
}

// Close unsubscribes s from every topic and discards its queued messages.
// It waits for a write in flight to finish (bounded by the hub's
// WriteTimeout) and leaves the connection open. Err returns
// ErrSubscriberClosed afterwards, unless s had already ended otherwise.
func (s *Subscriber) Close() error {
	s.end(ErrSubscriberClosed, false)
	return nil
}

// Done returns a channel closed when s has ended: by Close, by a failed
// write, by the Disconnect policy, by the hub's Close, or by the end of its
// connection (see Conn).
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err returns nil while s is live, and afterwards why it ended:
// [ErrSubscriberClosed], [ErrSlowConsumer], [ErrHubClosed], the error of
// the write that failed, or, when its connection ended, an error matching
// [websocket.ErrClosed].
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// errConnEnded is the Err of a subscriber whose connection ended.
var errConnEnded = fmt.Errorf("hub: the subscriber's connection ended: %w", websocket.ErrClosed)

// watch ends s when connCtx, its connection's context, ends; the function
// it leaves there runs on a goroutine of its own, once the connection has
// ended. A subscriber that ends first takes it back (see end).
func (s *Subscriber) watch(connCtx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.stopWatch = context.AfterFunc(connCtx, func() { s.end(errConnEnded, false) })
	}
}

// tryWriter is a Conn that can send a prepared message without waiting,
// as *websocket.Conn does: TryWritePrepared sends it, or nothing of it,
// without waiting for the peer.
type tryWriter interface {
	TryWritePrepared(pm *websocket.PreparedMessage) (bool, error)
}

// enqueue has pm written to s: at once, from the caller's goroutine, when
// nothing waits for s and its connection takes pm without waiting;
// otherwise queued, applying the hub's policy to a full queue, with the
// writer started if it is not running. It never blocks on the connection.
// It reports whether it wrote pm.
func (s *Subscriber) enqueue(pm *websocket.PreparedMessage) bool {
	h := s.hub
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.overflow {
		return false
	}
	if s.try != nil && !s.writing && s.q.n == 0 {
		// Under mu, so that no message for s overtakes pm. A failed
		// write is left to the writer, which ends s with its error.
		if sent, err := s.try.TryWritePrepared(pm); sent && err == nil {
			return true
		}
	}
	if s.q.n >= h.queueLen+s.backlog {
		// A positioned subscriber is never left with a silent gap: it
		// reconnects and resumes instead.
		switch policy := h.policy; {
		case policy == Disconnect || s.positions:
			h.dropped.Add(uint64(s.q.n) + 1)
			s.q.reset()
			s.backlog = 0
			s.overflow = true
			s.startWriter()
			return false
		default:
			s.q.pop()
			h.dropped.Add(1)
		}
	}
	s.q.push(pm, h.queueLen+s.backlog)
	s.startWriter()
	return false
}

// enqueueBacklog queues the messages a Resume recovered, beyond the queue
// length, and starts the writer if it is not running.
func (s *Subscriber) enqueueBacklog(pms []*websocket.PreparedMessage) {
	if len(pms) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.overflow {
		return
	}
	s.backlog += len(pms)
	for _, pm := range pms {
		s.q.push(pm, s.hub.queueLen+s.backlog)
	}
	s.startWriter()
}

// startWriter runs the writer goroutine unless it is running; s.mu is held.
func (s *Subscriber) startWriter() {
	if s.writing {
		return
	}
	s.writing = true
	s.writer.Add(1)
	s.hub.writers.Add(1)
	go s.write()
}

// write is the writer goroutine: it writes queued messages until the queue
// is empty, then exits.
func (s *Subscriber) write() {
	h := s.hub
	defer h.writers.Done()
	defer s.writer.Done()
	var n uint64
	defer func() { h.delivered.Add(n) }()
	for {
		s.mu.Lock()
		if s.err != nil {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if s.overflow {
			s.mu.Unlock()
			s.disconnect()
			return
		}
		pm := s.q.pop()
		if s.backlog > 0 {
			s.backlog--
		}
		if pm == nil {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if s.wctx == nil {
			s.newWriteContext()
		}
		s.mu.Unlock()
		if err := s.writeOne(pm); err != nil {
			h.writeErrors.Add(1)
			ended := s.end(fmt.Errorf("hub: writing to a subscriber: %w", err), true)
			if ended && errors.Is(err, ErrWriteTimeout) {
				// A slow consumer: its connection is closed, not left
				// open with nothing more delivered to it.
				h.timedOut.Add(1)
				reason := "slow consumer: a write did not finish within " + h.writeTimeout.String()
				h.logSlow(s, reason)
				s.conn.Close(h.code, reason)
			} else {
				h.log.Debug("hub: subscriber write failed", "err", err)
			}
			if ended {
				s.releaseWriteContext()
				close(s.done)
			}
			return
		}
		n++
	}
}

// newWriteContext makes the context of s's writes; s.mu is held. It is made
// once per subscriber rather than per write, so that a steady stream of
// writes allocates no timers.
func (s *Subscriber) newWriteContext() {
	s.wctx, s.cancel = context.WithCancelCause(s.hub.ctx)
	if s.hub.writeTimeout > 0 {
		cancel := s.cancel
		s.timer = time.AfterFunc(s.hub.writeTimeout, func() { cancel(ErrWriteTimeout) })
		s.timer.Stop()
	}
}

// releaseWriteContext frees the context of s's writes once the writer has
// stopped for good.
func (s *Subscriber) releaseWriteContext() {
	if s.cancel == nil {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.cancel(ErrSubscriberClosed)
}

// writeOne writes pm within the hub's WriteTimeout.
func (s *Subscriber) writeOne(pm *websocket.PreparedMessage) error {
	if s.timer != nil {
		s.timer.Reset(s.hub.writeTimeout)
		defer s.timer.Stop()
	}
	err := s.conn.WritePrepared(s.wctx, pm)
	if err != nil && s.wctx.Err() != nil {
		return fmt.Errorf("%w: %w", context.Cause(s.wctx), err)
	}
	return err
}

// disconnect applies the Disconnect policy from the writer goroutine: it
// ends s and closes its connection with the hub's DisconnectCode.
func (s *Subscriber) disconnect() {
	h := s.hub
	if !s.end(ErrSlowConsumer, true) {
		return
	}
	h.disconnected.Add(1)
	reason := "slow consumer: outgoing queue of " + strconv.Itoa(h.queueLen) + " messages full"
	h.logSlow(s, reason)
	if err := s.conn.Close(h.code, reason); err != nil {
		h.log.Debug("hub: closing a slow subscriber", "err", err)
	}
	s.releaseWriteContext()
	close(s.done)
}

// end stops s for the reason err, unless it has already ended: it discards
// the queue and removes s from the hub and its topics. Called by the writer
// goroutine itself (fromWriter), it returns true if it ended s, and the
// writer then closes s.done once finished. Called from elsewhere, it waits
// for the writer to stop and for s.done to be closed.
func (s *Subscriber) end(err error, fromWriter bool) bool {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		if !fromWriter {
			<-s.done
		}
		return false
	}
	s.err = err
	s.q.reset()
	stopWatch := s.stopWatch
	s.mu.Unlock()
	if stopWatch != nil {
		stopWatch() // a subscriber that ends before its connection leaves nothing on it
	}
	s.hub.leave(s, nil, true)
	if !fromWriter {
		s.writer.Wait()
		s.releaseWriteContext()
		close(s.done)
	}
	return true
}
