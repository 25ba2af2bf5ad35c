package autobahn

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fast is the options the package's tests run with: Autobahn's second is
// shortened so the cases that wait run quickly.
var fast = &Options{Wait: 200 * time.Millisecond, CaseTimeout: 20 * time.Second}

// pick returns the cases with the given ids, in the order given.
func pick(t *testing.T, ids ...string) []Case {
	t.Helper()
	all := map[string]Case{}
	for _, c := range Cases() {
		all[c.ID] = c
	}
	var out []Case
	for _, id := range ids {
		c, ok := all[id]
		if !ok {
			t.Fatalf("no case %s", id)
		}
		out = append(out, c)
	}
	return out
}

// TestRunClientBrokenPeers checks that the suite fails a peer that breaks
// the rules its cases test, and passes it where it does not. The broken
// gorilla/websocket peers are in package interop, whose module may require
// gorilla.
func TestRunClientBrokenPeers(t *testing.T) {
	lax := http.HandlerFunc(laxEcho)
	tests := []struct {
		name    string
		peer    http.Handler
		id      string
		want    Verdict
		because string
	}{
		{"lax echo passes plain text", lax, "1.1.2", OK, ""},
		{"lax echo passes a fragmented message", lax, "5.3", OK, ""},
		{"lax echo sends RSV back", lax, "3.1", Failed, "RSV"},
		{"lax echo sends RSV back after the echo", lax, "3.2", Failed, "RSV"},
		{"lax echo sends a reserved opcode back", lax, "4.1.1", Failed, "reserved opcode"},
		{"lax echo sends a fragmented ping back", lax, "5.1", Failed, "fragmented"},
		{"lax echo sends a long ping back", lax, "2.5", Failed, "long control"},
		{"lax echo sends a stray continuation back", lax, "5.9", Failed, "continuation"},
		{"lax echo echoes an invalid close code", lax, "7.9.1", Failed, "close code was 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			results := RunClient(context.Background(), wsURL(t, tt.peer), pick(t, tt.id), fast)
			r := results[0]
			if r.Verdict != tt.want || !strings.Contains(r.Reason, tt.because) {
				t.Errorf("%s: %s (%s), want %s with a reason about %q", r.ID, r.Verdict, r.Reason, tt.want, tt.because)
			}
		})
	}
}

func TestRunClientHandshakeFailure(t *testing.T) {
	url := wsURL(t, http.NotFoundHandler())
	results := RunClient(context.Background(), url, pick(t, "1.1.1"), fast)
	if r := results[0]; r.Verdict != Failed || !strings.Contains(r.Reason, "404") {
		t.Errorf("got %s (%s), want FAILED for the 404 answer", r.Verdict, r.Reason)
	}
}

func TestRunClientCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if results := RunClient(ctx, wsURL(t, http.HandlerFunc(laxEcho)), Cases(1), fast); len(results) != 0 {
		t.Errorf("%d results after cancellation, want none", len(results))
	}
}
