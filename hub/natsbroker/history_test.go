package natsbroker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startHistoryServer starts a Duplex server whose hub keeps the history of
// the chat rooms in JetStream through natsURL, with an in-memory cache of
// cacheLen messages per room. It waits (up to 30s) for the cluster's
// JetStream to answer.
func startHistoryServer(t testing.TB, natsURL string, cacheLen int, hist natsbroker.HistoryOptions) *duplexServer {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	var b *natsbroker.Broker
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		b, err = natsbroker.Connect(ctx, natsURL, &natsbroker.Options{
			Logger:        logger,
			ReconnectWait: 100 * time.Millisecond,
			History:       &hist,
			NATS:          []nats.Option{nats.DontRandomize()},
		})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connecting with history: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // JetStream electing its leaders
	}
	h := hub.New(&hub.Options{Broker: b, Logger: logger, History: hub.HistoryOptions{Length: cacheLen}})
	mux := http.NewServeMux()
	mux.Handle("/chat", chat.Handler(h, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
		if t.Failed() {
			t.Logf("log of the server at %s:\n%s", srv.URL, logs)
		}
	})
	return &duplexServer{hub: h, broker: b, url: "ws" + strings.TrimPrefix(srv.URL, "http"), page: srv.URL, log: logs}
}

// v2Client is a duplex.chat.v2 client of one room.
type v2Client struct {
	t *testing.T
	c *websocket.Conn
}

func dialV2(t *testing.T, ctx context.Context, s *duplexServer, room, since string) *v2Client {
	t.Helper()
	c, _, err := websocket.Dial(ctx, s.url+"/chat?room="+room+"&since="+since, &websocket.DialOptions{Subprotocols: []string{chat.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &v2Client{t: t, c: c}
}

// v2Msg is a message of the duplex.chat.v2 subprotocol.
type v2Msg struct {
	Pos   string  `json:"pos"`
	Text  *string `json:"text"`
	Reset bool    `json:"reset"`
}

func (v *v2Client) read(ctx context.Context) v2Msg {
	v.t.Helper()
	_, data, err := v.c.Read(ctx)
	if err != nil {
		v.t.Fatalf("reading: %v", err)
	}
	var m v2Msg
	if err := json.Unmarshal(data, &m); err != nil {
		v.t.Fatalf("got %q: %v", data, err)
	}
	return m
}

// publish publishes texts through s's hub, failing t on an error.
func publish(t *testing.T, s *duplexServer, room string, from, to int, during func(i int)) {
	t.Helper()
	for i := from; i < to; i++ {
		if during != nil {
			during(i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.hub.Publish(ctx, chat.TopicPrefix+room, hub.Message{Data: []byte("m" + strconv.Itoa(i))})
		cancel()
		if err != nil {
			t.Fatalf("publishing message %d: %v", i, err)
		}
	}
}

// TestResumeAcrossServersThroughJetStream is the proof of resumable rooms
// across servers: a client of server A leaves, 1,000 messages are
// published through server B while a NATS node is killed, and the client,
// back on server B with its last position, receives exactly those 1,000
// in order, then the live ones. B's cache holds 200 messages: the rest
// comes from the JetStream stream, replicated on the 3 nodes.
func TestResumeAcrossServersThroughJetStream(t *testing.T) {
	t.Parallel()
	testResumeAcrossServers(t, startClusterJS(t, 3, true))
}

// TestResumeAcrossServersThroughJetStream29 runs the same proof on a
// cluster of nats-server processes, the Debian package's 2.9.10 on the
// machines Duplex is tested on.
func TestResumeAcrossServersThroughJetStream29(t *testing.T) {
	t.Parallel()
	testResumeAcrossServers(t, startBinaryCluster(t, 3))
}

func testResumeAcrossServers(t *testing.T, c natsNodes) {
	hist := natsbroker.HistoryOptions{Replicas: 3, MaxMsgsPerTopic: 1100}
	a := startHistoryServer(t, c.urls(0, 1, 2), 200, hist)
	b := startHistoryServer(t, c.urls(1, 2, 0), 200, hist)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cl := dialV2(t, ctx, a, "lobby", "")
	waitHubSubscriptions(t, a.hub, 1)
	publish(t, b, "lobby", 0, 5, nil)
	// A client without a position starts live from where the room is
	// when it has joined: it may begin after m0.
	var first, last string
	for last == "" {
		m := cl.read(ctx)
		if m.Text == nil || m.Reset {
			t.Fatalf("live message on A = %+v", m)
		}
		if first == "" {
			first = m.Pos
		}
		if *m.Text == "m4" {
			last = m.Pos
		}
	}
	cl.c.Close(websocket.StatusGoingAway, "switching networks")

	// 1,000 through B; the node A is connected to dies after 300.
	publish(t, b, "lobby", 5, 1005, func(i int) {
		if i == 305 {
			c.kill(0)
		}
	})

	cl = dialV2(t, ctx, b, "lobby", last)
	prev := mustPos(t, last)
	for i := 5; i < 1005; i++ {
		m := cl.read(ctx)
		if m.Reset || m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("recovered message %d = %+v", i, m)
		}
		p := mustPos(t, m.Pos)
		if p.Epoch != prev.Epoch || p.Seq <= prev.Seq {
			t.Fatalf("recovered message %d at %s after %s", i, m.Pos, prev)
		}
		prev = p
	}
	publish(t, b, "lobby", 1005, 1010, nil)
	for i := 1005; i < 1010; i++ {
		if m := cl.read(ctx); m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("live message %d = %+v", i, m)
		}
	}
	if st := b.hub.Stats(); st.HistoryFetches == 0 || st.Recovered < 1000 {
		t.Errorf("B's Stats: HistoryFetches %d, Recovered %d; want the stream asked and 1,000 recovered", st.HistoryFetches, st.Recovered)
	}

	// The stream keeps 1,100 messages of the room: 100 more push the
	// first ones out, and their position gets the reset.
	publish(t, b, "lobby", 1010, 1110, nil)
	// Once the client on B has them all, B's live stream stands at the
	// last one: that is the position the reset gives.
	var lastPos string
	for i := 1010; i < 1110; i++ {
		m := cl.read(ctx)
		if m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("live message %d = %+v", i, m)
		}
		lastPos = m.Pos
	}
	old := dialV2(t, ctx, b, "lobby", first)
	if m := old.read(ctx); !m.Reset || m.Pos != lastPos {
		t.Fatalf("first message for a position the stream dropped = %+v, want a reset at %s", m, lastPos)
	}
	publish(t, b, "lobby", 1110, 1111, nil)
	if m := old.read(ctx); m.Text == nil || *m.Text != "m1110" {
		t.Fatalf("live message after the reset = %+v", m)
	}
}

func mustPos(t *testing.T, s string) hub.Position {
	t.Helper()
	p, err := hub.ParsePosition(s)
	if err != nil || p.IsZero() {
		t.Fatalf("position %q: %v", s, err)
	}
	return p
}

// waitHubSubscriptions waits until h has n subscriptions: the topics are
// then open at the broker.
func waitHubSubscriptions(t *testing.T, h *hub.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().Subscriptions < n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d subscriptions, want %d", h.Stats().Subscriptions, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConnectWithoutJetStream: History on a server without JetStream is
// refused with ErrNoJetStream.
func TestConnectWithoutJetStream(t *testing.T) {
	t.Parallel()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = natsbroker.Connect(ctx, s.ClientURL(), &natsbroker.Options{History: &natsbroker.HistoryOptions{}, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, natsbroker.ErrNoJetStream) || !strings.Contains(err.Error(), "-js") {
		t.Errorf("Connect with History to a server without JetStream = %v, want ErrNoJetStream", err)
	}
}
