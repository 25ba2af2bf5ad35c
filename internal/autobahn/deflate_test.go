package autobahn

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	kflate "github.com/klauspost/compress/flate"

	"github.com/duplexws/websocket/internal/pmdeflate"
)

func TestDeflateOffers(t *testing.T) {
	tests := []struct {
		header string
		want   []deflateParams
		err    bool
	}{
		{"permessage-deflate", []deflateParams{{}}, false},
		{"permessage-deflate; client_max_window_bits", []deflateParams{{clientBitsSeen: true}}, false},
		{"permessage-deflate; client_max_window_bits=10", []deflateParams{{clientMaxWindowBits: 10, clientBitsSeen: true}}, false},
		{`permessage-deflate; client_max_window_bits="10"`, []deflateParams{{clientMaxWindowBits: 10, clientBitsSeen: true}}, false},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
			[]deflateParams{{serverNoContextTakeover: true, serverMaxWindowBits: 8}}, false},
		{"x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover, permessage-deflate",
			[]deflateParams{{clientNoContextTakeover: true}, {}}, false},
		{"foo, , permessage-deflate", []deflateParams{{}}, false},
		{"permessage-deflate; server_max_window_bits", nil, true},
		{"permessage-deflate; server_max_window_bits=7", nil, true},
		{"permessage-deflate; server_max_window_bits=16", nil, true},
		{"permessage-deflate; server_max_window_bits=010", nil, true},
		{"permessage-deflate; client_no_context_takeover=1", nil, true},
		{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", nil, true},
		{"permessage-deflate; mystery", nil, true},
		{"permessage-deflate; a b", nil, true},
		{"permessage deflate", nil, true},
	}
	for _, tt := range tests {
		got, err := deflateOffers([]string{tt.header})
		if (err != nil) != tt.err {
			t.Errorf("deflateOffers(%q) error = %v, want error %t", tt.header, err, tt.err)
			continue
		}
		if err != nil && !errors.Is(err, errDeflateHeader) {
			t.Errorf("deflateOffers(%q) error %v does not wrap errDeflateHeader", tt.header, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("deflateOffers(%q) = %+v, want %+v", tt.header, got, tt.want)
		}
	}
}

func TestDeflateParamsStringParsesBack(t *testing.T) {
	for _, p := range []deflateParams{
		{},
		{clientBitsSeen: true},
		{serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 12, clientBitsSeen: true},
	} {
		got, err := deflateOffers([]string{p.String()})
		if err != nil || len(got) != 1 || got[0] != p {
			t.Errorf("%q parses as %+v, %v; want %+v", p, got, err, p)
		}
	}
}

func TestCheckDeflateResponse(t *testing.T) {
	defaultOffer := deflateParams{clientNoContextTakeover: true, clientBitsSeen: true}
	nct8 := deflateParams{clientNoContextTakeover: true, clientBitsSeen: true, serverNoContextTakeover: true, serverMaxWindowBits: 8}
	tests := []struct {
		name     string
		offers   []deflateParams
		response string
		ok       bool
		err      bool
		want     deflateConfig
	}{
		{"declined", []deflateParams{defaultOffer}, "", false, false, deflateConfig{}},
		{"plain", []deflateParams{defaultOffer}, "permessage-deflate", true, false,
			deflateConfig{serverMaxWindowBits: 15, clientMaxWindowBits: 15}},
		{"client window asked", []deflateParams{defaultOffer}, "permessage-deflate; client_max_window_bits=9", true, false,
			deflateConfig{serverMaxWindowBits: 15, clientMaxWindowBits: 9}},
		{"server window unasked", []deflateParams{defaultOffer}, "permessage-deflate; server_max_window_bits=10", true, false,
			deflateConfig{serverMaxWindowBits: 10, clientMaxWindowBits: 15}},
		{"client window without value", []deflateParams{defaultOffer}, "permessage-deflate; client_max_window_bits", false, true, deflateConfig{}},
		{"client window not offered", []deflateParams{{}}, "permessage-deflate; client_max_window_bits=9", false, true, deflateConfig{}},
		{"no context takeover echoed", []deflateParams{nct8}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=8", true, false,
			deflateConfig{serverNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15}},
		{"no context takeover dropped", []deflateParams{nct8}, "permessage-deflate; server_max_window_bits=8", false, true, deflateConfig{}},
		{"server window dropped", []deflateParams{nct8}, "permessage-deflate; server_no_context_takeover", false, true, deflateConfig{}},
		{"server window larger", []deflateParams{nct8}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", false, true, deflateConfig{}},
		{"second offer answered", []deflateParams{nct8, defaultOffer}, "permessage-deflate", true, false,
			deflateConfig{serverMaxWindowBits: 15, clientMaxWindowBits: 15}},
		{"two extensions", []deflateParams{defaultOffer}, "permessage-deflate, permessage-deflate", false, true, deflateConfig{}},
		{"other extension", []deflateParams{defaultOffer}, "x-webkit-deflate-frame", false, true, deflateConfig{}},
		{"unknown parameter", []deflateParams{defaultOffer}, "permessage-deflate; foo", false, true, deflateConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var values []string
			if tt.response != "" {
				values = []string{tt.response}
			}
			cfg, ok, err := checkDeflateResponse(values, tt.offers)
			if ok != tt.ok || (err != nil) != tt.err || cfg != tt.want {
				t.Fatalf("checkDeflateResponse(%q) = %+v, %t, %v; want %+v, %t, error %t", tt.response, cfg, ok, err, tt.want, tt.ok, tt.err)
			}
		})
	}
}

func TestDeflateAcceptanceAnswer(t *testing.T) {
	tests := []struct {
		name   string
		a      deflateAcceptance
		offer  deflateParams
		ok     bool
		answer string
	}{
		{"default", deflateAcceptance{}, deflateParams{clientBitsSeen: true}, true, "permessage-deflate"},
		{"echo server params", deflateAcceptance{}, deflateParams{serverNoContextTakeover: true, serverMaxWindowBits: 9}, true,
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9"},
		{"request client params", deflateAcceptance{clientNoContextTakeover: true, clientMaxWindowBits: 8}, deflateParams{clientBitsSeen: true}, true,
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=8"},
		{"client hint lower", deflateAcceptance{clientMaxWindowBits: 15}, deflateParams{clientBitsSeen: true, clientMaxWindowBits: 10}, true,
			"permessage-deflate; client_max_window_bits=10"},
		{"client window not offered", deflateAcceptance{clientMaxWindowBits: 8}, deflateParams{}, false, ""},
	}
	for _, tt := range tests {
		resp, _, ok := tt.a.answer(tt.offer)
		if ok != tt.ok || (ok && resp.String() != tt.answer) {
			t.Errorf("%s: answer = %q, %t; want %q, %t", tt.name, resp, ok, tt.answer, tt.ok)
		}
	}
}

// deflateSampleText is compressible text with back-references at every distance.
func deflateSampleText(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	words := strings.Fields("permessage deflate window context takeover frame message octet server client sliding")
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
		if rng.IntN(20) == 0 {
			fmt.Fprintf(&b, "%d\n", rng.IntN(100000))
		}
	}
	return b.Bytes()[:n]
}

func TestDeflateRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 16, 200, 256, 257, 1000, 4096, 40000, 131072}
	for _, bits := range []int{8, 9, 12, 15} {
		for _, takeover := range []bool{true, false} {
			t.Run(fmt.Sprintf("bits=%d/takeover=%t", bits, takeover), func(t *testing.T) {
				c := newDeflateCompressor(bits, takeover)
				d := newDeflateDecompressor(bits, takeover)
				for i, n := range sizes {
					msg := deflateSampleText(n, uint64(i))
					p, err := c.compress(msg)
					if err != nil {
						t.Fatal(err)
					}
					got, err := d.decompress(p, 1<<20)
					if err != nil {
						t.Fatalf("message of %d bytes: %v", n, err)
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("message of %d bytes came back as %d different bytes", n, len(got))
					}
				}
			})
		}
	}
}

func TestDeflateEmptyMessageIsOneOctet(t *testing.T) {
	// RFC 7692 §7.2.3.6: an empty message compresses to the single octet 0x00.
	p, err := newDeflateCompressor(15, true).compress(nil)
	if err != nil || !bytes.Equal(p, []byte{0}) {
		t.Fatalf("compress(empty) = %x, %v; want 00", p, err)
	}
	msg, err := newDeflateDecompressor(15, true).decompress([]byte{0}, 10)
	if err != nil || len(msg) != 0 {
		t.Fatalf("decompress(00) = %q, %v", msg, err)
	}
}

func TestDeflateTailStripped(t *testing.T) {
	msg := deflateSampleText(3000, 1)
	p, err := newDeflateCompressor(15, false).compress(msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasSuffix(p, deflateTail[:]) {
		t.Fatalf("payload still ends in 00 00 ff ff")
	}
	// The payload with the tail appended is a complete sync-flushed stream
	// the standard library decodes.
	r := flate.NewReader(bytes.NewReader(append(p, deflateTail[:]...)))
	got := make([]byte, len(msg))
	if n, err := deflateFullRead(r, got); n != len(msg) || !bytes.Equal(got, msg) {
		t.Fatalf("standard library read %d bytes (%v), want the message", n, err)
	}
}

func deflateFullRead(r interface{ Read([]byte) (int, error) }, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestDeflateContextTakeoverShrinksRepeats(t *testing.T) {
	msg := deflateSampleText(2000, 3)
	with := newDeflateCompressor(15, true)
	without := newDeflateCompressor(15, false)
	for range 2 {
		if _, err := with.compress(msg); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := with.compress(msg)
	b, _ := without.compress(msg)
	if len(a)*4 > len(b) {
		t.Fatalf("a repeated message takes %d bytes with context takeover and %d without; want far fewer with", len(a), len(b))
	}
}

func TestDeflateSmallWindowKeepsNoContext(t *testing.T) {
	// With a window below 15 bits the compressor keeps no context, so its
	// output decodes with a decompressor that expects none.
	c := newDeflateCompressor(10, true)
	d := newDeflateDecompressor(10, false)
	msg := deflateSampleText(1000, 4)
	for range 3 {
		p, err := c.compress(msg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.decompress(p, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeflateDecompressorJudgesSender(t *testing.T) {
	msg := deflateSampleText(4096, 5)
	takeover := newDeflateCompressor(15, true)
	first, _ := takeover.compress(msg)
	second, _ := takeover.compress(msg)
	tests := []struct {
		name     string
		bits     int
		takeover bool
		payloads [][]byte
		want     string
	}{
		{"context taken over though not negotiated", 15, false, [][]byte{first, second}, "before the start of the available history"},
		{"window of 8 bits exceeded", 8, true, [][]byte{first}, "beyond the negotiated window of 256 bytes"},
		{"window of 9 bits exceeded", 9, false, [][]byte{first}, "beyond the negotiated window of 512 bytes"},
		{"limit exceeded", 15, true, [][]byte{first[:0:0]}, ""},
		{"garbage", 15, true, [][]byte{{0xff, 0xff, 0xff}}, "bad permessage-deflate data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDeflateDecompressor(tt.bits, tt.takeover)
			var err error
			for _, p := range tt.payloads {
				if len(p) == 0 {
					_, err = d.decompress(first, 100)
					if err == nil || !strings.Contains(err.Error(), "beyond 100 bytes") {
						t.Fatalf("decompress past the limit: %v", err)
					}
					return
				}
				if _, err = d.decompress(p, 1<<20); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errDeflateData) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDeflateDecodesOtherCompressors checks that the suite decodes what
// other compressors produce: klauspost's flate, which the library uses, and
// the library's own permessage-deflate state with every window it can
// negotiate, with and without context takeover.
func TestDeflateDecodesOtherCompressors(t *testing.T) {
	msgs := [][]byte{deflateSampleText(100, 1), deflateSampleText(5000, 2), deflateSampleText(5000, 2), deflateSampleText(70000, 3), {}}
	t.Run("klauspost", func(t *testing.T) {
		var buf bytes.Buffer
		w, _ := kflate.NewWriter(&buf, 5)
		d := newDeflateDecompressor(15, true)
		for _, m := range msgs {
			buf.Reset()
			w.Write(m)
			w.Flush()
			p := bytes.TrimSuffix(buf.Bytes(), deflateTail[:])
			got, err := d.decompress(p, 1<<20)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("message of %d bytes: %v", len(m), err)
			}
		}
	})
	for _, bits := range []int{8, 9, 11, 15} {
		for _, nct := range []bool{false, true} {
			t.Run(fmt.Sprintf("pmdeflate/bits=%d/no_context_takeover=%t", bits, nct), func(t *testing.T) {
				st := pmdeflate.NewState(pmdeflate.Params{
					ServerNoContextTakeover: nct, ServerMaxWindowBits: bits,
					ClientMaxWindowBits: 15,
				}, true, 9)
				d := newDeflateDecompressor(bits, !nct)
				for _, m := range msgs {
					got, err := d.decompress(st.AppendCompressed(nil, m), 1<<20)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("message of %d bytes: %v", len(m), err)
					}
				}
			})
		}
	}
}

func TestStrictInflateMatchesStandardLibrary(t *testing.T) {
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		msg := deflateSampleText(100000, uint64(level+10))
		w.Write(msg)
		w.Close()
		got, err := strictInflate(buf.Bytes(), nil, 1<<15, 1<<20)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("level %d: strictInflate = %d bytes, %v", level, len(got), err)
		}
	}
}

func TestStrictInflateRejects(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
		want string
	}{
		{"reserved block type", []byte{0x07}, "reserved block type"},
		{"stored length mismatch", []byte{0x00, 0x01, 0x00, 0x00, 0x00}, "do not match"},
		{"truncated stored block", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'a'}, "ends inside a block"},
		{"truncated fixed block", []byte{0x02}, "ends inside a block"},
		// A fixed block whose first symbol is a length: nothing to copy from.
		{"reference with no history", []byte{0x02, 0x02}, "before the start"},
	}
	for _, tt := range tests {
		_, err := strictInflate(tt.src, nil, 1<<15, 1<<20)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzStrictInflate(f *testing.F) {
	for _, level := range []int{flate.BestSpeed, flate.HuffmanOnly, flate.NoCompression} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		w.Write(deflateSampleText(600, 9))
		w.Flush()
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0x00, 0x00, 0xff, 0xff})
	f.Add([]byte{0x03, 0x00})
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := strictInflate(src, nil, 1<<15, 1<<16)
		if err != nil {
			return
		}
		// What the strict inflater accepts, the standard library decodes the same.
		var out bytes.Buffer
		r := flate.NewReader(bytes.NewReader(src))
		_, err = out.ReadFrom(r)
		if !bytes.Equal(out.Bytes(), got) {
			t.Fatalf("strict %x, standard library %x (%v)", got, out.Bytes(), err)
		}
	})
}
