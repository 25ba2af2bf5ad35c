package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duplexws/websocket"
)

// echoServer echoes every message, delay after it came; extra, when set,
// sends one unasked message first.
func echoServer(t *testing.T, extra bool, delay time.Duration) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Compression: &websocket.CompressionOptions{}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		if extra {
			c.Write(r.Context(), websocket.MessageText, []byte("surprise"))
		}
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			time.Sleep(delay)
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestRunMeasuresEchoes(t *testing.T) {
	url := echoServer(t, false, 0)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"pipelined", Config{Conns: 3, Pipeline: 4, Size: 100}},
		{"rate", Config{Conns: 2, Rate: 100, Binary: true}},
		{"ramp-up, deflate", Config{Conns: 4, RampUp: 100 * time.Millisecond, Size: 2000,
			Dial: &websocket.DialOptions{Compression: &websocket.CompressionOptions{}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.URL = url
			cfg.Duration = 400 * time.Millisecond
			progress := 0
			cfg.Progress = func(Progress) { progress++ }
			cfg.ProgressInterval = 100 * time.Millisecond
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 0 || res.Connected != cfg.Conns {
				t.Fatalf("errors %d %v, connected %d of %d", res.Errors, res.ErrorSamples, res.Connected, cfg.Conns)
			}
			if res.MessagesReceived == 0 || res.Latency.P50 <= 0 || res.BytesPerSecond <= 0 {
				t.Fatalf("nothing measured: %+v", res)
			}
			if cfg.Rate > 0 {
				max := uint64(float64(cfg.Conns)*cfg.Rate*res.DurationSeconds*1.5) + 4
				if res.MessagesSent > max {
					t.Errorf("rate %v on %d conns sent %d messages in %.2fs", cfg.Rate, cfg.Conns, res.MessagesSent, res.DurationSeconds)
				}
			}
			if progress == 0 {
				t.Error("no progress reported")
			}
			if cfg.Dial != nil && cfg.Dial.Compression != nil && res.Extensions == "" {
				t.Error("compression was not negotiated")
			}
		})
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	url := echoServer(t, false, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Config{URL: url, Conns: 2, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Run took %v after its context ended", d)
	}
	if res.MessagesReceived == 0 {
		t.Fatal("nothing measured before the context ended")
	}
}

// broadcastServer sends every message it receives to all its clients, as a
// chat room does.
func broadcastServer(t *testing.T) string {
	var mu sync.Mutex
	clients := map[*websocket.Conn]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		mu.Lock()
		clients[c] = true
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(clients, c)
			mu.Unlock()
		}()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				return
			}
			mu.Lock()
			for o := range clients {
				o.Write(r.Context(), typ, p)
			}
			mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestRunRefusesEndpointsThatAreNotEchoes checks that a server that sends a
// connection what it did not send, as a chat room relays the messages of
// every member to all, ends the run with ErrNotEcho rather than counting
// other connections' messages as echoes.
func TestRunRefusesEndpointsThatAreNotEchoes(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"unasked message, lockstep", Config{URL: echoServer(t, true, 0), Conns: 2}},
		{"broadcast, lockstep", Config{URL: broadcastServer(t), Conns: 4}},
		{"broadcast, pipelined", Config{URL: broadcastServer(t), Conns: 4, Pipeline: 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Duration = time.Minute
			start := time.Now()
			res, err := Run(context.Background(), cfg)
			if !errors.Is(err, ErrNotEcho) || res != nil {
				t.Fatalf("got %+v, %v; want no result and ErrNotEcho", res, err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("the run took %v to notice", d)
			}
		})
	}
}

func TestRunCountsErrors(t *testing.T) {
	res, err := Run(context.Background(), Config{URL: "ws://127.0.0.1:1/", Conns: 2, Duration: 100 * time.Millisecond})
	if err == nil || res.Errors != 2 || res.Connected != 0 {
		t.Fatalf("unreachable endpoint: err %v, result %+v", err, res)
	}
}

// TestRunNeverReceivesMoreThanSent runs against a server that echoes each
// message 200ms late, with one message per second per connection: the
// first messages go out before the window opens and their echoes arrive
// inside it. They belong to no count, so that received never exceeds sent
// (duplex bench once reported 126145 sent, 126146 received).
func TestRunNeverReceivesMoreThanSent(t *testing.T) {
	url := echoServer(t, false, 200*time.Millisecond)
	for _, pipeline := range []int{1, 4} {
		res, err := Run(context.Background(), Config{URL: url,
			Conns: 10, Rate: 1, Pipeline: pipeline, Duration: 400 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if res.MessagesReceived > res.MessagesSent {
			t.Errorf("pipeline %d: %d sent, %d received: echoes of messages sent before the window were counted",
				pipeline, res.MessagesSent, res.MessagesReceived)
		}
	}
}
