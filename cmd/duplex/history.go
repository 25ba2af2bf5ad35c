package main

import (
	"flag"
	"time"

	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
)

// historyFlags are serve's --history and --history-age: the chat rooms'
// history, which lets a duplex.chat.v2 client (the chat page) resume.
type historyFlags struct {
	length int
	age    time.Duration
}

func (f *historyFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.length, "history", 0, "keep the last `N` messages of each chat room, so that a client that reconnects with its last position (subprotocol "+chat.Subprotocol+") gets what it missed; with --broker, in a JetStream stream shared by the servers (created if missing), with this many per room in memory (0 = no history)")
	fs.DurationVar(&f.age, "history-age", 0, "keep the chat rooms' messages for this long (alone: with --history 1024); with --broker, the stream's age limit too (0 = no age limit)")
}

// check returns the flags' rules.
func (f *historyFlags) check() []flagRule {
	return []flagRule{notNegative("history", f.length), notNegative("history-age", f.age)}
}

// on reports whether the rooms keep history.
func (f *historyFlags) on() bool { return f.length > 0 || f.age > 0 }

// hubOptions returns the hub's history of the chat rooms.
func (f *historyFlags) hubOptions() hub.HistoryOptions {
	return hub.HistoryOptions{Length: f.length, MaxAge: f.age, Prefixes: []string{chat.TopicPrefix}}
}

// brokerOptions returns the NATS broker's history, nil without history.
func (f *historyFlags) brokerOptions() *natsbroker.HistoryOptions {
	if !f.on() {
		return nil
	}
	o := &natsbroker.HistoryOptions{MaxAge: f.age}
	if f.length > natsbroker.DefaultMaxMsgsPerTopic {
		o.MaxMsgsPerTopic = int64(f.length)
	}
	return o
}
