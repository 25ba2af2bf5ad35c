// Package natsbroker is a hub.Broker that carries the hub's topics over a
// NATS cluster, so that a message published on one Duplex server reaches
// the subscribers of every server connected to the cluster.
//
// Each topic is a NATS subject under a prefix ("duplex.chat.lobby" for the
// topic "chat.lobby"); text messages travel as plain NATS messages, binary
// ones with the header Duplex-Message-Type: binary. Delivery is NATS core's:
// at most once, in order per publisher.
//
// When the connection to the NATS server is lost, the broker keeps trying
// the servers of the cluster (those given to Connect and those the cluster
// announces) for as long as it is open, and restores the hub's
// subscriptions on reconnection. It logs the loss and the recovery, and
// counts both in hub.BrokerStats. Messages published while disconnected are
// buffered by the NATS client (8 MiB by default) and sent on reconnection;
// messages published elsewhere during the outage are not delivered.
//
// # History on JetStream
//
// With Options.History, the broker is a hub.HistoryBroker: every message
// is stored in a JetStream stream (created if missing, with the replicas,
// age and per-topic limits of HistoryOptions; Connect fails with
// ErrNoJetStream if the server has none) before Publish returns, and its
// stream sequence is its position. A hub with history (hub.Options.History)
// then follows each subscribed topic with an ordered consumer, which
// resumes where it was after the loss of a NATS server, keeps the topic's
// recent messages in a bounded cache, and serves a Subscriber.Resume from
// that cache, asking the stream (with a consumer that lives for the
// request) only for what is older, one request at a time per topic. A
// client therefore resumes on any server of the cluster, and with 3
// replicas the history survives the loss of a NATS server. The stream's
// creation time is the positions' epoch: a recreated stream resets the
// clients. It works with NATS servers from 2.9 on.
package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/internal/topicname"
	"github.com/nats-io/nats.go"
)

// TypeHeader is the NATS header that marks a binary message; text messages
// go without headers.
const TypeHeader = "Duplex-Message-Type"

// Defaults of Options.
const (
	DefaultPrefix        = "duplex"
	DefaultName          = "duplex"
	DefaultReconnectWait = 500 * time.Millisecond
)

// Options configures Connect. The zero value (or a nil *Options) is a
// usable configuration.
type Options struct {
	// Prefix is the first tokens of every subject: the topic "t" is the
	// subject Prefix+".t". Hubs exchange messages only when their prefixes
	// are equal. "" means DefaultPrefix ("duplex").
	Prefix string

	// Name is the connection's name in the NATS server's monitoring. ""
	// means DefaultName ("duplex").
	Name string

	// ReconnectWait is how long the broker waits before trying a server
	// again after failing to reconnect to it. 0 means DefaultReconnectWait
	// (500ms).
	ReconnectWait time.Duration

	// Logger receives the broker's connection events. nil means
	// slog.Default().
	Logger *slog.Logger

	// History keeps the topics' messages in a JetStream stream (see
	// HistoryOptions), so that a hub with history resumes subscribers on
	// any server of the cluster. nil means NATS core only: a hub with
	// history then keeps it in its own memory.
	History *HistoryOptions

	// NATS holds further options for the NATS client (TLS, credentials,
	// nats.DontRandomize, …), applied after the broker's own. An option
	// that sets the disconnect, reconnect, closed or error handler replaces
	// the broker's, which feed its log and BrokerStats.
	NATS []nats.Option
}

// Broker is a hub.Broker over a NATS connection. Give it to one hub in
// hub.Options.Broker; the hub closes it.
type Broker struct {
	nc     *nats.Conn
	prefix string
	log    *slog.Logger

	// js, stream and epoch are set when the history is on.
	js     nats.JetStreamContext
	stream string
	epoch  string

	mu   sync.Mutex
	subs map[string]*nats.Subscription

	disconnects atomic.Uint64
	reconnects  atomic.Uint64
	errors      atomic.Uint64
	downSince   atomic.Int64 // unix nanoseconds of the last disconnect
}

// Connect connects to the NATS servers at url (one URL or a comma-separated
// list, as nats.Connect takes them). ctx bounds the connection attempt.
func Connect(ctx context.Context, url string, opts *Options) (*Broker, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := topicname.Check(o.Prefix); err != nil {
		return nil, fmt.Errorf("natsbroker: prefix: %w", err)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.ReconnectWait == 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &Broker{prefix: o.Prefix + ".", log: o.Logger, subs: make(map[string]*nats.Subscription)}
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.DisconnectErrHandler(b.disconnected),
		nats.ReconnectHandler(b.reconnected),
		nats.ClosedHandler(b.closed),
		nats.ErrorHandler(b.asyncError),
	}
	if deadline, ok := ctx.Deadline(); ok {
		nopts = append(nopts, nats.Timeout(time.Until(deadline)))
	}
	nc, err := nats.Connect(url, append(nopts, o.NATS...)...)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connecting to %s: %w", url, err)
	}
	b.nc = nc
	if o.History != nil {
		if err := b.setUpHistory(ctx, *o.History); err != nil {
			nc.Close()
			return nil, err
		}
	}
	b.log.Info("natsbroker: connected", "server", nc.ConnectedUrlRedacted(), "cluster", nc.ConnectedClusterName())
	return b, nil
}

// Publish sends m to the topic's subject. It returns once the NATS client
// has buffered the message or, with History, once the stream has stored
// it.
func (b *Broker) Publish(ctx context.Context, topic string, m hub.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := &nats.Msg{Subject: b.prefix + topic, Data: m.Data}
	if m.Type == websocket.MessageBinary {
		msg.Header = nats.Header{TypeHeader: []string{"binary"}}
	}
	if b.js != nil {
		return b.store(ctx, topic, msg)
	}
	if err := b.nc.PublishMsg(msg); err != nil {
		return fmt.Errorf("natsbroker: publish to %s: %w", topic, err)
	}
	return nil
}

// Subscribe subscribes to the topic's subject. When connected, it returns
// after the NATS server has registered the subscription, or when ctx ends;
// while reconnecting, the subscription is registered on reconnection.
func (b *Broker) Subscribe(ctx context.Context, topic string, deliver func(hub.Message)) error {
	sub, err := b.nc.Subscribe(b.prefix+topic, func(msg *nats.Msg) { deliver(message(msg)) })
	if err != nil {
		return fmt.Errorf("natsbroker: subscribe to %s: %w", topic, err)
	}
	b.mu.Lock()
	if old := b.subs[topic]; old != nil {
		old.Unsubscribe()
	}
	b.subs[topic] = sub
	b.mu.Unlock()
	if b.nc.IsConnected() {
		if err := b.nc.FlushWithContext(ctx); err != nil && ctx.Err() != nil {
			b.Unsubscribe(context.Background(), topic)
			return err
		}
	}
	return nil
}

// Unsubscribe ends the topic's subscription.
func (b *Broker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	sub := b.subs[topic]
	delete(b.subs, topic)
	b.mu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("natsbroker: unsubscribe from %s: %w", topic, err)
	}
	return nil
}

// closeFlushTimeout bounds how long Close waits for buffered messages to
// reach the server.
const closeFlushTimeout = 2 * time.Second

// Close sends what is buffered (waiting up to 2s) and closes the NATS
// connection.
func (b *Broker) Close() error {
	var err error
	if b.nc.IsConnected() {
		err = b.nc.FlushTimeout(closeFlushTimeout)
	}
	b.nc.Close()
	if err != nil {
		return fmt.Errorf("natsbroker: flushing before close: %w", err)
	}
	return nil
}

// BrokerStats reports the NATS link: whether it is up, and how often it was
// lost and restored.
func (b *Broker) BrokerStats() hub.BrokerStats {
	return hub.BrokerStats{
		Name:        "nats",
		Connected:   b.nc.IsConnected(),
		Disconnects: b.disconnects.Load(),
		Reconnects:  b.reconnects.Load(),
		Errors:      b.errors.Load(),
	}
}

// ConnectedURL returns the URL of the NATS server the broker is connected
// to, without credentials, or "" while it is disconnected.
func (b *Broker) ConnectedURL() string {
	return b.nc.ConnectedUrlRedacted()
}

func (b *Broker) disconnected(nc *nats.Conn, err error) {
	if nc.IsClosed() {
		return // Close, not a loss
	}
	b.disconnects.Add(1)
	b.downSince.Store(time.Now().UnixNano())
	b.log.Warn("natsbroker: lost the NATS connection; reconnecting", "err", err, "subscriptions", b.subscriptions())
}

func (b *Broker) reconnected(nc *nats.Conn) {
	b.reconnects.Add(1)
	down := time.Duration(time.Now().UnixNano() - b.downSince.Load()).Round(time.Millisecond)
	b.log.Info("natsbroker: reconnected; subscriptions restored", "server", nc.ConnectedUrlRedacted(), "subscriptions", b.subscriptions(), "down", down)
}

func (b *Broker) closed(nc *nats.Conn) {
	if err := nc.LastError(); err != nil {
		b.log.Warn("natsbroker: NATS connection closed", "err", err)
	}
}

func (b *Broker) asyncError(nc *nats.Conn, sub *nats.Subscription, err error) {
	b.errors.Add(1)
	subject := ""
	if sub != nil {
		subject = sub.Subject
	}
	b.log.Warn("natsbroker: NATS error", "subject", strings.TrimPrefix(subject, b.prefix), "err", err)
}

// subscriptions returns the number of topics subscribed to.
func (b *Broker) subscriptions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
