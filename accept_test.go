package websocket

import (
	"bytes"
	"context"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// invalidCompression lists compression options out of range, each with
// what the report of it names.
var invalidCompression = []struct {
	name string
	opts CompressionOptions
	want string
}{
	{"server window", CompressionOptions{ServerMaxWindowBits: 16}, "ServerMaxWindowBits 16"},
	{"client window", CompressionOptions{ClientMaxWindowBits: 7}, "ClientMaxWindowBits 7"},
	{"level", CompressionOptions{Level: 10}, "Level 10"},
	{"threshold", CompressionOptions{Threshold: -2}, "Threshold -2"},
}

// logBuffer collects what a logger writes from a server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was logged.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// reports returns the lines logged about invalid compression options.
func (l *logBuffer) reports() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, "invalid AcceptOptions.Compression") {
			lines = append(lines, line)
		}
	}
	return lines
}

// echoOnce dials url offering compression, checks whether the server
// accepted it, and echoes one message.
func echoOnce(t *testing.T, url string, opts *DialOptions, wantCompression bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts.Compression = &CompressionOptions{Threshold: -1}
	c, resp, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.CloseNow()
	if got := resp.Header.Get("Sec-WebSocket-Extensions") != "" && c.Extensions() != ""; got != wantCompression {
		t.Fatalf("compression negotiated: %v (answer %q), want %v", got, resp.Header.Get("Sec-WebSocket-Extensions"), wantCompression)
	}
	msg := strings.Repeat("compress me ", 100)
	if err := c.Write(ctx, MessageText, []byte(msg)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
	if err := c.Close(StatusNormalClosure, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestAcceptInvalidCompression checks that a server with compression
// options out of range serves every connection without compression and
// reports the problem once, to its http.Server's ErrorLog; valid options
// negotiate compression and report nothing.
func TestAcceptInvalidCompression(t *testing.T) {
	t.Parallel()
	cases := append(invalidCompression, struct {
		name string
		opts CompressionOptions
		want string
	}{"valid", CompressionOptions{ServerMaxWindowBits: 15, Level: 9}, ""})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logged logBuffer
			srv := httptest.NewUnstartedServer(echoHandler(t, &AcceptOptions{Compression: &tc.opts}))
			srv.Config.ErrorLog = log.New(&logged, "", 0)
			srv.Start()
			t.Cleanup(srv.Close)
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			for range 5 {
				echoOnce(t, url, &DialOptions{}, tc.want == "")
			}
			reports := logged.reports()
			switch {
			case tc.want == "" && len(reports) > 0:
				t.Errorf("valid options reported: %q", reports)
			case tc.want != "" && (len(reports) != 1 || !strings.Contains(reports[0], tc.want)):
				t.Errorf("reports after 5 handshakes: %q, want one naming %q", reports, tc.want)
			}
		})
	}
}

// TestAcceptInvalidCompressionHTTP2 checks the same over HTTP/2, with a
// server that has no ErrorLog: the report goes to the log package's
// standard logger, once. It does not run in parallel, since it redirects
// that logger.
func TestAcceptInvalidCompressionHTTP2(t *testing.T) {
	var logged logBuffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&logged)
	tc := invalidCompression[0]
	s := startH2(t, false, echoHandler(t, &AcceptOptions{Compression: &tc.opts}))
	tr := s.h2Transport()
	defer tr.CloseIdleConnections()
	for range 5 {
		echoOnce(t, s.wsURL(), s.dialOptions(tr), false)
	}
	if n := s.seen("HTTP/2.0 CONNECT"); n != 5 {
		t.Errorf("%d extended CONNECTs, want 5", n)
	}
	if reports := logged.reports(); len(reports) != 1 || !strings.Contains(reports[0], tc.want) {
		t.Errorf("reports after 5 handshakes: %q, want one naming %q", reports, tc.want)
	}
}

// TestDialInvalidCompression checks that Dial, an explicit call, returns
// an error for compression options out of range, every time.
func TestDialInvalidCompression(t *testing.T) {
	t.Parallel()
	for _, tc := range invalidCompression {
		for range 2 {
			_, _, err := Dial(context.Background(), "ws://127.0.0.1:1/", &DialOptions{Compression: &tc.opts})
			if err == nil || !strings.Contains(err.Error(), "invalid DialOptions.Compression: "+tc.want) {
				t.Errorf("%s: Dial returned %v", tc.name, err)
			}
		}
	}
}
