package autobahn

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// deflateFast is the options the package's section 12 and 13 tests run
// with: a few messages per case.
var deflateFast = &Options{Wait: 200 * time.Millisecond, CaseTimeout: 20 * time.Second, Messages: 3}

func TestCases12(t *testing.T) {
	cs := cases12()
	if len(cs) != 90 {
		t.Fatalf("section 12 has %d cases, want 90", len(cs))
	}
	for i, c := range cs {
		if want := fmt.Sprintf("12.%d.%d", i/18+1, i%18+1); c.ID != want {
			t.Errorf("case %d is %s, want %s", i, c.ID, want)
		}
		if c.Offer != "permessage-deflate; client_no_context_takeover; client_max_window_bits" {
			t.Errorf("%s offers %q", c.ID, c.Offer)
		}
		if got := c.Answer("permessage-deflate; server_max_window_bits=10; client_max_window_bits"); got != "permessage-deflate; server_max_window_bits=10" {
			t.Errorf("%s answers %q", c.ID, got)
		}
	}
}

func TestDeflateDatasets(t *testing.T) {
	for _, d := range deflateDatasets {
		b := d.generate()
		if len(b) < 80000 {
			t.Errorf("%s: %d bytes, want at least 80000", d.desc, len(b))
		}
		if string(d.generate()) != string(b) {
			t.Errorf("%s: two calls made different data", d.desc)
		}
		if !d.binary {
			for i, c := range b {
				if c >= utf8.RuneSelf {
					t.Errorf("%s: byte %d is not ASCII, so a cut through it may not be UTF-8", d.desc, i)
					break
				}
			}
		}
	}
}

func TestDeflateCutterWraps(t *testing.T) {
	c := &deflateCutter{data: []byte("abcde")}
	for _, want := range []string{"abc", "deabcd", "e", "abcdeab"} {
		if got := string(c.next(len(want))); got != want {
			t.Fatalf("next(%d) = %q, want %q", len(want), got, want)
		}
	}
}

// gorillaDeflateEcho is an echo server on gorilla/websocket with
// compression, which answers every permessage-deflate offer with
// "server_no_context_takeover; client_no_context_takeover" and honours
// no window parameter.
func gorillaDeflateEcho(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{EnableCompression: true, CheckOrigin: func(*http.Request) bool { return true }}
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
		if err := c.WriteMessage(typ, p); err != nil {
			return
		}
	}
}

// caseByID returns the case of section 12 or 13 with the given ID.
func caseByID(t *testing.T, id string) Case {
	t.Helper()
	for _, c := range append(cases12(), cases13()...) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return Case{}
}

func TestDeflateCasesAgainstGorillaServer(t *testing.T) {
	url := wsURL(t, http.HandlerFunc(gorillaDeflateEcho))
	tests := []struct {
		id     string
		want   Verdict
		reason string
	}{
		{"12.1.1", OK, ""},
		{"12.2.10", OK, ""},
		{"12.3.11", OK, ""},
		{"12.4.18", OK, ""},
		{"12.5.15", OK, ""},
		{"13.2.10", OK, ""},
		{"13.6.16", Failed, "server_max_window_bits must be answered with 15 or less"},
		// Gorilla's answer fits the second of the three offers.
		{"13.7.5", OK, ""},
		// Gorilla ignores server_max_window_bits=8, so it is not answered.
		{"13.3.1", Failed, "server_max_window_bits must be answered with 8 or less"},
	}
	var cs []Case
	for _, tt := range tests {
		cs = append(cs, caseByID(t, tt.id))
	}
	results := RunClient(context.Background(), url, cs, deflateFast)
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

func TestDeflateCasesUnimplementedWithoutCompression(t *testing.T) {
	url := wsURL(t, gorillaEcho(false))
	r := RunClient(context.Background(), url, []Case{caseByID(t, "12.1.1")}, deflateFast)
	if len(r) != 1 || r[0].Verdict != Unimplemented {
		t.Fatalf("results %+v, want UNIMPLEMENTED", r)
	}
}

// lyingDeflateEcho is an echo server of the suite's own making that
// negotiates permessage-deflate with answer but compresses its echoes
// with bits and context takeover regardless.
func lyingDeflateEcho(answer string, bits int, takeover bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h, err := acceptHandshake(w, r, func(string) string { return answer })
		if err != nil {
			return
		}
		defer h.conn.Close()
		comp := newDeflateCompressor(bits, takeover)
		comp.takeover = takeover // even with a window below 15 bits
		dec := newDeflateDecompressor(15, false)
		var msg []byte
		var op, rsv byte
		for {
			f, err := readFrame(h.br, 1<<24)
			if err != nil {
				return
			}
			switch {
			case f.Opcode == opClose:
				h.conn.Write(appendFrame(nil, Frame{Fin: true, Opcode: opClose, Payload: f.Payload}, false, [4]byte{}))
				return
			case isControl(f.Opcode):
				continue
			case f.Opcode != opContinuation:
				msg, op, rsv = nil, f.Opcode, f.RSV
			}
			msg = append(msg, f.Payload...)
			if !f.Fin {
				continue
			}
			if rsv&rsv1 != 0 {
				if msg, err = dec.decompress(msg, 1<<24); err != nil {
					return
				}
			}
			p, err := comp.compress(msg)
			if err != nil {
				return
			}
			h.conn.Write(appendFrame(nil, Frame{Fin: true, RSV: rsv1, Opcode: op, Payload: p}, false, [4]byte{}))
		}
	}
}

func TestDeflateCasesCatchBrokenServer(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		answer   string
		bits     int
		takeover bool
		reason   string
	}{
		{"context taken over though given up", "13.2.3", "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			15, true, "before the start of the available history"},
		{"window of 15 bits though 8 were granted", "13.3.5", "permessage-deflate; server_max_window_bits=8",
			15, false, "beyond the negotiated window of 256 bytes"},
		{"window of 15 bits and context though 8 bits without context were granted", "13.5.4",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=8", 15, true, "beyond the negotiated window"},
		{"an extension parameter never offered", "12.1.1", "permessage-deflate; client_max_window_bits=16", 15, true,
			"client_max_window_bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := wsURL(t, lyingDeflateEcho(tt.answer, tt.bits, tt.takeover))
			r := RunClient(context.Background(), url, []Case{caseByID(t, tt.id)}, deflateFast)
			if len(r) != 1 || r[0].Verdict != Failed || !strings.Contains(r[0].Reason, tt.reason) {
				t.Fatalf("results %+v, want FAILED with a reason containing %q", r, tt.reason)
			}
		})
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

func TestDeflateCasesAgainstGorillaClient(t *testing.T) {
	// Gorilla's client offers "server_no_context_takeover;
	// client_no_context_takeover" and fails the handshake unless both come
	// back, so only the cases whose answer requests client_no_context_takeover
	// can be played with it. It offers no client_max_window_bits, so the
	// cases whose answer needs it get no extension, and 13.7 falls back to
	// its second answer.
	want := map[string]Verdict{
		"13.2.1": OK, "13.2.11": OK, "13.2.18": OK,
		"13.3.1": Unimplemented, "13.6.4": Unimplemented,
		"13.7.10": OK, "13.7.15": OK,
	}
	var cs []Case
	for _, c := range cases13() {
		if _, ok := want[c.ID]; ok {
			cs = append(cs, c)
		}
	}
	srv := NewServer(cs, deflateFast)
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
func waitResults(srv *Server, agent string, n int) []Result {
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Results(agent)) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return srv.Results(agent)
}
