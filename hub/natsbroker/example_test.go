package natsbroker_test

import (
	"context"
	"log"
	"time"

	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
)

// Every Duplex server of a deployment connects its hub to the same NATS
// cluster; a message published on any of them reaches the subscribers of
// all.
func ExampleConnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbroker.Connect(ctx, "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222", nil)
	if err != nil {
		log.Fatal(err)
	}
	h := hub.New(&hub.Options{Broker: b, Policy: hub.Disconnect})
	defer h.Close() // closes the broker too

	// Handlers subscribe their connections with h.Subscribe, as with the
	// in-process broker.
	if err := h.Publish(ctx, "news", hub.Message{Data: []byte("to every server")}); err != nil {
		log.Print(err)
	}
}

// With History, the rooms' messages live in a JetStream stream replicated
// on three NATS servers: a client that comes back to any Duplex server
// with its last position gets what it missed.
func ExampleConnect_history() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbroker.Connect(ctx, "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222", &natsbroker.Options{
		History: &natsbroker.HistoryOptions{Replicas: 3, MaxAge: 24 * time.Hour},
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, natsbroker.ErrNoJetStream) without JetStream
	}
	// The hub caches the last 1,000 messages of each topic it serves.
	h := hub.New(&hub.Options{Broker: b, History: hub.HistoryOptions{Length: 1000}})
	defer h.Close()
	// Handlers subscribe with h.SubscribeWith(ctx, c,
	// &hub.SubscribeOptions{Positions: true}) and sub.Resume(ctx, topic,
	// since), since being the position the client last saw.
}
