package interop_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/duplexws/websocket/internal/autobahn"
	"github.com/gorilla/websocket"
)

// The tests of the Autobahn-style suite (package internal/autobahn) that
// judge gorilla/websocket, the reference peer: they live here, in a module
// that may require gorilla, and use the suite as cmd/duplex does.

// fast is the options these tests run with: Autobahn's second is shortened
// so the cases that wait run quickly. A case may take a minute: section 9's
// 16 MiB messages through gorilla under the race detector, beside this
// package's browsers, took more than 20 seconds.
var fast = &autobahn.Options{Wait: 200 * time.Millisecond, CaseTimeout: time.Minute}

// deflateFast is the options of the section 12 and 13 tests: a few
// messages per case.
var deflateFast = &autobahn.Options{Wait: 200 * time.Millisecond, CaseTimeout: 20 * time.Second, Messages: 3}

// wsURL serves h and returns its ws:// URL.
func wsURL(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// caseByID returns the case with the given ID, of any section.
func caseByID(t *testing.T, id string) autobahn.Case {
	t.Helper()
	for _, c := range autobahn.Cases(append(slices.Clone(autobahn.Sections), 12, 13)...) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return autobahn.Case{}
}

// TestAutobahnBrokenGorillaPeers checks that the suite fails gorilla peers
// that break the rules its cases test, and passes them where they do not.
func TestAutobahnBrokenGorillaPeers(t *testing.T) {
	deaf, noUTF8 := http.HandlerFunc(deafEcho), gorillaEcho(false)
	tests := []struct {
		name    string
		peer    http.Handler
		id      string
		want    autobahn.Verdict
		because string
	}{
		{"deaf peer sends no pong", deaf, "2.1", autobahn.Failed, "differ"},
		{"deaf peer is fine without pings", deaf, "2.7", autobahn.OK, ""},
		{"peer without UTF-8 checks echoes invalid text", noUTF8, "6.3.1", autobahn.Failed, "UTF-8"},
		{"peer without UTF-8 checks echoes an invalid sequence", noUTF8, "6.12.1", autobahn.Failed, "UTF-8"},
		{"peer without UTF-8 checks never fails 6.4.1", noUTF8, "6.4.1", autobahn.Failed, ""},
		{"peer without UTF-8 checks passes valid text", noUTF8, "6.5.5", autobahn.OK, ""},
		{"UTF-8 at the message end is not fail-fast", gorillaEcho(true), "6.4.2", autobahn.NonStrict, "end of the message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			results := autobahn.RunClient(context.Background(), wsURL(t, tt.peer), []autobahn.Case{caseByID(t, tt.id)}, fast)
			r := results[0]
			if r.Verdict != tt.want || !strings.Contains(r.Reason, tt.because) {
				t.Errorf("%s: %s (%s), want %s with a reason about %q", r.ID, r.Verdict, r.Reason, tt.want, tt.because)
			}
		})
	}
}

// gorillaEcho is an echo server built on gorilla/websocket, as in
// gorilla's own Autobahn example: a reference peer for the suite's
// judgement. Gorilla does not check UTF-8; with validate, the handler
// checks each whole text message and fails the connection with 1007,
// which is correct but not fail-fast.
func gorillaEcho(validate bool) http.HandlerFunc {
	return gorillaEchoWith(websocket.Upgrader{}, validate)
}

// gorillaEchoWith is gorillaEcho upgrading with up, which accepts any origin.
func gorillaEchoWith(up websocket.Upgrader, validate bool) http.HandlerFunc {
	up.CheckOrigin = func(*http.Request) bool { return true }
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if validate && typ == websocket.TextMessage && !utf8.Valid(p) {
				msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "")
				c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	}
}

// deafEcho is a broken gorilla echo server that never answers pings.
func deafEcho(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetPingHandler(func(string) error { return nil })
	for {
		typ, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		c.WriteMessage(typ, p)
	}
}

// report is the table of results for a failure message.
func autobahnReport(results []autobahn.Result) string {
	var b strings.Builder
	autobahn.Report(&b, results)
	return b.String()
}

// TestAutobahnGorillaReferencePeer runs every case against gorilla/websocket,
// which Autobahn itself judges OK everywhere but in 6.4 (it validates
// UTF-8 only for whole messages) and the informational cases.
func TestAutobahnGorillaReferencePeer(t *testing.T) {
	sections := autobahn.Sections
	if testing.Short() {
		sections = []int{1, 2, 3, 4, 5, 6, 7, 10}
	}
	want := map[string]autobahn.Verdict{
		"6.4.1": autobahn.NonStrict, "6.4.2": autobahn.NonStrict, "6.4.3": autobahn.NonStrict, "6.4.4": autobahn.NonStrict,
		"7.1.6": autobahn.Informational, "7.13.1": autobahn.Informational, "7.13.2": autobahn.Informational,
	}
	results := autobahn.RunClient(context.Background(), wsURL(t, gorillaEcho(true)), autobahn.Cases(sections...), fast)
	if len(results) != len(autobahn.Cases(sections...)) {
		t.Fatalf("%d results for %d cases", len(results), len(autobahn.Cases(sections...)))
	}
	for _, r := range results {
		w, ok := want[r.ID]
		if !ok {
			w = autobahn.OK
		}
		if r.Verdict != w {
			t.Errorf("%s: %s (%s), want %s", r.ID, r.Verdict, r.Reason, w)
		}
	}
	if t.Failed() {
		t.Log("\n" + autobahnReport(results))
	}
}

// gorillaDeflateEcho is an echo server on gorilla/websocket with
// compression, which answers every permessage-deflate offer with
// "server_no_context_takeover; client_no_context_takeover" and honours
// no window parameter.
var gorillaDeflateEcho = gorillaEchoWith(websocket.Upgrader{EnableCompression: true}, false)

func TestAutobahnDeflateCasesAgainstGorillaServer(t *testing.T) {
	url := wsURL(t, gorillaDeflateEcho)
	tests := []struct {
		id     string
		want   autobahn.Verdict
		reason string
	}{
		{"12.1.1", autobahn.OK, ""},
		{"12.2.10", autobahn.OK, ""},
		{"12.3.11", autobahn.OK, ""},
		{"12.4.18", autobahn.OK, ""},
		{"12.5.15", autobahn.OK, ""},
		{"13.2.10", autobahn.OK, ""},
		{"13.6.16", autobahn.Failed, "server_max_window_bits must be answered with 15 or less"},
		// Gorilla's answer fits the second of the three offers.
		{"13.7.5", autobahn.OK, ""},
		// Gorilla ignores server_max_window_bits=8, so it is not answered.
		{"13.3.1", autobahn.Failed, "server_max_window_bits must be answered with 8 or less"},
	}
	var cs []autobahn.Case
	for _, tt := range tests {
		cs = append(cs, caseByID(t, tt.id))
	}
	results := autobahn.RunClient(context.Background(), url, cs, deflateFast)
	if len(results) != len(tests) {
		t.Fatalf("%d results for %d cases", len(results), len(tests))
	}
	for i, r := range results {
		tt := tests[i]
		if r.Verdict != tt.want || !strings.Contains(r.Reason, tt.reason) {
			t.Errorf("%s: %s: %s; want %s with a reason containing %q", r.ID, r.Verdict, r.Reason, tt.want, tt.reason)
		}
	}
}

func TestAutobahnDeflateCasesUnimplementedWithoutCompression(t *testing.T) {
	url := wsURL(t, gorillaEcho(false))
	r := autobahn.RunClient(context.Background(), url, []autobahn.Case{caseByID(t, "12.1.1")}, deflateFast)
	if len(r) != 1 || r[0].Verdict != autobahn.Unimplemented {
		t.Fatalf("results %+v, want UNIMPLEMENTED", r)
	}
}

// runGorillaAgent runs every case of srv with a gorilla/websocket client
// with compression, as a client under test runs against Autobahn's fuzzing
// server.
func runGorillaAgent(t *testing.T, base, agent string, n int) {
	t.Helper()
	d := websocket.Dialer{EnableCompression: true}
	for i := 1; i <= n; i++ {
		c, _, err := d.Dial(fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, i, agent), nil)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				break
			}
			if err := c.WriteMessage(typ, p); err != nil {
				break
			}
		}
		c.Close()
	}
}

func TestAutobahnDeflateCasesAgainstGorillaClient(t *testing.T) {
	// Gorilla's client offers "server_no_context_takeover;
	// client_no_context_takeover" and fails the handshake unless both come
	// back, so only the cases whose answer requests client_no_context_takeover
	// can be played with it. It offers no client_max_window_bits, so the
	// cases whose answer needs it get no extension, and 13.7 falls back to
	// its second answer.
	want := map[string]autobahn.Verdict{
		"13.2.1": autobahn.OK, "13.2.11": autobahn.OK, "13.2.18": autobahn.OK,
		"13.3.1": autobahn.Unimplemented, "13.6.4": autobahn.Unimplemented,
		"13.7.10": autobahn.OK, "13.7.15": autobahn.OK,
	}
	var cs []autobahn.Case
	for _, c := range autobahn.Cases(13) {
		if _, ok := want[c.ID]; ok {
			cs = append(cs, c)
		}
	}
	srv := autobahn.NewServer(cs, deflateFast)
	url := wsURL(t, srv)
	runGorillaAgent(t, url, "gorilla", len(cs))
	results := waitResults(srv, "gorilla", len(cs))
	if len(results) != len(want) {
		t.Fatalf("%d results for %d cases", len(results), len(want))
	}
	for _, r := range results {
		if r.Verdict != want[r.ID] {
			t.Errorf("%s: %s: %s; want %s", r.ID, r.Verdict, r.Reason, want[r.ID])
		}
	}
}

// waitResults waits a little for the server to judge the last case, which
// it does once the client's connection has ended.
func waitResults(srv *autobahn.Server, agent string, n int) []autobahn.Result {
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Results(agent)) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return srv.Results(agent)
}
