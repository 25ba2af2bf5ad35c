package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Defaults of HistoryOptions.
const (
	DefaultStream          = "DUPLEX"
	DefaultMaxMsgsPerTopic = 10000
)

// ErrNoJetStream is wrapped by the error of Connect when History is set
// and the NATS server has no JetStream.
var ErrNoJetStream = errors.New("natsbroker: the NATS server has no JetStream; start it with JetStream on (nats-server -js), or connect without History")

// HistoryOptions keeps the messages of the hub's topics in a JetStream
// stream, so that a hub with history (hub.Options.History) resumes a
// subscriber on any server of the cluster. The stream is created if it is
// missing; an existing stream is used as it is. The zero value is a usable
// configuration.
type HistoryOptions struct {
	// Stream is the stream's name. "" means DefaultStream ("DUPLEX").
	// It captures the subjects Prefix+".>".
	Stream string
	// Replicas is how many NATS servers hold the stream (1 to 5); with 3,
	// the history survives the loss of one. 0 means 1.
	Replicas int
	// MaxAge drops messages older than this. 0 means no age limit.
	MaxAge time.Duration
	// MaxMsgsPerTopic keeps at most that many messages of each topic. 0
	// means DefaultMaxMsgsPerTopic (10000); a negative value, no limit.
	MaxMsgsPerTopic int64
	// Memory keeps the stream in the servers' memory rather than on disk.
	Memory bool
}

// Publish with History waits publishAckWait for the stream to acknowledge
// a message, and tries again, with the same message ID so that the stream
// stores it once, every publishRetryWait while no stream leader answers (a
// leader election), for at most publishGiveUp in all unless ctx ends
// sooner.
const (
	publishAckWait   = 2 * time.Second
	publishRetryWait = 100 * time.Millisecond
	publishGiveUp    = 30 * time.Second
)

// transient reports whether err may go away by itself: a request no
// JetStream server answered in time, as during a leader election after
// the loss of a NATS server.
func transient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

// jsRequestWait bounds each JetStream request that retry makes.
const jsRequestWait = 3 * time.Second

// retry calls f, with a context bounded by jsRequestWait, until it
// succeeds, fails otherwise than transiently, or publishGiveUp has passed
// or ctx has ended.
func retry(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, publishGiveUp)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, jsRequestWait)
		err := f(rctx)
		rcancel()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(publishRetryWait):
		}
	}
}

// store publishes msg to the stream and waits until it is stored.
func (b *Broker) store(ctx context.Context, topic string, msg *nats.Msg) error {
	ctx, cancel := context.WithTimeout(ctx, publishGiveUp)
	defer cancel()
	id := nuid.Next()
	for {
		actx, acancel := context.WithTimeout(ctx, publishAckWait)
		_, err := b.js.PublishMsg(msg, nats.Context(actx), nats.MsgId(id), nats.RetryAttempts(-1), nats.RetryWait(publishRetryWait))
		acancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !transient(err) {
			return fmt.Errorf("natsbroker: publish to %s: %w", topic, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(publishRetryWait):
		}
	}
}

// setUpHistory finds or creates the stream; b.nc is connected.
func (b *Broker) setUpHistory(ctx context.Context, o HistoryOptions) error {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.MaxMsgsPerTopic == 0 {
		o.MaxMsgsPerTopic = DefaultMaxMsgsPerTopic
	}
	js, err := b.nc.JetStream(nats.MaxWait(jsRequestWait))
	if err != nil {
		return fmt.Errorf("natsbroker: %w", err)
	}
	info, err := js.StreamInfo(o.Stream, nats.Context(ctx))
	if errors.Is(err, nats.ErrStreamNotFound) {
		storage := nats.FileStorage
		if o.Memory {
			storage = nats.MemoryStorage
		}
		info, err = js.AddStream(&nats.StreamConfig{
			Name:              o.Stream,
			Subjects:          []string{b.prefix + ">"},
			Retention:         nats.LimitsPolicy,
			Discard:           nats.DiscardOld,
			MaxAge:            o.MaxAge,
			MaxMsgsPerSubject: o.MaxMsgsPerTopic,
			Storage:           storage,
			Replicas:          o.Replicas,
		}, nats.Context(ctx))
		if err == nil {
			b.log.Info("natsbroker: created the history stream", "stream", o.Stream, "replicas", o.Replicas)
		}
	}
	switch {
	case errors.Is(err, nats.ErrJetStreamNotEnabled), errors.Is(err, nats.ErrJetStreamNotEnabledForAccount),
		errors.Is(err, nats.ErrNoResponders): // no JetStream API to answer
		return fmt.Errorf("%w (server %s)", ErrNoJetStream, b.nc.ConnectedUrlRedacted())
	case err != nil:
		return fmt.Errorf("natsbroker: the history stream %s: %w", o.Stream, err)
	}
	b.js, b.stream = js, o.Stream
	// The epoch is the stream's creation time: a recreated stream starts
	// a new one.
	b.epoch = strconv.FormatInt(info.Created.UnixNano(), 36)
	return nil
}

// HasHistory reports whether the broker keeps the topics' history in
// JetStream (Options.History was set).
func (b *Broker) HasHistory() bool { return b.js != nil }

// message returns the hub message a NATS message carries.
func message(msg *nats.Msg) hub.Message {
	m := hub.Message{Type: websocket.MessageText, Data: msg.Data}
	if msg.Header != nil && msg.Header.Get(TypeHeader) == "binary" {
		m.Type = websocket.MessageBinary
	}
	return m
}

// SubscribeHistory delivers every message of topic stored after the
// stream's last message at the time of the call, with its stream sequence
// as its position, through an ordered JetStream consumer, which resumes
// where it was after a loss of the NATS connection or of a NATS server.
func (b *Broker) SubscribeHistory(ctx context.Context, topic string, deliver func(hub.Position, hub.Message)) (hub.Position, error) {
	if b.js == nil {
		return hub.Position{}, fmt.Errorf("natsbroker: %w", hub.ErrNoHistory)
	}
	var info *nats.StreamInfo
	err := retry(ctx, func(ctx context.Context) (err error) {
		info, err = b.js.StreamInfo(b.stream, nats.Context(ctx))
		return err
	})
	if err != nil {
		return hub.Position{}, fmt.Errorf("natsbroker: the history stream %s: %w", b.stream, err)
	}
	from := hub.Position{Epoch: b.epoch, Seq: info.State.LastSeq}
	var sub *nats.Subscription
	err = retry(ctx, func(context.Context) (err error) {
		sub, err = b.js.Subscribe(b.prefix+topic, func(msg *nats.Msg) {
			md, err := msg.Metadata()
			if err != nil {
				b.errors.Add(1)
				return
			}
			deliver(hub.Position{Epoch: b.epoch, Seq: md.Sequence.Stream}, message(msg))
		}, nats.OrderedConsumer(), nats.StartSequence(from.Seq+1)) // bounded by jsRequestWait: a context would outlive the call in the subscription
		return err
	})
	if err != nil {
		return hub.Position{}, fmt.Errorf("natsbroker: subscribe to the history of %s: %w", topic, err)
	}
	b.mu.Lock()
	if old := b.subs[topic]; old != nil {
		old.Unsubscribe()
	}
	b.subs[topic] = sub
	b.mu.Unlock()
	return from, nil
}

// History returns the stored messages of topic after after, up to
// through, from a consumer that lives for the call. The stream drops a
// topic's messages oldest first, so it holds every one after after exactly
// when it still holds the message at after.
func (b *Broker) History(ctx context.Context, topic string, after, through hub.Position, limit int) ([]hub.Entry, error) {
	if b.js == nil {
		return nil, fmt.Errorf("natsbroker: %w", hub.ErrNoHistory)
	}
	subject := b.prefix + topic
	if after.Epoch != b.epoch {
		return nil, fmt.Errorf("natsbroker: position of another epoch: %w", hub.ErrHistoryGone)
	}
	if after.Seq == 0 {
		info, err := b.js.StreamInfo(b.stream, nats.Context(ctx))
		if err != nil {
			return nil, fmt.Errorf("natsbroker: the history stream %s: %w", b.stream, err)
		}
		if info.State.FirstSeq > 1 || info.State.NumDeleted > 0 {
			return nil, fmt.Errorf("natsbroker: the stream no longer starts at 1: %w", hub.ErrHistoryGone)
		}
	} else {
		msg, err := b.js.GetMsg(b.stream, after.Seq, nats.Context(ctx))
		switch {
		case errors.Is(err, nats.ErrMsgNotFound):
			return nil, fmt.Errorf("natsbroker: message %d dropped: %w", after.Seq, hub.ErrHistoryGone)
		case err != nil:
			return nil, fmt.Errorf("natsbroker: reading message %d of the history: %w", after.Seq, err)
		case msg.Subject != subject:
			return nil, fmt.Errorf("natsbroker: message %d is not of %s: %w", after.Seq, topic, hub.ErrHistoryGone)
		}
	}
	last, err := b.js.GetLastMsg(b.stream, subject, nats.Context(ctx))
	if errors.Is(err, nats.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("natsbroker: reading the last message of %s: %w", topic, err)
	}
	upTo := min(through.Seq, last.Sequence)
	if upTo <= after.Seq {
		return nil, nil
	}
	var sub *nats.Subscription
	err = retry(ctx, func(context.Context) (err error) {
		sub, err = b.js.SubscribeSync(subject, nats.OrderedConsumer(), nats.StartSequence(after.Seq+1))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("natsbroker: making a consumer of the history of %s: %w", topic, err)
	}
	defer sub.Unsubscribe()
	var out []hub.Entry
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("natsbroker: reading the history of %s after %d messages: %w", topic, len(out), err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("natsbroker: reading the history of %s: %w", topic, err)
		}
		seq := md.Sequence.Stream
		if seq > upTo {
			return out, nil
		}
		if len(out) == limit {
			return nil, fmt.Errorf("natsbroker: more than %d messages: %w", limit, hub.ErrHistoryGone)
		}
		out = append(out, hub.Entry{Position: hub.Position{Epoch: b.epoch, Seq: seq}, Message: message(msg)})
		if seq == upTo {
			return out, nil
		}
	}
}
