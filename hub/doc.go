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
// Each subscriber has a bounded queue of messages waiting to be written and
// a writer goroutine that runs only while that queue is not empty. Publish
// never waits for a subscriber: when a queue is full, [Options.Policy] either
// discards the oldest waiting message ([DropOldest]) or disconnects the
// subscriber with a close frame ([Disconnect]). Both are counted in [Stats].
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
