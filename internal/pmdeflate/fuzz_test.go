package pmdeflate

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/duplexws/websocket/internal/wshttp"
)

// Offers as real peers send them.
var realOffers = []string{
	"permessage-deflate; client_max_window_bits", // Chrome, Edge, Safari 15+
	"permessage-deflate",                         // Firefox
	"x-webkit-deflate-frame",                     // old Safari
	"permessage-deflate; client_max_window_bits; server_max_window_bits=15",                                                // some proxies
	"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",                                             // Python websockets
	"permessage-deflate; client_max_window_bits=15; server_no_context_takeover",                                            // Node ws tuned
	"permessage-deflate; client_no_context_takeover; server_no_context_takeover",                                           // gorilla
	"permessage-deflate; client_max_window_bits=10; server_max_window_bits=10, permessage-deflate; client_max_window_bits", // RFC 7692 §7.1.3
	`permessage-deflate; server_max_window_bits="10"`,
	"deflate-stream",
	"permessage-deflate; foo",
}

func FuzzParseExtensions(f *testing.F) {
	for _, o := range realOffers {
		f.Add(o, "")
	}
	f.Add("a; b=\"c\\d\", , e", "f")
	f.Fuzz(func(t *testing.T, v1, v2 string) {
		exts, err := ParseExtensions([]string{v1, v2})
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		for _, e := range exts {
			if !wshttp.IsToken(e.Name) {
				t.Fatalf("extension name %q is not a token", e.Name)
			}
			for _, p := range e.Params {
				if !wshttp.IsToken(p.Name) || (p.HasValue && !wshttp.IsToken(p.Value)) || (!p.HasValue && p.Value != "") {
					t.Fatalf("bad parameter %+v", p)
				}
			}
		}
	})
}

func FuzzNegotiate(f *testing.F) {
	for i, o := range realOffers {
		f.Add(o, i%2 == 0, i%3 == 0, []int{0, 8, 12, 15}[i%4], []int{0, 9, 15}[i%3])
	}
	f.Fuzz(func(t *testing.T, offer string, snct, cnct bool, sbits, cbits int) {
		cfg := Params{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct, ServerMaxWindowBits: sbits, ClientMaxWindowBits: cbits}
		p, resp, ok := Negotiate([]string{offer}, cfg)
		if !ok {
			if resp != "" || p != (Params{}) {
				t.Fatalf("declined with %+v, %q", p, resp)
			}
			return
		}
		exts, err := ParseExtensions([]string{resp})
		if err != nil || len(exts) != 1 || exts[0].Name != ExtensionName {
			t.Fatalf("response %q does not re-parse: %v", resp, err)
		}
		w, err := parseWireParams(exts[0].Params)
		if err != nil {
			t.Fatalf("response %q: %v", resp, err)
		}
		if w.serverNoContextTakeover != p.ServerNoContextTakeover || w.clientNoContextTakeover != p.ClientNoContextTakeover ||
			bitsOr(w.serverMaxWindowBits, 15) != p.ServerMaxWindowBits || bitsOr(w.clientMaxWindowBits, 15) != p.ClientMaxWindowBits {
			t.Fatalf("response %q disagrees with %+v", resp, p)
		}
		if !validBits(p.ServerMaxWindowBits) || !validBits(p.ClientMaxWindowBits) {
			t.Fatalf("window bits out of range: %+v", p)
		}
		if snct && !p.ServerNoContextTakeover || cnct && !p.ClientNoContextTakeover {
			t.Fatalf("config %+v not applied: %+v", cfg, p)
		}
		// RFC 7692 §7.1.2.2: client_max_window_bits only if offered.
		if w.clientMaxWindowBitsSeen && !strings.Contains(offer, paramClientMaxWindowBits) {
			t.Fatalf("response %q has client_max_window_bits the offer %q lacks", resp, offer)
		}
	})
}

func FuzzInflate(f *testing.F) {
	rng := rand.New(rand.NewSource(11))
	st := NewState(Params{}, true, 1)
	for _, n := range []int{0, 10, 300, 5000} {
		f.Add(st.AppendCompressed(nil, corpusMessage(rng, n)), int64(1000), true)
	}
	f.Add([]byte{0x4a, 0x04, 0x42, 0x00, 0x00}, int64(-1), false)
	f.Add(bomb().unit, int64(100000), false)
	f.Fuzz(func(t *testing.T, payload []byte, limit int64, takeover bool) {
		limit %= 1 << 22
		st := NewState(Params{ClientNoContextTakeover: !takeover}, true, 1)
		for range 2 { // the second pass runs with whatever window the first left
			r := st.Reader(bytes.NewReader(payload), limit)
			n, err := io.Copy(io.Discard, r)
			r.Close()
			if limit >= 0 && n > limit {
				t.Fatalf("delivered %d bytes past the limit %d", n, limit)
			}
			if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error %v", err)
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(1), uint8(15), uint8(15), false, uint8(1), []byte("hello hello hello"))
	f.Add(int64(2), uint8(8), uint8(9), true, uint8(6), []byte{})
	f.Add(int64(3), uint8(10), uint8(15), false, uint8(9), bytes.Repeat([]byte("ab"), 3000))
	f.Fuzz(func(t *testing.T, seed int64, sb, cb uint8, noTakeover bool, level uint8, data []byte) {
		p := Params{
			ServerNoContextTakeover: noTakeover, ClientNoContextTakeover: !noTakeover && seed%2 == 0,
			ServerMaxWindowBits: 8 + int(sb%8), ClientMaxWindowBits: 8 + int(cb%8),
		}
		lv := 1 + int(level%9)
		server, client := pair(p, lv)
		toClient := &strictInflater{window: 1 << p.ServerMaxWindowBits, takeover: !p.ServerNoContextTakeover}
		toServer := &strictInflater{window: 1 << p.ClientMaxWindowBits, takeover: !p.ClientNoContextTakeover}
		rng := rand.New(rand.NewSource(seed))
		for i := range 12 {
			var msg []byte
			if len(data) > 0 {
				a, b := rng.Intn(len(data)+1), rng.Intn(len(data)+1)
				msg = data[min(a, b):max(a, b)]
			}
			if i%3 == 2 {
				msg = append(append([]byte(nil), msg...), randomMessage(rng, rng.Intn(2000))...)
			}
			from, to, strict := server, client, toClient
			if i%2 == 1 {
				from, to, strict = client, server, toServer
			}
			comp := from.AppendCompressed(nil, msg)
			if got, err := strict.message(comp); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("message %d: strict inflater: %v", i, err)
			}
			r := to.Reader(bytes.NewReader(comp), int64(len(msg)))
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("message %d (%d bytes): %v", i, len(msg), err)
			}
		}
	})
}
