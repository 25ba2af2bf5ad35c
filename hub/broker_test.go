package hub_test

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/duplexws/websocket/hub"
)

// recordingBroker is the in-process broker, keeping the set of subscribed
// topics for a test to check.
type recordingBroker struct {
	hub.Broker
	mu  sync.Mutex
	set map[string]bool
}

func newRecordingBroker() *recordingBroker {
	return &recordingBroker{Broker: hub.NewLocalBroker(), set: make(map[string]bool)}
}

func (b *recordingBroker) Subscribe(ctx context.Context, topic string, deliver func(hub.Message)) error {
	b.mu.Lock()
	b.set[topic] = true
	b.mu.Unlock()
	return b.Broker.Subscribe(ctx, topic, deliver)
}

func (b *recordingBroker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	delete(b.set, topic)
	b.mu.Unlock()
	return b.Broker.Unsubscribe(ctx, topic)
}

// topics returns the subscribed topics, sorted and joined with commas.
func (b *recordingBroker) topics() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for name := range b.set {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
