package natsbroker_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/duplexws/websocket/web"
	"github.com/nats-io/nats.go"
)

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// duplexServer is one Duplex HTTP server, with the chat page at / and its
// rooms at /chat, whose hub shares topics through a NATS broker.
type duplexServer struct {
	hub    *hub.Hub
	broker *natsbroker.Broker
	url    string // ws:// base URL
	page   string // http:// base URL
	log    *syncBuffer
}

// startServer starts a Duplex server on 127.0.0.1 whose hub's broker
// connects to natsURL, trying the servers in the order given.
func startServer(t testing.TB, natsURL string) *duplexServer {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbroker.Connect(ctx, natsURL, &natsbroker.Options{
		Logger:        logger,
		ReconnectWait: 100 * time.Millisecond,
		NATS:          []nats.Option{nats.DontRandomize()},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(&hub.Options{Broker: b, Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
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

// joinRoom connects a WebSocket client to the room on s and waits until
// s's hub has subscribed it.
func joinRoom(t testing.TB, ctx context.Context, s *duplexServer, room string) *websocket.Conn {
	t.Helper()
	before := s.hub.Stats().Subscribers
	c, _, err := websocket.Dial(ctx, s.url+"/chat?room="+room, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	for s.hub.Stats().Subscribers <= before {
		if ctx.Err() != nil {
			t.Fatal("the server did not subscribe the client")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return c
}

// awaitRoute sends probes from one client until another, on another server,
// receives one: the subscription has then spread through the cluster. The
// probes the sender itself receives are skipped by the reader later.
func awaitRoute(t testing.TB, ctx context.Context, from, to *websocket.Conn) {
	t.Helper()
	got := make(chan error, 1)
	go func() {
		for {
			_, data, err := to.Read(ctx)
			if err != nil {
				got <- err
				return
			}
			if strings.HasPrefix(string(data), "probe") {
				got <- nil
				return
			}
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := from.Write(ctx, websocket.MessageText, []byte("probe")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-tick.C:
		}
	}
}

func TestMessagesCrossServersAndSurviveNodesStopping(t *testing.T) {
	cl := startCluster(t, 3)
	// Server A talks to node 0 only; server B prefers node 1 and fails over
	// to the others.
	a := startServer(t, cl.urls(0))
	b := startServer(t, cl.urls(1, 0, 2))
	if got, want := b.broker.ConnectedURL(), cl.nodes[1].ClientURL(); got != want {
		t.Fatalf("server B is connected to %s, want node 1 at %s", got, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sender := joinRoom(t, ctx, a, "lobby")
	receiver := joinRoom(t, ctx, b, "lobby")
	awaitRoute(t, ctx, sender, receiver)

	// Binary messages cross too, with their type.
	if err := receiver.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	for {
		typ, data, err := sender.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageBinary {
			if !bytes.Equal(data, []byte{0, 1, 2}) {
				t.Fatalf("binary message arrived as %q", data)
			}
			break
		}
	}
	// The sender's own messages keep coming back to it; drain them.
	go func() {
		for {
			if _, _, err := sender.Read(ctx); err != nil {
				return
			}
		}
	}()

	// Stream numbered messages from A. Once 50 have arrived on B, stop the
	// node B is connected to; 50 more, and stop the node A is connected to;
	// then expect 50 more still, every one in order.
	stopSending := make(chan struct{})
	sendDone := make(chan error, 1)
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopSending:
				sendDone <- nil
				return
			case <-tick.C:
			}
			if err := sender.Write(ctx, websocket.MessageText, []byte("seq:"+strconv.Itoa(i))); err != nil {
				sendDone <- err
				return
			}
		}
	}()
	stops := []struct {
		whose  string
		broker *natsbroker.Broker
	}{{"B", b.broker}, {"A", a.broker}}
	const perStage = 50
	last, received, stage := -1, 0, 0
	stageStart := time.Now()
	for stage <= len(stops) {
		_, data, err := receiver.Read(ctx)
		if err != nil {
			t.Fatalf("receiver after %d messages, in stage %d: %v", received, stage, err)
		}
		seq, ok := strings.CutPrefix(string(data), "seq:")
		if !ok {
			continue // a late probe
		}
		n, _ := strconv.Atoi(seq)
		if n <= last {
			t.Fatalf("message %d arrived after %d: out of order or repeated", n, last)
		}
		last = n
		received++
		if received%perStage != 0 {
			continue
		}
		if stage > 0 {
			t.Logf("%d messages arrived within %v of the stop, B now on %s", perStage, time.Since(stageStart).Round(time.Millisecond), b.broker.ConnectedURL())
		}
		if stage < len(stops) {
			node := cl.nodeOf(t, stops[stage].broker.ConnectedURL())
			t.Logf("stopping node %d, which server %s is connected to, after message %d", node, stops[stage].whose, n)
			stageStart = time.Now()
			cl.nodes[node].Shutdown()
		}
		stage++
	}
	close(stopSending)
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages on B, the last numbered %d", received, last)

	for _, s := range []struct {
		name string
		srv  *duplexServer
		min  uint64
	}{{"A", a, 1}, {"B", b, 2}} {
		st := s.srv.hub.Stats().Broker
		if st.Name != "nats" || !st.Connected || st.Disconnects < s.min || st.Reconnects < s.min {
			t.Errorf("server %s broker stats = %+v, want connected with at least %d disconnects and reconnects", s.name, st, s.min)
		}
		for _, want := range []string{"lost the NATS connection", "reconnected; subscriptions restored"} {
			if !strings.Contains(s.srv.log.String(), want) {
				t.Errorf("server %s's log lacks %q:\n%s", s.name, want, s.srv.log)
			}
		}
	}
	var metrics strings.Builder
	b.hub.WriteMetrics(&metrics)
	if !regexp.MustCompile(`\nduplex_hub_broker_reconnects_total\{broker="nats"\} [1-9]`).MatchString(metrics.String()) {
		t.Errorf("metrics do not count the reconnections:\n%s", metrics.String())
	}
}

func TestConnectRejects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := natsbroker.Connect(ctx, "nats://127.0.0.1:1", nil); err == nil {
		t.Error("Connect to a port with no server succeeded")
	}
	cl := startCluster(t, 1)
	if _, err := natsbroker.Connect(ctx, cl.urls(0), &natsbroker.Options{Prefix: "bad prefix"}); err == nil {
		t.Error("Connect with a bad prefix succeeded")
	}
	done, stop := context.WithCancel(ctx)
	stop()
	if _, err := natsbroker.Connect(done, cl.urls(0), nil); err == nil {
		t.Error("Connect with a canceled context succeeded")
	}
}

func TestPrefixesSeparateHubs(t *testing.T) {
	cl := startCluster(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	var hubs [3]*hub.Hub
	for i, prefix := range []string{"app1", "app1", "app2"} {
		b, err := natsbroker.Connect(ctx, cl.urls(0), &natsbroker.Options{Prefix: prefix, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		hubs[i] = hub.New(&hub.Options{Broker: b, Logger: quiet})
		defer hubs[i].Close()
	}
	conns := make([]*recorder, 3)
	for i, h := range hubs {
		conns[i] = newRecorder()
		if _, err := h.Subscribe(ctx, conns[i], "news"); err != nil {
			t.Fatal(err)
		}
	}
	if err := hubs[0].Publish(ctx, "news", hub.Message{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	conns[0].wait(t, 1)
	conns[1].wait(t, 1)
	// A round trip through the third hub's connection shows that nothing
	// for it was in flight.
	if err := hubs[2].Publish(ctx, "news", hub.Message{Data: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	conns[2].wait(t, 1)
	if n := conns[2].count(); n != 1 {
		t.Errorf("a hub with another prefix got %d messages, want only its own", n)
	}
	if n := hubs[1].Stats().Received; n != 1 {
		t.Errorf("the hub sharing the prefix received %d messages, want 1", n)
	}
}

// recorder is a hub.Conn that counts the messages written to it.
type recorder struct {
	mu   sync.Mutex
	n    int
	grew chan struct{}
}

func newRecorder() *recorder { return &recorder{grew: make(chan struct{})} }

func (r *recorder) WritePrepared(context.Context, *websocket.PreparedMessage) error {
	r.mu.Lock()
	r.n++
	close(r.grew)
	r.grew = make(chan struct{})
	r.mu.Unlock()
	return nil
}

func (r *recorder) Close(websocket.StatusCode, string) error { return nil }

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) wait(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got, grew := r.n, r.grew
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("got %d messages, want %d", got, n)
		}
	}
}

func TestCloseLeavesNoGoroutineBehind(t *testing.T) {
	cl := startCluster(t, 1)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	b, err := natsbroker.Connect(ctx, cl.urls(0), &natsbroker.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(&hub.Options{Broker: b, Logger: quiet})
	r := newRecorder()
	for _, topic := range []string{"a", "b", "c"} {
		if _, err := h.Subscribe(ctx, r, topic); err != nil {
			t.Fatal(err)
		}
		if err := h.Publish(ctx, topic, hub.Message{Data: []byte(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	r.wait(t, 3)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if b.BrokerStats().Connected {
		t.Error("the broker is still connected after the hub's Close")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before the broker; goroutines:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
