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
