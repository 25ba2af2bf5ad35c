package interop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/duplexws/websocket/internal/peer"
	"github.com/duplexws/websocket/web"
)

// cuttingListener is a listener whose connections can all be cut at once,
// as a lost network would.
type cuttingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *cuttingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes every connection accepted so far.
func (l *cuttingListener) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestChatPageResumes has the chat page in headless Chromium lose its
// connection twice: once while 12 messages are sent, which it recovers and
// marks ("12 messages while you were away"), showing none twice; once
// while more messages are sent than the room's history holds, which it
// marks as a reset.
func TestChatPageResumes(t *testing.T) {
	tab := peer.Browser(t, 90*time.Second)
	h := hub.New(&hub.Options{History: hub.HistoryOptions{Length: 50}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { h.Close() })
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.Handle("/chat", chat.Handler(h, nil))
	srv := httptest.NewUnstartedServer(mux)
	l := &cuttingListener{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)

	say := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			m, _ := json.Marshal(map[string]string{"name": "bob", "text": fmt.Sprint("m", i), "time": time.Now().UTC().Format(time.RFC3339Nano)})
			if err := h.Publish(context.Background(), chat.TopicPrefix+"demo", hub.Message{Data: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll("`+sel+`").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitText := func(sel, text string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		xp := sel + `[text()="` + text + `"]`
		if err := chromedp.Do(ctx, chromedp.WaitVisible(xp)); err != nil {
			t.Fatalf("%s did not appear: %v", xp, err)
		}
	}
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(900, 640),
		chromedp.Navigate(srv.URL+"/?room=demo&name=ann"),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="open"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitUntilSubscribed(t, h, 1)
	say(0, 3)
	waitText(`//div[@class="body"]`, "m2")

	// Offline while 12 messages are sent: recovered, counted, none twice.
	l.cut()
	say(3, 15)
	waitText(`//p[contains(@class,"gap")]`, "12 messages while you were away")
	waitText(`//div[@class="body"]`, "m14")
	waitUntilSubscribed(t, h, 1)
	say(15, 16) // live again
	waitText(`//div[@class="body"]`, "m15")
	if n := count(".msg"); n != 16 {
		t.Errorf("the page shows %d messages, want 16 (each once)", n)
	}

	// Offline while 60 are sent: the history of 50 does not reach back.
	l.cut()
	say(16, 76)
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`p.reset`))); err != nil {
		t.Fatalf("no reset marker: %v", err)
	}
	waitUntilSubscribed(t, h, 1)
	say(76, 77)
	waitText(`//div[@class="body"]`, "m76")
	if n := count(".msg"); n != 17 {
		t.Errorf("after the reset the page shows %d messages, want 17 (none of the lost ones)", n)
	}
}

// waitUntilSubscribed waits until h has n subscriptions.
func waitUntilSubscribed(t *testing.T, h *hub.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.Stats().Subscriptions != n {
		if time.Now().After(deadline) {
			t.Fatalf("hub has %d subscriptions, want %d", h.Stats().Subscriptions, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
