package autobahn

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
