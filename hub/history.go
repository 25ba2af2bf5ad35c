package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
)

// Defaults of HistoryOptions.
const (
	// DefaultHistoryLength bounds each topic's history when only MaxAge is
	// set.
	DefaultHistoryLength = 1024
	// DefaultMaxRecovery bounds the messages one Resume fetches from a
	// HistoryBroker.
	DefaultMaxRecovery = 10000
)

// HistoryOptions says which topics keep a history of their recent messages
// and how much of it, so that a subscriber can resume where it left off
// (see [Subscriber.Resume]). The zero value keeps no history.
//
// With a [HistoryBroker] that keeps history (natsbroker on JetStream), the
// history lives in the broker and these bounds apply to the hub's
// in-memory cache of it, which serves the resumes that it reaches back to;
// the broker is asked only for older messages, by one request at a time
// per topic. With any other broker the history is the hub's own, in
// memory: a subscriber resumes only on the hub that gave it its position,
// and a restarted hub starts a new epoch.
type HistoryOptions struct {
	// Length keeps the last Length messages of each topic with history.
	// 0 means DefaultHistoryLength (1024) when MaxAge is set, and no
	// history otherwise.
	Length int

	// MaxAge drops messages older than this from the history. 0 means no
	// age limit.
	MaxAge time.Duration

	// Prefixes selects the topics with history: those that start with one
	// of them ("chat." for every topic under chat). nil means every topic.
	Prefixes []string

	// MaxRecovery is the most messages one Resume fetches from a
	// HistoryBroker; a subscriber that missed more is told to reset. 0
	// means DefaultMaxRecovery (10000).
	MaxRecovery int
}

// on reports whether o keeps any history.
func (o HistoryOptions) on() bool { return o.Length > 0 || o.MaxAge > 0 }

// covers reports whether topic keeps history under o.
func (o HistoryOptions) covers(topic string) bool {
	if !o.on() {
		return false
	}
	if o.Prefixes == nil {
		return true
	}
	for _, p := range o.Prefixes {
		if strings.HasPrefix(topic, p) {
			return true
		}
	}
	return false
}

// Recovery is what [Subscriber.Resume] did.
type Recovery struct {
	// Position is where the live stream goes on from: the position of the
	// last message of the topic before the first live one.
	Position Position
	// Missed is the number of messages after the given position queued
	// for the subscriber before the live ones.
	Missed int
	// Reset is true when the history did not reach back to the given
	// position (too old, another epoch, or more than MaxRecovery
	// messages): none of the missed messages were queued, and the
	// application should reload its state as of Position.
	Reset bool
}

// history is the recent messages of one topic. Every message of the topic
// after base (up to last) is in entries, in order; the hub numbers them
// itself (seq = last+1) or takes the broker's positions.
type history struct {
	mu      sync.Mutex
	epoch   string
	base    uint64
	last    uint64
	entries []*entry // entries[start:] are held
	start   int
	bytes   int

	// fetching, while a Resume fetches older messages from the broker,
	// is closed when it is done.
	fetching chan struct{}
}

// entry is one message of a history, prepared once for plain subscribers
// and once, on first need, for positioned ones.
type entry struct {
	pos Position
	at  time.Time
	m   Message
	raw *websocket.PreparedMessage
	env atomic.Pointer[websocket.PreparedMessage]
}

func newEntry(pos Position, at time.Time, m Message) *entry {
	return &entry{pos: pos, at: at, m: m, raw: websocket.NewPreparedMessage(m.messageType(), m.Data)}
}

// envelope returns the entry's message for a positioned subscriber.
func (e *entry) envelope() *websocket.PreparedMessage {
	if pm := e.env.Load(); pm != nil {
		return pm
	}
	pm := envelope(e.pos, e.m)
	if !e.env.CompareAndSwap(nil, pm) {
		return e.env.Load()
	}
	return pm
}

// newEpoch returns a fresh epoch for a history kept in memory.
func newEpoch() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// held returns the number of entries held.
func (hs *history) held() int { return len(hs.entries) - hs.start }

// append adds e at the end and drops what the bounds no longer allow;
// hs.mu is held.
func (hs *history) append(e *entry, o *HistoryOptions) {
	hs.entries = append(hs.entries, e)
	hs.bytes += len(e.m.Data)
	hs.last = e.pos.Seq
	hs.prune(e.at, o)
}

// prune drops the entries beyond the length bound or older than MaxAge at
// now, moving base up to the last one dropped; hs.mu is held.
func (hs *history) prune(now time.Time, o *HistoryOptions) {
	for hs.held() > 0 {
		e := hs.entries[hs.start]
		if hs.held() <= o.Length && (o.MaxAge <= 0 || now.Sub(e.at) <= o.MaxAge) {
			break
		}
		hs.entries[hs.start] = nil
		hs.start++
		hs.bytes -= len(e.m.Data)
		hs.base = e.pos.Seq
	}
	// Compact once the dropped half outweighs the held one, so that the
	// slice does not grow without bound.
	if hs.start > 0 && hs.start >= hs.held() {
		n := copy(hs.entries, hs.entries[hs.start:])
		clear(hs.entries[n:])
		hs.entries, hs.start = hs.entries[:n], 0
	}
}

// after returns the entries after seq; hs.mu is held and seq >= hs.base.
func (hs *history) after(seq uint64) []*entry {
	held := hs.entries[hs.start:]
	i := len(held)
	for i > 0 && held[i-1].pos.Seq > seq {
		i--
	}
	return held[i:]
}

// prepend puts older entries, which end at hs.base, before the held ones,
// as many as the bounds allow, and moves base back accordingly; from is the
// position the fetched entries come after. hs.mu is held.
func (hs *history) prepend(older []*entry, from uint64, now time.Time, o *HistoryOptions) {
	if len(older) == 0 {
		hs.base = from // nothing of the topic between from and base
		return
	}
	room := o.Length - hs.held()
	keep := older
	if len(keep) > room {
		keep = keep[len(keep)-max(room, 0):]
	}
	for len(keep) > 0 && o.MaxAge > 0 && now.Sub(keep[0].at) > o.MaxAge {
		keep = keep[1:]
	}
	if len(keep) == 0 {
		return
	}
	entries := make([]*entry, 0, len(keep)+hs.held())
	entries = append(append(entries, keep...), hs.entries[hs.start:]...)
	hs.entries, hs.start = entries, 0
	for _, e := range keep {
		hs.bytes += len(e.m.Data)
	}
	if len(keep) == len(older) {
		hs.base = from
	} else {
		hs.base = older[len(older)-len(keep)-1].pos.Seq
	}
}

// position returns the position of the topic's last message; hs.mu is
// held.
func (hs *history) position() Position { return Position{Epoch: hs.epoch, Seq: hs.last} }

// Resume subscribes s to topic, a topic with history, as Subscribe does,
// and first queues for it every message of the topic after since: the
// messages then reach s in order of position, the missed ones followed by
// the live ones, with none left out or repeated at the switch-over however
// many publishers keep publishing. A zero since queues nothing missed.
//
// When the history does not reach back to since (the message at since was
// dropped from it, since belongs to another epoch or lies ahead of the
// history, or more than MaxRecovery messages would be fetched from the
// broker), Resume queues nothing missed and returns a Recovery with Reset
// set and the position the live stream goes on from; a positioned
// subscriber (see [SubscribeOptions]) is first sent
// {"reset":true,"pos":"EPOCH:SEQ"}. The missed messages queued may exceed
// the hub's QueueLength.
//
// Resume returns [ErrNoHistory] for a topic without history, and an error
// if s is already subscribed to topic.
func (s *Subscriber) Resume(ctx context.Context, topic string, since Position) (Recovery, error) {
	if err := ctx.Err(); err != nil {
		return Recovery{}, err
	}
	h := s.hub
	if !h.history.covers(topic) {
		return Recovery{}, fmt.Errorf("%w: %q", ErrNoHistory, topic)
	}
	t, err := h.join(ctx, s, topic, true)
	if err != nil {
		return Recovery{}, err
	}
	rec, err := h.recover(ctx, s, t, topic, since)
	if err != nil {
		h.leave(s, []string{topic}, false)
		return Recovery{}, err
	}
	if rec.Reset {
		h.resets.Add(1)
	}
	h.recovered.Add(uint64(rec.Missed))
	return rec, nil
}

// errAlreadySubscribed is returned by Resume for a topic the subscriber
// has already.
var errAlreadySubscribed = errors.New("hub: already subscribed to the topic")

// recover queues for s, pending on t since join, the messages of t after
// since, then lets it take the live ones.
func (h *Hub) recover(ctx context.Context, s *Subscriber, t *topic, name string, since Position) (Recovery, error) {
	hs := t.hist
	for {
		hs.mu.Lock()
		hs.prune(time.Now(), &h.history)
		var missed []*entry
		reset := false
		switch {
		case since.IsZero():
		case since.Epoch != hs.epoch || since.Seq > hs.last:
			reset = true
		case since.Seq >= hs.base:
			missed = hs.after(since.Seq)
		case h.historyBroker == nil:
			reset = true
		case hs.fetching != nil:
			done := hs.fetching
			hs.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return Recovery{}, ctx.Err()
			}
			continue
		default:
			older, gone, err := h.fetch(ctx, hs, name, since)
			if err != nil {
				hs.mu.Unlock()
				return Recovery{}, err
			}
			if older == nil && !gone {
				hs.mu.Unlock()
				continue // the cache moved on during the fetch
			}
			reset = gone
			switch {
			case gone:
			case since.Seq >= hs.base:
				missed = hs.after(since.Seq) // all of it is held now
			default:
				missed = append(older, hs.after(older[len(older)-1].pos.Seq)...)
			}
		}
		rec := Recovery{Position: hs.position(), Missed: len(missed), Reset: reset}
		pms := make([]*websocket.PreparedMessage, 0, len(missed)+1)
		if reset && s.positions {
			pms = append(pms, resetEnvelope(rec.Position))
		}
		for _, e := range missed {
			if s.positions {
				pms = append(pms, e.envelope())
			} else {
				pms = append(pms, e.raw)
			}
		}
		s.enqueueBacklog(pms)
		h.mu.Lock()
		delete(t.pending, s)
		h.mu.Unlock()
		hs.mu.Unlock()
		return rec, nil
	}
}

// fetch asks the broker for the messages of topic name after since up to
// the start of the cache hs and puts what fits in front of it. It is
// called and returns with hs.mu held, and releases it meanwhile; other
// resumes of the topic wait for it. It returns the fetched entries, or
// gone if the broker's history does not reach back to since, or neither if
// the cache moved on meanwhile.
func (h *Hub) fetch(ctx context.Context, hs *history, name string, since Position) (older []*entry, gone bool, err error) {
	through := Position{Epoch: hs.epoch, Seq: hs.base}
	done := make(chan struct{})
	hs.fetching = done
	hs.mu.Unlock()
	h.fetches.Add(1)
	es, err := h.historyBroker.History(ctx, name, since, through, h.history.MaxRecovery)
	hs.mu.Lock()
	hs.fetching = nil
	close(done)
	switch {
	case errors.Is(err, ErrHistoryGone):
		return nil, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("hub: fetching the history of %s: %w", name, err)
	}
	if hs.base != through.Seq || hs.epoch != through.Epoch {
		return nil, false, nil
	}
	now := time.Now()
	older = make([]*entry, len(es))
	for i, e := range es {
		// The broker's messages carry no time; they count as new.
		older[i] = newEntry(e.Position, now, e.Message)
	}
	hs.prepend(older, since.Seq, now, &h.history)
	return older, false, nil
}

// deliverAt is the HistoryBroker's callback for the topic t: it adds the
// message at pos to t's history and queues it for t's subscribers.
func (h *Hub) deliverAt(t *topic, pos Position, m Message) {
	h.received.Add(1)
	hs := t.hist
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.epoch == "" {
		hs.epoch = pos.Epoch
	}
	if pos.Epoch != hs.epoch {
		// The broker's history was lost: so is the cache of it.
		clear(hs.entries)
		hs.entries, hs.start, hs.bytes = hs.entries[:0], 0, 0
		hs.epoch, hs.base, hs.last = pos.Epoch, pos.Seq-1, pos.Seq-1
	}
	if pos.Seq <= hs.last {
		return // delivered already
	}
	e := newEntry(pos, time.Now(), m)
	hs.append(e, &h.history)
	h.fanOut(t, e)
}

// deliverNumbered is the callback of a broker without history for the
// topic t: it numbers the message, adds it to t's history in memory and
// queues it for t's subscribers.
func (h *Hub) deliverNumbered(t *topic, m Message) {
	h.received.Add(1)
	hs := t.hist
	hs.mu.Lock()
	defer hs.mu.Unlock()
	e := newEntry(Position{Epoch: hs.epoch, Seq: hs.last + 1}, time.Now(), m)
	hs.append(e, &h.history)
	h.fanOut(t, e)
}

// fanOut has e written to every subscriber of t but those still
// recovering, who get it from the history; t.hist.mu is held.
func (h *Hub) fanOut(t *topic, e *entry) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	h.each(t.subs, func(s *Subscriber) bool {
		if len(t.pending) > 0 {
			if _, ok := t.pending[s]; ok {
				return false
			}
		}
		if s.positions {
			return s.enqueue(e.envelope())
		}
		return s.enqueue(e.raw)
	})
}
