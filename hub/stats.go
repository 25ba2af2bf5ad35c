package hub

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Stats is a snapshot of a hub's state and counters. Counters start at zero
// when the hub is made and only grow.
type Stats struct {
	// Topics is the number of topics with at least one subscriber here.
	Topics int
	// Subscribers is the number of live subscribers.
	Subscribers int
	// Subscriptions is the number of (subscriber, topic) pairs.
	Subscriptions int
	// Published counts the messages accepted by Publish (messages in).
	Published uint64
	// Received counts the messages the broker delivered to this hub for
	// its subscribers, whichever hub published them.
	Received uint64
	// Delivered counts the messages written to subscribers (messages out).
	Delivered uint64
	// Dropped counts the messages discarded by the slow-consumer policy:
	// one per overwritten message with DropOldest; the queued messages and
	// the one that did not fit with Disconnect.
	Dropped uint64
	// Disconnected counts the subscribers disconnected by the Disconnect
	// policy.
	Disconnected uint64
	// WriteErrors counts the subscribers ended by a failed or timed-out
	// write.
	WriteErrors uint64
	// TimedOut counts the subscribers ended, and their connections
	// closed, because a write to them did not finish within WriteTimeout:
	// slow consumers under either policy (counted in WriteErrors too).
	TimedOut uint64
	// Queued is the number of messages waiting in all queues now.
	Queued int
	// MaxQueued is the length of the longest queue now.
	MaxQueued int
	// QueueLength is the configured bound of each queue.
	QueueLength int
	// HistoryTopics is the number of topics whose history this hub holds
	// in memory (with a HistoryBroker, its cache of the broker's).
	HistoryTopics int
	// HistoryMessages is the number of messages those histories hold.
	HistoryMessages int
	// HistoryBytes is the size of the payloads of those messages.
	HistoryBytes int
	// Recovered counts the missed messages that Resume queued.
	Recovered uint64
	// Resets counts the Resumes whose history did not reach back.
	Resets uint64
	// HistoryFetches counts the requests for older messages made to a
	// HistoryBroker.
	HistoryFetches uint64
	// Broker is the broker's report, if it gives one (see StatsReporter).
	Broker BrokerStats
}

// Stats returns a snapshot of the hub's state and counters.
func (h *Hub) Stats() Stats {
	st := Stats{QueueLength: h.queueLen}
	h.mu.RLock()
	var hists []*history // locked after h.mu: the order is history, then hub
	for _, t := range h.topics {
		if len(t.subs) > 0 {
			st.Topics++
		}
		if t.hist != nil {
			hists = append(hists, t.hist)
		}
	}
	st.Subscribers = len(h.subs)
	for s := range h.subs {
		st.Subscriptions += len(s.topics)
		s.mu.Lock()
		n := s.q.n
		s.mu.Unlock()
		st.Queued += n
		st.MaxQueued = max(st.MaxQueued, n)
	}
	h.mu.RUnlock()
	st.HistoryTopics = len(hists)
	for _, hs := range hists {
		hs.mu.Lock()
		st.HistoryMessages += hs.held()
		st.HistoryBytes += hs.bytes
		hs.mu.Unlock()
	}
	st.Published = h.published.Load()
	st.Received = h.received.Load()
	st.Delivered = h.delivered.Load()
	st.Dropped = h.dropped.Load()
	st.Disconnected = h.disconnected.Load()
	st.WriteErrors = h.writeErrors.Load()
	st.TimedOut = h.timedOut.Load()
	st.Recovered = h.recovered.Load()
	st.Resets = h.resets.Load()
	st.HistoryFetches = h.fetches.Load()
	if r, ok := h.broker.(StatsReporter); ok {
		st.Broker = r.BrokerStats()
	}
	return st
}

// WriteMetrics writes the hub's Stats to w in the Prometheus text exposition
// format (version 0.0.4), as metrics named duplex_hub_*. A /metrics handler
// sets the Content-Type "text/plain; version=0.0.4" and calls it.
func (h *Hub) WriteMetrics(w io.Writer) error {
	st := h.Stats()
	bw := bufio.NewWriter(w)
	// The broker's metrics carry its name as a label.
	brokerLabel := `{broker="` + st.Broker.Name + `"}`
	if st.Broker.Name == "" {
		brokerLabel = ""
	}
	metric := func(name, typ, help string, value uint64) {
		bw.WriteString("# HELP duplex_hub_" + name + " " + help + "\n")
		bw.WriteString("# TYPE duplex_hub_" + name + " " + typ + "\n")
		bw.WriteString("duplex_hub_" + name)
		if strings.HasPrefix(name, "broker_") {
			bw.WriteString(brokerLabel)
		}
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatUint(value, 10))
		bw.WriteByte('\n')
	}
	gauge := func(name, help string, value int) { metric(name, "gauge", help, uint64(value)) }
	counter := func(name, help string, value uint64) { metric(name, "counter", help, value) }
	boolean := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	gauge("topics", "Topics with at least one subscriber on this server.", st.Topics)
	gauge("subscribers", "Live subscribers (connections).", st.Subscribers)
	gauge("subscriptions", "Subscriptions (subscriber and topic pairs).", st.Subscriptions)
	counter("messages_published_total", "Messages accepted by Publish.", st.Published)
	counter("messages_received_total", "Messages the broker delivered to this hub.", st.Received)
	counter("messages_delivered_total", "Messages written to subscribers.", st.Delivered)
	counter("messages_dropped_total", "Messages discarded by the slow-consumer policy.", st.Dropped)
	counter("subscribers_disconnected_total", "Subscribers disconnected because their queue was full.", st.Disconnected)
	counter("write_errors_total", "Subscribers ended by a failed or timed-out write.", st.WriteErrors)
	counter("subscribers_timed_out_total", "Subscribers disconnected because a write to them did not finish within the write timeout.", st.TimedOut)
	gauge("queued_messages", "Messages waiting in all subscriber queues.", st.Queued)
	gauge("queue_depth_max", "Length of the longest subscriber queue.", st.MaxQueued)
	gauge("queue_length", "Configured bound of each subscriber queue.", st.QueueLength)
	gauge("history_topics", "Topics whose recent messages this hub holds in memory.", st.HistoryTopics)
	gauge("history_messages", "Messages held in the topics' histories.", st.HistoryMessages)
	gauge("history_bytes", "Payload bytes held in the topics' histories.", st.HistoryBytes)
	counter("history_recovered_total", "Missed messages queued for resuming subscribers.", st.Recovered)
	counter("history_resets_total", "Resumes whose history did not reach back.", st.Resets)
	counter("history_fetches_total", "Requests for older messages made to the broker.", st.HistoryFetches)
	gauge("broker_connected", "1 while the broker can deliver messages, else 0.", boolean(st.Broker.Connected))
	counter("broker_disconnects_total", "Times the broker lost its link.", st.Broker.Disconnects)
	counter("broker_reconnects_total", "Times the broker restored its link and subscriptions.", st.Broker.Reconnects)
	counter("broker_errors_total", "Asynchronous errors the broker met.", st.Broker.Errors)
	return bw.Flush()
}
