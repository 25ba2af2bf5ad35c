package hub

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/duplexws/websocket"
)

// Policy says what the hub does when a subscriber's queue is full and
// another message arrives for it.
type Policy int

const (
	// DropOldest discards the oldest waiting message to make room for the
	// new one; the subscriber stays connected and misses messages.
	DropOldest Policy = iota
	// Disconnect discards every waiting message, unsubscribes the
	// subscriber and closes its connection with Options.DisconnectCode,
	// once the write in flight (if any) is done. A subscriber whose write
	// never finishes is ended by Options.WriteTimeout instead.
	Disconnect
)

// String returns "drop-oldest", "disconnect", or the number of an unknown
// policy.
func (p Policy) String() string {
	switch p {
	case DropOldest:
		return "drop-oldest"
	case Disconnect:
		return "disconnect"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Defaults of Options.
const (
	DefaultQueueLength  = 256
	DefaultWriteTimeout = 10 * time.Second
)

// Options configures a Hub. The zero value (or a nil *Options) is a usable
// configuration.
type Options struct {
	// Broker carries messages between hubs. nil means an in-process
	// broker, which delivers within this hub, in the publisher's goroutine
	// (it reports itself as "local" in [Stats]). The hub owns its broker
	// and closes it in [Hub.Close].
	Broker Broker

	// QueueLength is how many messages may wait for one subscriber, besides
	// the one being written. 0 means DefaultQueueLength (256). The queue
	// grows as needed up to this length, so an idle subscriber holds none.
	QueueLength int

	// Policy applies when a message arrives for a subscriber whose queue is
	// full. The zero value is DropOldest.
	Policy Policy

	// DisconnectCode is the close status sent to a subscriber disconnected
	// by the Disconnect policy, with a reason naming the full queue. 0
	// means websocket.StatusPolicyViolation (1008);
	// websocket.StatusTryAgainLater (1013) is the other usual choice.
	DisconnectCode websocket.StatusCode

	// WriteTimeout bounds the writing of one message to one subscriber; a
	// subscriber whose write times out is a slow consumer under either
	// policy: it is ended and its connection closed with DisconnectCode.
	// 0 means DefaultWriteTimeout (10s); a negative value means no bound.
	WriteTimeout time.Duration

	// History keeps the recent messages of topics so that subscribers can
	// resume (see [Subscriber.Resume]). The zero value keeps none.
	History HistoryOptions

	// Logger receives the hub's events: disconnected slow subscribers (a
	// Warn line each, with the peer's address when the Conn has a
	// RemoteAddr method; at most 10 a second, the next line counting those
	// left out), failed writes, broker errors. nil means slog.Default().
	Logger *slog.Logger
}

// SubscribeOptions configures [Hub.SubscribeWith]. The zero value (or nil)
// is a subscriber with no topics that receives messages as published.
type SubscribeOptions struct {
	// Topics are the topics to subscribe to at once; Subscriber.Subscribe
	// and Subscriber.Resume add more.
	Topics []string

	// Positions wraps every message written to the subscriber in one text
	// message holding a JSON object that gives its position in the
	// history of its topic, so that the client can resume from it:
	//
	//	{"pos": "EPOCH:SEQ", "text": "<the message, if it was text>"}
	//	{"pos": "EPOCH:SEQ", "binary": "<the message, if binary, in base64>"}
	//
	// "pos" is left out for a topic without history. When Resume cannot
	// recover the messages missed, the subscriber is first sent
	// {"reset": true, "pos": "EPOCH:SEQ"}, the position the live stream
	// goes on from. A positioned subscriber whose queue is full is
	// disconnected whatever the Policy, rather than left with a gap.
	Positions bool
}
