package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/duplexws/websocket"
)

// expectMessage reads one message from c and checks it is the text want.
func expectMessage(t *testing.T, c *websocket.Conn, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, p, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageText || string(p) != want {
		t.Fatalf("got %v %q %v, want text %q", typ, p, err, want)
	}
}

func TestServeChatRoomsAndPage(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	ann := dial(t, s.ws("/chat?room=lobby"), nil)
	bob := dial(t, s.ws("/chat?room=lobby"), nil)
	other := dial(t, s.ws("/chat?room=elsewhere"), nil)
	expectMetrics(t, s.url+"/metrics", "\nduplex_hub_subscribers 3\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := `{"name":"ann","text":"hi all"}`
	if err := ann.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, ann, msg)
	expectMessage(t, bob, msg)
	if err := other.Write(ctx, websocket.MessageText, []byte("other room")); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, other, "other room") // and not the lobby's message first

	resp, err := http.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Fatalf("GET /: %s, %.200q", resp.Status, page)
	}

	expectMetrics(t, s.url+"/metrics", "\nduplex_hub_subscribers 3\n",
		"\nduplex_hub_messages_published_total 2\n", "\nduplex_connections_open 3\n")
}

func TestServeChatAcrossServersThroughNATS(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS server did not start")
	}
	a := startServer(t, "serve", "--addr", "127.0.0.1:0", "--broker", ns.ClientURL())
	b := startServer(t, "serve", "--addr", "127.0.0.1:0", "--broker", ns.ClientURL())
	onA := dial(t, a.ws("/chat?room=shared"), nil)
	onB := dial(t, b.ws("/chat?room=shared"), nil)
	// Both hubs have subscribed their client, and NATS knows of both
	// servers' subscriptions to the room.
	expectMetrics(t, a.url+"/metrics", "\nduplex_hub_subscribers 1\n")
	expectMetrics(t, b.url+"/metrics", "\nduplex_hub_subscribers 1\n")
	if !eventually(func() bool { return ns.GlobalAccount().Interest("duplex.chat.shared") >= 2 }) {
		t.Fatalf("NATS has %d subscriptions to the room, want 2", ns.GlobalAccount().Interest("duplex.chat.shared"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := onB.Write(ctx, websocket.MessageText, []byte("from b")); err != nil {
		t.Fatal(err)
	}
	expectMessage(t, onA, "from b")
	expectMessage(t, onB, "from b")
}

func TestServeShutdownClosesChatClients(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	c := dial(t, s.ws("/chat?room=lobby"), nil)
	e := dial(t, s.ws("/echo"), nil)
	errs := make(chan error, 2)
	for _, conn := range []*websocket.Conn{c, e} {
		go func() {
			_, _, err := conn.Read(context.Background())
			errs <- err
		}()
	}
	// The chat client is subscribed, so the hub's closing is what ends it.
	expectMetrics(t, s.url+"/metrics", "\nduplex_hub_subscribers 1\n", "\nduplex_connections_open 2\n")
	if code := s.stop(t, syscall.SIGINT, 10*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGINT", code)
	}
	for range 2 {
		if err := <-errs; websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("a client saw %v, want close 1001", err)
		}
	}
}

func TestServeBadBroker(t *testing.T) {
	r := runDuplex(t, "", "serve", "--addr", "127.0.0.1:0", "--broker", "http://x")
	if r.code != 2 || !strings.Contains(r.stderr, "--broker") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = runDuplex(t, "", "serve", "--addr", "127.0.0.1:0", "--broker", "nats://127.0.0.1:1")
	if r.code != 1 || strings.Count(r.stderr, "\n") > 2 {
		t.Fatalf("unreachable broker: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServeChatRefusedJoinLogged checks that a join without a valid room is
// answered 400 with the reason, and logged as refused with it rather than as
// a connection to the room "".
func TestServeChatRefusedJoinLogged(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	for _, q := range []string{"", "?room=a.b"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, resp, err := websocket.Dial(ctx, s.ws("/chat"+q), nil)
		cancel()
		if err == nil {
			c.CloseNow()
			t.Fatalf("/chat%s: joined", q)
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("/chat%s: %v, want 400", q, resp)
		}
	}
	if !eventually(func() bool { return strings.Count(s.logs(), "chat join refused") == 2 }) {
		t.Fatalf("refused joins not logged:\n%s", s.logs())
	}
	logs := s.logs()
	for _, want := range []string{"no room", `bad room name \"a.b\"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "chat connection") || strings.Contains(logs, `room=""`) {
		t.Errorf("a refused join was logged as a connection:\n%s", logs)
	}
}
