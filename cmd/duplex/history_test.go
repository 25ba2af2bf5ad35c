package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/internal/chat"
)

// chatV2 is a message of the duplex.chat.v2 subprotocol.
type chatV2 struct {
	Pos   string  `json:"pos"`
	Text  *string `json:"text"`
	Reset bool    `json:"reset"`
}

func readV2(t *testing.T, c *websocket.Conn) chatV2 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m chatV2
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("got %q: %v", data, err)
	}
	return m
}

var v2Opts = &websocket.DialOptions{Subprotocols: []string{chat.Subprotocol}}

// testResumeRoom has a v2 client of a hear 3 messages and leave, 5 more be
// sent through b, and the client come back to b with its position.
func testResumeRoom(t *testing.T, a, b *server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v2 := dial(t, a.ws("/chat?room=lobby"), v2Opts)
	sender := dial(t, b.ws("/chat?room=lobby"), nil)
	if a == b {
		expectMetrics(t, a.url+"/metrics", "\nduplex_hub_subscriptions 2\n")
	} else {
		expectMetrics(t, a.url+"/metrics", "\nduplex_hub_subscriptions 1\n")
		expectMetrics(t, b.url+"/metrics", "\nduplex_hub_subscriptions 1\n")
	}
	send := func(i int) {
		if err := sender.Write(ctx, websocket.MessageText, []byte("m"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		expectMessage(t, sender, "m"+strconv.Itoa(i))
	}
	var last string
	for i := range 3 {
		send(i)
		m := readV2(t, v2)
		if m.Text == nil || *m.Text != "m"+strconv.Itoa(i) || m.Pos == "" {
			t.Fatalf("message %d = %+v", i, m)
		}
		last = m.Pos
	}
	v2.CloseNow()
	for i := 3; i < 8; i++ {
		send(i)
	}
	v2 = dial(t, b.ws("/chat?room=lobby&since="+last), v2Opts)
	for i := 3; i < 8; i++ {
		if m := readV2(t, v2); m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("recovered message %d = %+v", i, m)
		}
	}
	epoch, _, _ := strings.Cut(last, ":")
	reset := dial(t, b.ws("/chat?room=lobby&since=x"+epoch+":1"), v2Opts)
	if m := readV2(t, reset); !m.Reset || m.Pos == "" {
		t.Fatalf("first message from another epoch = %+v, want a reset", m)
	}
}

func TestServeChatHistory(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0", "--history", "100", "--history-age", "1h")
	testResumeRoom(t, s, s)
	expectMetrics(t, s.url+"/metrics", "\nduplex_hub_history_messages 8\n", "\nduplex_hub_history_recovered_total 5\n")
}

func TestServeChatHistoryThroughJetStream(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	a := startServer(t, "serve", "--addr", "127.0.0.1:0", "--broker", ns.ClientURL(), "--history", "100")
	b := startServer(t, "serve", "--addr", "127.0.0.1:0", "--broker", ns.ClientURL(), "--history", "100")
	testResumeRoom(t, a, b)
}

func TestServeHistoryNeedsJetStream(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	r := runDuplex(t, "", "serve", "--addr", "127.0.0.1:0", "--broker", ns.ClientURL(), "--history", "10")
	if r.code != 1 || !strings.Contains(r.stderr, "JetStream") || strings.Count(r.stderr, "\n") > 2 {
		t.Fatalf("--history on a NATS server without JetStream: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runDuplex(t, "", "serve", "--addr", "127.0.0.1:0", "--history", "-1")
	if r.code != 2 || !strings.Contains(r.stderr, "--history") {
		t.Fatalf("--history -1: exit %d, stderr %q", r.code, r.stderr)
	}
}
