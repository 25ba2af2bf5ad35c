package hub

import (
	"context"
	"errors"
	"sync"
)

// errBrokerClosed is returned by a localBroker used after Close.
var errBrokerClosed = errors.New("hub: local broker closed")

// localBroker is the in-process Broker a Hub uses when Options.Broker is
// nil: Publish calls the topic's deliver function directly, in the
// publisher's goroutine.
type localBroker struct {
	mu     sync.RWMutex
	topics map[string]func(Message)
	closed bool
}

func newLocalBroker() *localBroker {
	return &localBroker{topics: make(map[string]func(Message))}
}

// Publish delivers m to the topic's subscriber before it returns.
func (b *localBroker) Publish(ctx context.Context, topic string, m Message) error {
	b.mu.RLock()
	deliver, closed := b.topics[topic], b.closed
	b.mu.RUnlock()
	if closed {
		return errBrokerClosed
	}
	if deliver != nil {
		deliver(m)
	}
	return nil
}

// Subscribe registers deliver for topic, replacing any earlier one.
func (b *localBroker) Subscribe(ctx context.Context, topic string, deliver func(Message)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errBrokerClosed
	}
	b.topics[topic] = deliver
	return nil
}

// Unsubscribe removes the topic's deliver function.
func (b *localBroker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	delete(b.topics, topic)
	b.mu.Unlock()
	return nil
}

// Close removes every subscription; Publish and Subscribe fail afterwards.
func (b *localBroker) Close() error {
	b.mu.Lock()
	b.closed = true
	clear(b.topics)
	b.mu.Unlock()
	return nil
}

// BrokerStats reports an always-connected broker named "local".
func (b *localBroker) BrokerStats() BrokerStats {
	return BrokerStats{Name: "local", Connected: true}
}
