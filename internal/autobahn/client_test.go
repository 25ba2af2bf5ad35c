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

// report is the table of results for a failure message.
func report(results []Result) string {
	var b strings.Builder
	Report(&b, results)
	return b.String()
}

// TestRunClientReferencePeer runs every case against gorilla/websocket,
// which Autobahn itself judges OK everywhere but in 6.4 (it validates
// UTF-8 only for whole messages) and the informational cases.
func TestRunClientReferencePeer(t *testing.T) {
	sections := Sections
	if testing.Short() {
		sections = []int{1, 2, 3, 4, 5, 6, 7, 10}
	}
	want := map[string]Verdict{
		"6.4.1": NonStrict, "6.4.2": NonStrict, "6.4.3": NonStrict, "6.4.4": NonStrict,
		"7.1.6": Informational, "7.13.1": Informational, "7.13.2": Informational,
	}
	results := RunClient(context.Background(), wsURL(t, gorillaEcho(true)), Cases(sections...), fast)
	if len(results) != len(Cases(sections...)) {
		t.Fatalf("%d results for %d cases", len(results), len(Cases(sections...)))
	}
	for _, r := range results {
		w, ok := want[r.ID]
		if !ok {
			w = OK
		}
		if r.Verdict != w {
			t.Errorf("%s: %s (%s), want %s", r.ID, r.Verdict, r.Reason, w)
		}
	}
	if t.Failed() {
		t.Log("\n" + report(results))
	}
}

// TestRunClientBrokenPeers checks that the suite fails peers that break
// the rules its cases test, and passes them where they do not.
func TestRunClientBrokenPeers(t *testing.T) {
	lax, deaf, noUTF8 := http.HandlerFunc(laxEcho), http.HandlerFunc(deafEcho), gorillaEcho(false)
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
		{"deaf peer sends no pong", deaf, "2.1", Failed, "differ"},
		{"deaf peer is fine without pings", deaf, "2.7", OK, ""},
		{"peer without UTF-8 checks echoes invalid text", noUTF8, "6.3.1", Failed, "UTF-8"},
		{"peer without UTF-8 checks echoes an invalid sequence", noUTF8, "6.12.1", Failed, "UTF-8"},
		{"peer without UTF-8 checks never fails 6.4.1", noUTF8, "6.4.1", Failed, ""},
		{"peer without UTF-8 checks passes valid text", noUTF8, "6.5.5", OK, ""},
		{"UTF-8 at the message end is not fail-fast", gorillaEcho(true), "6.4.2", NonStrict, "end of the message"},
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
	if results := RunClient(ctx, wsURL(t, gorillaEcho(true)), Cases(1), fast); len(results) != 0 {
		t.Errorf("%d results after cancellation, want none", len(results))
	}
}
