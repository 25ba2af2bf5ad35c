package hub

import (
	"errors"

	"github.com/duplexws/websocket/internal/topicname"
)

// ErrHubClosed is returned by a [Hub] used after [Hub.Close], and by
// [Subscriber.Err] for the subscribers the closing hub ended. It is not
// [websocket.ErrClosed], which a handler meets when its connection ends:
// the two tell apart a server shutting down from a client going away.
var ErrHubClosed = errors.New("hub: hub closed")

// ErrBadTopic is returned for a topic name the hub does not accept. A topic
// is 1 to 255 bytes of tokens separated by single dots ("chat.lobby"); a
// token is made of ASCII letters, digits and the characters - _ : (so that
// every broker, NATS included, carries it as it is, with no wildcard
// meaning). The error that wraps it says what is wrong with the name.
var ErrBadTopic = topicname.ErrBad

// ErrSlowConsumer is the Err of a subscriber disconnected by the
// [Disconnect] policy because its queue was full.
var ErrSlowConsumer = errors.New("hub: slow consumer disconnected: outgoing queue full")

// ErrSubscriberClosed is the Err of a subscriber after its [Subscriber.Close].
var ErrSubscriberClosed = errors.New("hub: subscriber closed")

// ErrWriteTimeout is in the chain of a subscriber's Err when a write took
// longer than the hub's [Options.WriteTimeout].
var ErrWriteTimeout = errors.New("hub: write timeout")

// ErrHistoryGone is wrapped by the error of [HistoryBroker.History] when the
// history no longer reaches back to the position asked for.
var ErrHistoryGone = errors.New("hub: history does not reach back that far")

// ErrNoHistory is returned by [Subscriber.Resume] for a topic the hub keeps
// no history of (see [Options.History]).
var ErrNoHistory = errors.New("hub: the topic has no history")
