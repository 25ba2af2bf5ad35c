package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket"
	"github.com/duplexws/websocket/hub"
)

// serveResume starts an HTTP server whose /resume?topic=T&since=P
// subscribes each WebSocket as a positioned subscriber resuming T from P.
func serveResume(t testing.TB, h *hub.Hub) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		since, err := hub.ParsePosition(r.URL.Query().Get("since"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		sub, err := h.SubscribeWith(r.Context(), c, &hub.SubscribeOptions{Positions: true})
		if err != nil {
			return
		}
		defer sub.Close()
		if _, err := sub.Resume(r.Context(), r.URL.Query().Get("topic"), since); err != nil {
			c.Close(websocket.StatusInternalError, err.Error())
			return
		}
		c.Read(r.Context()) // until the client goes
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
}

// envelopeMsg is a message a positioned subscriber receives.
type envelopeMsg struct {
	Pos    string  `json:"pos"`
	Text   *string `json:"text"`
	Binary []byte  `json:"binary"`
	Reset  bool    `json:"reset"`
}

// resumeClient connects to url for topic from since and returns a
// function reading the next envelope.
func resumeClient(t *testing.T, url, topic string, since hub.Position) func() envelopeMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, url+"?topic="+topic+"&since="+since.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return func() envelopeMsg {
		t.Helper()
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("reading an envelope: %v", err)
		}
		var m envelopeMsg
		if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
			t.Fatalf("got %v %q, want a JSON text message", typ, data)
		}
		return m
	}
}

func publishN(t *testing.T, h *hub.Hub, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := h.Publish(context.Background(), topic, text("m"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResumeOverWebSocket(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{History: hub.HistoryOptions{Length: 50}})
	url := serveResume(t, h)

	// A first visit, live only: it learns the positions of 10 messages.
	read := resumeClient(t, url, "room", hub.Position{})
	waitUntil(t, func() bool { return h.Stats().Subscribers == 1 }, "the subscriber")
	publishN(t, h, "room", 0, 10)
	var last hub.Position
	for i := range 10 {
		m := read()
		if m.Text == nil || *m.Text != "m"+strconv.Itoa(i) || m.Reset {
			t.Fatalf("message %d = %+v", i, m)
		}
		p, err := hub.ParsePosition(m.Pos)
		if err != nil || (i > 0 && p.Seq != last.Seq+1) {
			t.Fatalf("message %d at %q after %v (%v)", i, m.Pos, last, err)
		}
		last = p
	}

	// Away: 30 more. Back with the last position: exactly those 30, then
	// live ones.
	publishN(t, h, "room", 10, 40)
	read = resumeClient(t, url, "room", last)
	for i := 10; i < 40; i++ {
		if m := read(); m.Text == nil || *m.Text != "m"+strconv.Itoa(i) {
			t.Fatalf("recovered message %d = %+v", i, m)
		}
	}
	h.Publish(context.Background(), "room", hub.Message{Type: websocket.MessageBinary, Data: []byte{0, 1, 2}})
	if m := read(); string(m.Binary) != "\x00\x01\x02" || m.Pos != last.Epoch+":41" {
		t.Fatalf("live binary message = %+v", m)
	}

	// Too old: the history holds 50 messages, 41 are published; 30 more
	// push the message at 5 out. The reset comes first, then live.
	publishN(t, h, "room", 41, 71)
	// The reset is queued as the subscriber joins the live stream, so a
	// message published once it is read reaches the subscriber.
	for i, since := range []hub.Position{{Epoch: last.Epoch, Seq: 5}, {Epoch: "other", Seq: 5}, {Epoch: last.Epoch, Seq: 1000}} {
		read = resumeClient(t, url, "room", since)
		want := last.Epoch + ":" + strconv.Itoa(71+i)
		if m := read(); !m.Reset || m.Pos != want {
			t.Fatalf("from %v: first message = %+v, want a reset at %s", since, m, want)
		}
		h.Publish(context.Background(), "room", text("after reset"))
		if m := read(); m.Text == nil || *m.Text != "after reset" {
			t.Fatalf("from %v: message after the reset = %+v", since, m)
		}
	}
	// The message at 30 is still held (the oldest is at 25 now): no reset.
	read = resumeClient(t, url, "room", hub.Position{Epoch: last.Epoch, Seq: 30})
	if m := read(); m.Reset || m.Pos != last.Epoch+":31" {
		t.Fatalf("from 30: first message = %+v", m)
	}
	st := h.Stats()
	if st.HistoryMessages != 50 || st.Resets != 3 || st.Recovered < 30 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestResumeMaxAge(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{History: hub.HistoryOptions{MaxAge: 50 * time.Millisecond}})
	s, err := h.SubscribeWith(context.Background(), newFakeConn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, h, "t", 0, 3)
	time.Sleep(100 * time.Millisecond) // the messages grow too old
	rec, err := s.Resume(context.Background(), "t", hub.Position{Epoch: epochOf(t, h, "t"), Seq: 1})
	if err != nil || !rec.Reset || rec.Position.Seq != 3 {
		t.Errorf("Resume after MaxAge = %+v, %v; want a reset at 3", rec, err)
	}
	if st := h.Stats(); st.HistoryMessages != 0 {
		t.Errorf("HistoryMessages = %d after MaxAge, want 0", st.HistoryMessages)
	}
}

// epochOf learns the epoch of topic's history by resuming a throwaway
// subscriber from nowhere.
func epochOf(t *testing.T, h *hub.Hub, topic string) string {
	t.Helper()
	s, err := h.SubscribeWith(context.Background(), newFakeConn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec, err := s.Resume(context.Background(), topic, hub.Position{})
	if err != nil {
		t.Fatal(err)
	}
	return rec.Position.Epoch
}

func TestResumeRefuses(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{History: hub.HistoryOptions{Length: 10, Prefixes: []string{"chat."}}})
	s, err := h.Subscribe(context.Background(), newFakeConn(), "chat.a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume(context.Background(), "news", hub.Position{}); !errors.Is(err, hub.ErrNoHistory) {
		t.Errorf("Resume of a topic without history: %v, want ErrNoHistory", err)
	}
	if _, err := s.Resume(context.Background(), "chat.a", hub.Position{}); err == nil {
		t.Error("Resume of a topic subscribed already succeeded")
	}
	for _, bad := range []string{"x", ":1", "e:", "e:x", "e-1:2", strings.Repeat("e", 65) + ":1"} {
		if _, err := hub.ParsePosition(bad); !errors.Is(err, hub.ErrBadPosition) {
			t.Errorf("ParsePosition(%q) = %v, want ErrBadPosition", bad, err)
		}
	}
	if p, err := hub.ParsePosition("ab12:7"); err != nil || p != (hub.Position{Epoch: "ab12", Seq: 7}) || p.String() != "ab12:7" {
		t.Errorf("ParsePosition(ab12:7) = %v, %v", p, err)
	}
}

func TestHistoryMetrics(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{History: hub.HistoryOptions{Length: 4}})
	publishN(t, h, "a", 0, 6) // no subscriber: the history keeps them anyway
	publishN(t, h, "b", 0, 1)
	s, err := h.SubscribeWith(context.Background(), newFakeConn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Resume(context.Background(), "a", hub.Position{Epoch: epochOf(t, h, "a"), Seq: 3}); err != nil || rec.Missed != 3 {
		t.Fatalf("Resume = %+v, %v; want 3 missed", rec, err)
	}
	var b strings.Builder
	if err := h.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	samples := parseExposition(t, b.String())
	for name, want := range map[string]uint64{
		"duplex_hub_topics":                   1,
		"duplex_hub_history_topics":           2,
		"duplex_hub_history_messages":         5,
		"duplex_hub_history_bytes":            4*2 + 2,
		"duplex_hub_history_recovered_total":  3,
		"duplex_hub_history_resets_total":     0,
		"duplex_hub_history_fetches_total":    0,
		"duplex_hub_messages_published_total": 7,
	} {
		if got, ok := samples[name]; !ok || got != want {
			t.Errorf("%s = %d (present %v), want %d", name, got, ok, want)
		}
	}
}

// TestPositionedSubscriberIsNeverLeftWithAGap: under DropOldest, a
// positioned subscriber whose queue overflows is disconnected (it will
// resume) rather than silently dropping messages.
func TestPositionedSubscriberIsNeverLeftWithAGap(t *testing.T) {
	t.Parallel()
	h := quietHub(t, hub.Options{QueueLength: 2, Policy: hub.DropOldest, History: hub.HistoryOptions{Length: 10}})
	ctx := context.Background()
	slow := newGatedConn()
	sub, err := h.SubscribeWith(ctx, slow, &hub.SubscribeOptions{Topics: []string{"t"}, Positions: true})
	if err != nil {
		t.Fatal(err)
	}
	publishN(t, h, "t", 0, 1)
	slow.waitBlocked(t)
	publishN(t, h, "t", 1, 4) // one in flight, two queued, one too many
	slow.release()
	select {
	case <-sub.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the positioned subscriber was not disconnected")
	}
	if !errors.Is(sub.Err(), hub.ErrSlowConsumer) {
		t.Errorf("Err = %v, want ErrSlowConsumer", sub.Err())
	}
	if st := h.Stats(); st.Disconnected != 1 {
		t.Errorf("Disconnected = %d, want 1", st.Disconnected)
	}
}
