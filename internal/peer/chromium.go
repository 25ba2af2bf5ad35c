package peer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumFlags are the switches Browser starts chromium with, besides a
// fresh --user-data-dir: headless, no sandbox (tests run as root), and none
// of the background traffic a browser makes on its own, so that the only
// network use is the test's own loopback server.
var chromiumFlags = []string{
	"headless",
	"no-sandbox",
	"disable-gpu",
	"disable-quic",
	"no-first-run",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
}

// Browser starts headless chromium with a fresh profile in t.TempDir and
// returns a chromedp context for a tab in it. Everything run in that context
// must finish within timeout; the browser is stopped when the test ends. The
// test is skipped (or failed in CI) when chromium is missing.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	f := Require(t, Chromium)
	if f.Path == "" {
		return nil
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(f.Path),
		chromedp.UserDataDir(t.TempDir()),
	}
	for _, name := range chromiumFlags {
		opts = append(opts, chromedp.Flag(name, true))
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	log := &testLog{t: t}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(log.logf))
	t.Cleanup(func() {
		// Closing the tab's context first lets chromedp close the browser
		// gracefully; cancelling the allocator then waits for the process
		// to exit and removes leftovers.
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		log.stop()
	})
	// Start the browser now, so that a browser that cannot start fails here
	// rather than in the test's first action.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("peer %s: start %s: %v", Chromium, f.Path, err)
	}
	return tabCtx
}

// testLog passes chromedp's log lines to the test until stop, so that a
// goroutine of chromedp that logs late cannot log to a finished test.
type testLog struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf(format, args...)
	}
}

func (l *testLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
