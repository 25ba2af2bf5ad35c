package chat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/internal/chat"
)

// v2Msg is a message of the duplex.chat.v2 subprotocol.
type v2Msg struct {
	Pos    string  `json:"pos"`
	Text   *string `json:"text"`
	Binary []byte  `json:"binary"`
	Reset  bool    `json:"reset"`
}

func joinV2(t *testing.T, ctx context.Context, base, room, since string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, base+"/chat?room="+room+"&since="+since, &websocket.DialOptions{Subprotocols: []string{chat.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if c.Subprotocol() != chat.Subprotocol {
		t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), chat.Subprotocol)
	}
	return c
}

func readV2(t *testing.T, ctx context.Context, c *websocket.Conn) v2Msg {
	t.Helper()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m v2Msg
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
		t.Fatalf("got %v %q, want a JSON text message", typ, data)
	}
	return m
}

func TestV2ResumesRoom(t *testing.T) {
	t.Parallel()
	chatModes(t, testV2Resumes)
}

func testV2Resumes(t *testing.T, engine bool) {
	base, h := startChatWith(t, engine, hub.Options{History: hub.HistoryOptions{Length: 100}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ann := joinV2(t, ctx, base, "lobby", "")
	plain := join(t, ctx, base, "lobby")
	waitSubscribers(t, h, 2)
	for i := range 3 {
		plain.Write(ctx, websocket.MessageText, []byte("m"+strconv.Itoa(i)))
	}
	plain.Write(ctx, websocket.MessageBinary, []byte{1, 2})
	var last string
	for i := range 3 {
		m := readV2(t, ctx, ann)
		if m.Text == nil || *m.Text != "m"+strconv.Itoa(i) || m.Pos == "" {
			t.Fatalf("v2 message %d = %+v", i, m)
		}
		last = m.Pos
	}
	if m := readV2(t, ctx, ann); string(m.Binary) != "\x01\x02" {
		t.Fatalf("v2 binary message = %+v", m)
	}
	// A client without the subprotocol gets the messages as sent.
	if _, data, err := plain.Read(ctx); err != nil || string(data) != "m0" {
		t.Fatalf("plain client got %q, %v", data, err)
	}
	ann.CloseNow()
	waitSubscribers(t, h, 1)
	for i := 3; i < 8; i++ {
		plain.Write(ctx, websocket.MessageText, []byte("m"+strconv.Itoa(i)))
	}
	waitUntilPublished(t, h, 9)
	ann = joinV2(t, ctx, base, "lobby", last)
	if m := readV2(t, ctx, ann); string(m.Binary) != "\x01\x02" {
		t.Fatalf("first recovered message = %+v, want the binary one", m)
	}
	for i := 3; i < 8; i++ {
		if m := readV2(t, ctx, ann); m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("recovered message %d = %+v", i, m)
		}
	}
	// Another epoch: the reset, with the position to go on from.
	epoch, _, _ := strings.Cut(last, ":")
	other := joinV2(t, ctx, base, "lobby", "x"+epoch+":3")
	if m := readV2(t, ctx, other); !m.Reset || m.Pos != epoch+":9" {
		t.Fatalf("first message from another epoch = %+v, want a reset at %s:9", m, epoch)
	}
	// A malformed since is refused.
	resp, err := http.Get("http" + strings.TrimPrefix(base, "ws") + "/chat?room=lobby&since=nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("since=nope: status %d, want 400", resp.StatusCode)
	}
}

func waitUntilPublished(t *testing.T, h *hub.Hub, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Stats().Published < n {
		if time.Now().After(deadline) {
			t.Fatalf("hub published %d messages, want %d", h.Stats().Published, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
