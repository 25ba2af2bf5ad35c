// Package hub fans WebSocket messages out to the subscribers of topics.
//
// A [Hub] holds subscribers: connections (a [*websocket.Conn], or anything
// with its WritePrepared and Close methods) attached to one or more topics.
// [Hub.Publish] sends a message to every subscriber of a topic, on this
// server and, through a [Broker], on every other server sharing it. The
// default broker works within one process; package natsbroker connects many
// Duplex servers through a NATS cluster.
//
// A message is encoded once however many subscribers receive it: the hub
// wraps it in one [websocket.PreparedMessage], whose frame (compressed, where
// a connection compresses each message on its own) is built on first use and
// shared by every connection that can use it.
//
// A message goes to a subscriber whose connection takes it at once (see
// [websocket.Conn.TryWritePrepared]) straight from the fan-out: with the
// in-process broker, from the publisher's goroutine (shared with up to
// GOMAXPROCS goroutines for thousands of subscribers), a system call per
// subscriber that never waits for the peer. A subscriber that is behind
// has a bounded queue of messages waiting to be written and a writer
// goroutine that runs only while that queue is not empty; while it does,
// later messages queue behind, so each subscriber gets them in order. Publish
// never waits for a subscriber: when a queue is full, [Options.Policy] either
// discards the oldest waiting message ([DropOldest]) or disconnects the
// subscriber with a close frame ([Disconnect]). Both are counted in [Stats].
//
// # History and resumable subscriptions
//
// A topic can keep a history of its recent messages ([Options.History]:
// the last N, those younger than a duration, for the topics under given
// prefixes). Each of its messages then has a [Position], "EPOCH:SEQ": the
// epoch changes when the history is lost (a restarted hub, a recreated
// stream), the sequence grows with every message. A subscriber made with
// [SubscribeOptions.Positions] receives each message wrapped in a JSON
// text message that carries its position:
//
//	{"pos": "EPOCH:SEQ", "text": "<the message, if it was text>"}
//	{"pos": "EPOCH:SEQ", "binary": "<the message, if binary, in base64>"}
//
// A client that comes back gives its last position to [Subscriber.Resume],
// which sends it every message after that position the history still
// holds, then the live ones, in order, with no gap and no duplicate at the
// switch-over. When the history does not reach back that far, the first
// message is {"reset": true, "pos": "EPOCH:SEQ"}, the position to go on
// from, and the application reloads its state.
//
// With the in-process broker, or any [Broker] that keeps no history, the
// hub keeps the history in memory, bounded per topic and counted in
// [Stats]; a client resumes on the hub that gave it its position. A
// [HistoryBroker] (natsbroker on NATS JetStream) keeps it for every
// server sharing it, so a client resumes on any of them: the hub then
// holds a bounded cache of each topic's recent messages that serves the
// resumes it reaches back to, and asks the broker only for older ones, one
// request at a time per topic.
//
// The usual shape of a handler is:
//
//	c, err := websocket.Accept(w, r, nil)
//	if err != nil {
//		return
//	}
//	defer c.CloseNow()
//	sub, err := h.Subscribe(r.Context(), c, "news")
//	if err != nil {
//		c.Close(websocket.StatusInternalError, "cannot subscribe")
//		return
//	}
//	defer sub.Close()
//	for {
//		typ, data, err := c.Read(r.Context())
//		if err != nil {
//			return
//		}
//		h.Publish(r.Context(), "news", hub.Message{Type: typ, Data: data})
//	}
package hub
