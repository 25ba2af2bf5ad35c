package hub

import "context"

// Broker carries published messages to every hub that shares it, and back to
// the hub that published them. A Broker serves one Hub, which owns it: the
// hub subscribes to a topic while it has subscribers for it, and closes the
// broker when the hub closes. A hub whose [Options.Broker] is nil uses an
// in-process broker; package natsbroker spans many servers.
type Broker interface {
	// Publish sends m to the topic. It does not wait for delivery.
	Publish(ctx context.Context, topic string, m Message) error
	// Subscribe makes the broker call deliver with every message published
	// to topic from then on, including those this hub publishes. Messages
	// from one publisher reach deliver in the order they were published.
	// deliver does not block for long and is safe to call from several
	// goroutines at once. The hub subscribes to a topic at most once.
	Subscribe(ctx context.Context, topic string, deliver func(Message)) error
	// Unsubscribe stops the deliveries of topic.
	Unsubscribe(ctx context.Context, topic string) error
	// Close ends every subscription and releases the broker's resources.
	Close() error
}

// StatsReporter is implemented by a Broker that reports on its link to other
// servers; [Hub.Stats] includes its report.
type StatsReporter interface {
	BrokerStats() BrokerStats
}

// BrokerStats describes a broker's link to the other servers.
type BrokerStats struct {
	// Name says which broker this is ("local", "nats").
	Name string
	// Connected is true while the broker can deliver messages.
	Connected bool
	// Disconnects counts the times the link was lost.
	Disconnects uint64
	// Reconnects counts the times the link was restored, with the hub's
	// subscriptions.
	Reconnects uint64
	// Errors counts asynchronous errors the broker met (for NATS, messages
	// it dropped because the hub fell behind, and protocol errors).
	Errors uint64
}

// HistoryBroker is a Broker that keeps the history of topics itself and
// numbers their messages, as natsbroker does on JetStream, so that a
// subscriber can resume on any hub sharing it. A hub with history
// ([Options.History]) uses these methods when HasHistory returns true;
// otherwise it keeps the history in its own memory, numbered by itself.
type HistoryBroker interface {
	Broker
	// HasHistory reports whether the broker keeps history.
	HasHistory() bool
	// SubscribeHistory is Subscribe with positions. It returns the
	// position from which deliveries start: deliver is then called with
	// every message of topic after it, in order of position, each once,
	// including across losses of the broker's link. Messages may reach
	// deliver before SubscribeHistory returns.
	SubscribeHistory(ctx context.Context, topic string, deliver func(Position, Message)) (Position, error)
	// History returns the messages of topic after the position after up to
	// and including through, oldest first. It returns an error wrapping
	// [ErrHistoryGone] if it no longer holds every message of the topic
	// after after (too old, or another epoch), or if there are more than
	// limit of them.
	History(ctx context.Context, topic string, after, through Position, limit int) ([]Entry, error)
}

// Entry is a message with its position in the history of its topic.
type Entry struct {
	Position Position
	Message  Message
}
