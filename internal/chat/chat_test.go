package chat_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/duplexws/websocket/internal/topicname"
)

func TestCheckRoom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		room string
		ok   bool
	}{
		{"lobby", true},
		{"Room-42_b", true},
		{strings.Repeat("r", 64), true},
		{"", false},
		{strings.Repeat("r", 65), false},
		{"a.b", false},
		{"a b", false},
		{"*", false},
		{"caf\u00e9", false},
		{"../x", false},
	} {
		err := chat.CheckRoom(tc.room)
		if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, chat.ErrBadRoom) {
			t.Errorf("CheckRoom(%q) = %v, want ok=%v", tc.room, err, tc.ok)
		}
	}
}

// startChat serves a chat handler over a fresh hub and returns its ws://
// URL prefix and the hub.
func startChat(t *testing.T) (string, *hub.Hub) {
	return startChatMode(t, false)
}

// startChatMode is startChat with the clients served by an
// EngineServer when engine is set.
func startChatMode(t *testing.T, engine bool) (string, *hub.Hub) {
	t.Helper()
	return startChatWith(t, engine, hub.Options{})
}

// startChatWith is startChatMode with a hub made with opts.
func startChatWith(t *testing.T, engine bool, opts hub.Options) (string, *hub.Hub) {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(&opts)
	t.Cleanup(func() { h.Close() })
	var handler http.Handler = chat.Handler(h, nil)
	if engine {
		es, err := chat.NewEngineServer(h, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { es.Close() })
		handler = es
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), h
}

// chatModes runs test with the clients served by a goroutine each and by
// an EngineServer.
func chatModes(t *testing.T, test func(t *testing.T, engine bool)) {
	for _, engine := range []bool{false, true} {
		name := "goroutine"
		if engine {
			name = "engine"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, engine)
		})
	}
}

func join(t *testing.T, ctx context.Context, base, room string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, base+"/chat?room="+room, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func waitSubscribers(t *testing.T, h *hub.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Stats().Subscribers != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d subscribers, want %d", h.Stats().Subscribers, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRoomBroadcastIncludesSenderAndStaysInRoom(t *testing.T) {
	t.Parallel()
	chatModes(t, testRoomBroadcast)
}

func testRoomBroadcast(t *testing.T, engine bool) {
	base, h := startChatMode(t, engine)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ann, bob, eve := join(t, ctx, base, "lobby"), join(t, ctx, base, "lobby"), join(t, ctx, base, "other")
	waitSubscribers(t, h, 3)

	msg := `{"name":"ann","text":"hi","time":"2025-06-01T12:00:00.000Z"}`
	if err := ann.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*websocket.Conn{"sender": ann, "other member": bob} {
		typ, data, err := c.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(data) != msg {
			t.Errorf("%s got %v %q %v, want the message unchanged", name, typ, data, err)
		}
	}
	// The other room hears only its own messages.
	if err := eve.Write(ctx, websocket.MessageText, []byte("mine")); err != nil {
		t.Fatal(err)
	}
	if _, data, err := eve.Read(ctx); err != nil || string(data) != "mine" {
		t.Errorf("other room got %q %v, want only its own message", data, err)
	}
	if st := h.Stats(); st.Topics != 2 || st.Published != 2 {
		t.Errorf("Topics, Published = %d, %d; want 2, 2", st.Topics, st.Published)
	}
	ann.Close(websocket.StatusNormalClosure, "")
	waitSubscribers(t, h, 2)
}

func TestBadRoomIsRefused(t *testing.T) {
	t.Parallel()
	chatModes(t, testBadRoom)
}

func testBadRoom(t *testing.T, engine bool) {
	base, h := startChatMode(t, engine)
	httpBase := "http" + strings.TrimPrefix(base, "ws")
	for _, q := range []string{"", "?room=", "?room=a.b", "?room=" + strings.Repeat("x", 65)} {
		resp, err := http.Get(httpBase + "/chat" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /chat%s: status %d, want 400", q, resp.StatusCode)
		}
	}
	if st := h.Stats(); st.Subscribers != 0 {
		t.Errorf("refused requests left %d subscribers", st.Subscribers)
	}
}

func TestHubCloseSaysGoingAway(t *testing.T) {
	t.Parallel()
	base, h := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := join(t, ctx, base, "lobby")
	waitSubscribers(t, h, 1)
	h.Close()
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("after the hub closed, Read = %v (status %d), want close 1001", err, got)
	}
}

func FuzzCheckRoom(f *testing.F) {
	for _, s := range []string{"lobby", "a.b", "", "x y", "../etc", "caf\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, room string) {
		if chat.CheckRoom(room) != nil {
			return
		}
		// An accepted room must make a valid hub topic of a single token
		// after the prefix.
		topic := chat.TopicPrefix + room
		if err := topicname.Check(topic); err != nil {
			t.Fatalf("room %q accepted, but its topic is invalid: %v", room, err)
		}
		if strings.Count(topic, ".") != 1 {
			t.Fatalf("room %q adds tokens to the topic %q", room, topic)
		}
	})
}
