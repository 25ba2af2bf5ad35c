package interop_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	websocket "github.com/duplexws/websocket"
)

// skipUntilDeflateLands skips a compression test while the core does not
// negotiate permessage-deflate with itself yet.
func skipUntilDeflateLands(t *testing.T) {
	t.Helper()
	ext := make(chan string, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}})
		if err != nil {
			ext <- ""
			return
		}
		ext <- c.Extensions()
		c.CloseNow()
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, hs.URL, &websocket.DialOptions{Compression: &websocket.CompressionOptions{}})
	if err == nil {
		c.CloseNow()
	}
	if !strings.Contains(<-ext, "permessage-deflate") {
		t.Skip("permessage-deflate has not landed in the core yet")
	}
}
