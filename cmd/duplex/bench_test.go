package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/duplexws/websocket/internal/loadgen"
)

func TestBenchJSONAgainstServe(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	tests := []struct {
		name string
		args []string
	}{
		{"pipelined text", []string{"--conns", "4", "--pipeline", "8", "--size", "256"}},
		{"rate-limited binary without deflate", []string{"--conns", "2", "--rate", "200", "--binary", "--no-deflate", "--ramp-up", "200ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"bench", "--json", "--duration", "1s"}, tc.args...)
			r := runDuplex(t, "", append(args, s.ws("/echo"))...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var res loadgen.Result
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
			}
			if res.MessagesReceived == 0 || res.MessagesPerSecond <= 0 || res.BytesPerSecond <= 0 {
				t.Errorf("no traffic measured: %+v", res)
			}
			if res.Errors != 0 || res.Connected != res.Connections {
				t.Errorf("errors %d, %d of %d connected: %v", res.Errors, res.Connected, res.Connections, res.ErrorSamples)
			}
			if l := res.Latency; !(l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
				t.Errorf("latency percentiles out of order: %+v", l)
			}
			if strings.Contains(strings.Join(tc.args, " "), "--rate 200") {
				// 2 connections at 200/s for 1s: about 400 messages, never far more.
				if res.MessagesReceived > 600 || res.MessagesReceived < 200 {
					t.Errorf("--rate 200 on 2 conns gave %d messages in %.2fs", res.MessagesReceived, res.DurationSeconds)
				}
			}
		})
	}
}

func TestBenchTableAndUnreachable(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	r := runDuplex(t, "", "bench", "--duration", "300ms", "--conns", "2", s.ws("/echo"))
	for _, want := range []string{"messages/s", "latency", "p99", "errors"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("exit %d, table lacks %q:\n%s\nstderr %q", r.code, want, r.stdout, r.stderr)
		}
	}
	r = runDuplex(t, "", "bench", "--duration", "300ms", s.ws("/missing"))
	if r.code != 1 || !strings.Contains(r.stderr, "no connection could be opened") {
		t.Fatalf("bench of a 404: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestBenchRefusesChat checks that bench against a chat room, which sends
// every member the messages of the others, stops with a message that says
// the endpoint is not an echo rather than counting those as echoes.
func TestBenchRefusesChat(t *testing.T) {
	s := startServer(t, "serve", "--addr", "127.0.0.1:0")
	r := runDuplex(t, "", "bench", "--duration", "20s", "--conns", "3", s.ws("/chat?room=bench"))
	if r.code != 1 || !strings.Contains(r.stderr, "not an echo") || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stdout, "messages/s") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and one line saying the endpoint is not an echo", r.code, r.stdout, r.stderr)
	}
}
