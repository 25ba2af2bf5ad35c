package bench

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
)

// newDuplexHistoryServer is the server of `duplex serve --history 1000
// --broker natsURL`: chat rooms at /chat whose history lives in a JetStream
// stream, with the last 1,000 messages of each room cached in memory.
func newDuplexHistoryServer(natsURL string) (libServer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := natsbroker.Connect(ctx, natsURL, &natsbroker.Options{Logger: quiet, History: &natsbroker.HistoryOptions{Memory: true}})
	if err != nil {
		return libServer{}, err
	}
	h := hub.New(&hub.Options{Broker: b, Logger: quiet, History: hub.HistoryOptions{Length: 1000}})
	return libServer{
		echo:        newDuplexServer(compressOff).echo,
		chat:        chat.Handler(h, nil),
		subscribers: func() int { return h.Stats().Subscribers },
	}, nil
}
