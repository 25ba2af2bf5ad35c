package interop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/duplexws/websocket/hub"
	"github.com/duplexws/websocket/hub/natsbroker"
	"github.com/duplexws/websocket/internal/chat"
	"github.com/duplexws/websocket/internal/peer"
	"github.com/duplexws/websocket/web"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// startNATS starts an in-process NATS server on a loopback port, shut down
// when the test ends.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	return ns
}

// waitInterest waits until ns knows of n subscriptions matching subject.
func waitInterest(t *testing.T, ns *natsserver.Server, subject string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ns.GlobalAccount().Interest(subject) < n {
		if time.Now().After(deadline) {
			t.Fatalf("NATS has %d subscriptions to %s, want %d", ns.GlobalAccount().Interest(subject), subject, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startChatServer starts a Duplex server on 127.0.0.1 with the chat page at /
// and its rooms at /chat, whose hub shares topics through NATS at natsURL;
// it returns the page's http:// base URL.
func startChatServer(t *testing.T, natsURL string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := natsbroker.Connect(ctx, natsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(&hub.Options{Broker: b})
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.Handle("/chat", chat.Handler(h, nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv.URL
}

// screenshotDir is where TestChatPagesOnTwoServers leaves its screenshots.
var screenshotDir = filepath.Join(os.TempDir(), "duplex-chat-screenshots")

// TestChatPagesOnTwoServers opens the chat page of two Duplex servers,
// whose hubs share topics through NATS, in two tabs of headless Chromium:
// what is typed on one page appears on the other. (Package natsbroker's own
// tests run the broker over a NATS cluster; this one is here because it
// drives a browser.)
func TestChatPagesOnTwoServers(t *testing.T) {
	tabA := peer.Browser(t, 90*time.Second)
	tabB, closeB := chromedp.NewContext(tabA)
	defer closeB()

	ns := startNATS(t)
	a := startChatServer(t, ns.ClientURL())
	b := startChatServer(t, ns.ClientURL())

	open := func(tab context.Context, page, name string) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.EmulateViewport(900, 640),
			chromedp.Navigate(page+"/?room=demo&name="+name),
			chromedp.WaitVisible(chromedp.CSS(`#status[data-state="open"]`)),
		)
		if err != nil {
			t.Fatalf("opening the page of %s as %s: %v", page, name, err)
		}
	}
	open(tabA, a, "ann")
	open(tabB, b, "bob")
	// NATS knows of both servers' subscriptions to the room.
	waitInterest(t, ns, "duplex.chat.demo", 2)

	say := func(tab context.Context, text string) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#send"))); err != nil {
			t.Fatalf("typing %q: %v", text, err)
		}
	}
	see := func(tab context.Context, who, text string) {
		t.Helper()
		sel := `//div[contains(@class,"msg")][.//span[@class="who"][text()="` + who + `"]]//div[@class="body"][text()="` + text + `"]`
		ctx, cancel := context.WithTimeout(tab, 10*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
			t.Fatalf("the message %q from %s did not appear: %v", text, who, err)
		}
	}

	say(tabA, "Hi Bob! I'm on server A.")
	see(tabB, "ann", "Hi Bob! I'm on server A.")
	say(tabB, "Hello Ann, server B here. NATS carried that across.")
	see(tabA, "bob", "Hello Ann, server B here. NATS carried that across.")
	see(tabB, "bob", "Hello Ann, server B here. NATS carried that across.") // the sender's own copy
	say(tabA, "Typed in one browser, shown in the other.")
	see(tabB, "ann", "Typed in one browser, shown in the other.")

	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, tab := range map[string]context.Context{"ann-server-a": tabA, "bob-server-b": tabB} {
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(screenshotDir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of %s's page: %s", name, path)
	}
}
