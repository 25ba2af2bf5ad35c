package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexws/websocket/internal/wshttp"
)

// acceptKey is the Sec-WebSocket-Accept of a key, for the tests that answer
// a handshake by hand.
var acceptKey = wshttp.AcceptKey

// TestAcceptRefusesRepeatedSingleHeaders sends a handshake request with a
// header that RFC 6455 (or RFC 6454, for Origin) allows once, twice.
func TestAcceptRefusesRepeatedSingleHeaders(t *testing.T) {
	srv := httptest.NewServer(echoHandler(t, &AcceptOptions{LegacyVersions: []int{8}}))
	defer srv.Close()
	self := "http://" + strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name    string
		header  string
		values  []string
		version string
		status  int
	}{
		{"two keys", "Sec-WebSocket-Key", []string{"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="}, "13", 400},
		{"two different keys", "Sec-WebSocket-Key", []string{"dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEA=="}, "13", 400},
		{"two versions", "Sec-WebSocket-Version", []string{"13", "13"}, "", 400},
		{"two versions, one unsupported", "Sec-WebSocket-Version", []string{"13", "99"}, "", 400},
		{"two origins", "Origin", []string{self, self}, "13", 400},
		{"two legacy origins", "Sec-WebSocket-Origin", []string{self, self}, "8", 400},
		// Headers that may repeat: their values are one list.
		{"two protocol headers", "Sec-WebSocket-Protocol", []string{"a", "b"}, "13", 101},
		{"two extension headers", "Sec-WebSocket-Extensions", []string{"x-one", "x-two"}, "13", 101},
		{"one key", "Sec-WebSocket-Key", []string{"dGhlIHNhbXBsZSBub25jZQ=="}, "13", 101},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header = http.Header{
				"Upgrade":    {"websocket"},
				"Connection": {"Upgrade"},
			}
			if tc.header != "Sec-WebSocket-Key" {
				req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			}
			if tc.version != "" {
				req.Header.Set("Sec-WebSocket-Version", tc.version)
			}
			for _, v := range tc.values {
				req.Header.Add(tc.header, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body []byte
			if resp.StatusCode != 101 {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %q, want %d", resp.StatusCode, body, tc.status)
			}
			if want := tc.header + " appears more than once"; tc.status == 400 && !strings.Contains(string(body), want) {
				t.Fatalf("body %q does not say %q", body, want)
			}
		})
	}
}

// TestDialRefusesRepeatedSingleHeaders answers the client's handshake with
// a header RFC 6455 §11.3.3 or §11.3.4 allows once, twice.
func TestDialRefusesRepeatedSingleHeaders(t *testing.T) {
	tests := []struct {
		name  string
		extra func(accept string) string
		ok    bool
	}{
		{"one accept", func(a string) string { return "Sec-WebSocket-Accept: " + a + "\r\n" }, true},
		{"two accepts", func(a string) string {
			return "Sec-WebSocket-Accept: " + a + "\r\nSec-WebSocket-Accept: " + a + "\r\n"
		}, false},
		{"two protocols", func(a string) string {
			return "Sec-WebSocket-Accept: " + a + "\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"
		}, false},
		{"one protocol", func(a string) string {
			return "Sec-WebSocket-Accept: " + a + "\r\nSec-WebSocket-Protocol: chat\r\n"
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nc, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				defer nc.Close()
				fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n", tc.extra(acceptKey(r.Header.Get("Sec-WebSocket-Key"))))
				brw.Flush()
				io.Copy(io.Discard, nc)
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := Dial(ctx, srv.URL, &DialOptions{Subprotocols: []string{"chat"}})
			if tc.ok {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.CloseNow()
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) || !strings.Contains(he.Reason, "appears more than once") {
				t.Fatalf("Dial: %v; want a *HandshakeError about a repeated header", err)
			}
		})
	}
}
