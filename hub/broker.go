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
