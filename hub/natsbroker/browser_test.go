package natsbroker_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/duplexws/websocket/internal/peer"
)

// screenshotDir is where TestChatPagesOnTwoServers leaves its screenshots.
var screenshotDir = filepath.Join(os.TempDir(), "duplex-chat-screenshots")

// TestChatPagesOnTwoServers opens the chat page of two Duplex servers,
// joined by a NATS cluster, in two tabs of headless Chromium: what is typed
// on one page appears on the other.
func TestChatPagesOnTwoServers(t *testing.T) {
	tabA := peer.Browser(t, 90*time.Second)
	tabB, closeB := chromedp.NewContext(tabA)
	defer closeB()

	cl := startCluster(t, 3)
	a := startServer(t, cl.urls(0))
	b := startServer(t, cl.urls(1, 0, 2))

	open := func(tab context.Context, s *duplexServer, name string) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.EmulateViewport(900, 640),
			chromedp.Navigate(s.page+"/?room=demo&name="+name),
			chromedp.WaitVisible(chromedp.CSS(`#status[data-state="open"]`)),
		)
		if err != nil {
			t.Fatalf("opening the page of %s as %s: %v", s.page, name, err)
		}
	}
	open(tabA, a, "ann")
	open(tabB, b, "bob")
	// Each node sees the local subscription and the one routed from the
	// other server's node.
	cl.waitInterest(t, 0, "duplex.chat.demo", 2)
	cl.waitInterest(t, 1, "duplex.chat.demo", 2)

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
