package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
)

// TestCompressionEcho runs in the deflate modes, with the compression
// options of each row in place of the mode's.
func TestCompressionEcho(t *testing.T) { run(t, testCompressionEcho, deflateTCP, deflateTLS) }

func testCompressionEcho(t *testing.T, m mode) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 200<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 1500))
	for _, tc := range []struct {
		name           string
		server, client CompressionOptions
		wantExt        string
	}{
		{"defaults", CompressionOptions{}, CompressionOptions{}, "permessage-deflate"},
		{"no context takeover", CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, CompressionOptions{}, "server_no_context_takeover"},
		{"client asks small windows", CompressionOptions{}, CompressionOptions{ServerMaxWindowBits: 9, ClientMaxWindowBits: 10}, "server_max_window_bits=9"},
		{"window 8, compress all", CompressionOptions{Threshold: -1}, CompressionOptions{ServerMaxWindowBits: 8, ClientMaxWindowBits: 8, Threshold: -1, ClientNoContextTakeover: true}, "client_max_window_bits=8"},
		{"level 9", CompressionOptions{Level: 9}, CompressionOptions{Level: 9}, "permessage-deflate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server := tc.server
			client := tc.client
			c := m.echo(t, &AcceptOptions{Compression: &server}).dial(t, &DialOptions{Compression: &client})
			if !strings.Contains(c.Extensions(), tc.wantExt) {
				t.Fatalf("negotiated %q, want it to contain %q", c.Extensions(), tc.wantExt)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i := range 30 {
				var msg []byte
				typ := MessageText
				switch i % 3 {
				case 0:
					msg = text[:(i*997)%len(text)]
				case 1:
					msg, typ = random[:(i*7919)%len(random)], MessageBinary
				case 2:
					msg = []byte(fmt.Sprintf("small %d", i))
				}
				if i%4 == 0 {
					w, _ := c.Writer(ctx, typ)
					for chunk := range slices.Chunk(msg, 3000) {
						w.Write(chunk)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
				} else if err := c.Write(ctx, typ, msg); err != nil {
					t.Fatal(err)
				}
				gotTyp, got, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if gotTyp != typ || !bytes.Equal(got, msg) {
					t.Fatalf("message %d of %d bytes came back as %d bytes", i, len(msg), len(got))
				}
			}
			if err := c.Close(StatusNormalClosure, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCompressionDeclinedWithoutOptions(t *testing.T) {
	t.Parallel()
	url := startEcho(t, nil)
	c := dialT(t, url, &DialOptions{Compression: &CompressionOptions{}})
	if c.Extensions() != "" {
		t.Fatalf("server without compression negotiated %q", c.Extensions())
	}
}

func TestClientRefusesUnofferedExtension(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, brw, _ := http.NewResponseController(w).Hijack()
		defer nc.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
		brw.Flush()
	}))
	defer srv.Close()
	if _, _, err := Dial(context.Background(), srv.URL, nil); !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "offered") {
		t.Fatalf("Dial accepted an extension it did not offer: %v", err)
	}
}

func TestDeflateStreamRefused(t *testing.T) {
	t.Parallel()
	srv := plainTCP.echo(t, &AcceptOptions{Compression: &CompressionOptions{}})
	p := dialRaw(t, srv, "Sec-WebSocket-Extensions: deflate-stream, x-webkit-deflate-frame\r\n")
	// The handshake succeeded without an extension: RSV1 is now a protocol error.
	p.frame(bitFIN|bitRSV1|byte(opText), []byte{0x00})
	if got := p.expectClose(); got != StatusProtocolError {
		t.Fatalf("closed with %v", got)
	}
}

// TestDecompressionBomb sends a small compressed message that inflates far
// past the read limit: the connection closes with 1009 and memory stays
// near the limit.
func TestDecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	errs := make(chan error, 1)
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, &AcceptOptions{Compression: &CompressionOptions{}, ReadLimit: limit})
		if err != nil {
			return
		}
		_, _, err = c.Read(context.Background())
		errs <- err
	}))
	var bomb bytes.Buffer
	fw, _ := flate.NewWriter(&bomb, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB of zeros
		fw.Write(zeros)
	}
	fw.Flush()
	payload := bytes.TrimSuffix(bomb.Bytes(), []byte{0, 0, 0xff, 0xff})
	t.Logf("bomb: %d compressed bytes for 64 MiB", len(payload))

	p := dialRaw(t, srv, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p.frame(bitFIN|bitRSV1|byte(opBinary), payload)
	if got := p.expectClose(); got != StatusMessageTooBig {
		t.Fatalf("closed with %v, want 1009", got)
	}
	err := <-errs
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("Read: %v", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8*limit {
		t.Fatalf("allocated %d MiB to refuse a bomb with a 1 MiB limit", grew>>20)
	}
}

// TestWriterHonoursThreshold checks that a message streamed through Writer
// goes out uncompressed when it ends below the compression threshold, and
// compressed (RSV1, inflating to what was written) when it reaches it, even
// in writes smaller than the threshold.
func TestWriterHonoursThreshold(t *testing.T) {
	t.Parallel()
	long := []byte(strings.Repeat("threshold ", 100))
	tests := []struct {
		name       string
		threshold  int
		writes     [][]byte
		compressed bool
	}{
		{"short", 0, [][]byte{[]byte("hello"), []byte(" world")}, false},
		{"empty", 0, nil, false},
		{"reaches the threshold in small writes", 0, slices.Collect(slices.Chunk(long, 10)), true},
		{"one long write", 0, [][]byte{long}, true},
		{"short under threshold -1", -1, [][]byte{[]byte("hi")}, true},
		{"threshold above the write buffer", 64 << 10, [][]byte{long, long, long, long, long}, true},
	}
	srvDone := make(chan error, 1)
	var current [][]byte
	start := make(chan struct{})
	srv := plainTCP.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		threshold, _ := strconv.Atoi(r.URL.Query().Get("threshold"))
		c, err := Accept(w, r, &AcceptOptions{Compression: &CompressionOptions{Threshold: threshold}})
		if err != nil {
			srvDone <- err
			return
		}
		defer c.CloseNow()
		<-start
		wr, err := c.Writer(r.Context(), MessageText)
		if err == nil {
			for _, p := range current {
				if _, err = wr.Write(p); err != nil {
					break
				}
			}
		}
		if err == nil {
			err = wr.Close()
		}
		srvDone <- err
	}))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			current = tc.writes
			p := dialRawPath(t, srv, "/?threshold="+strconv.Itoa(tc.threshold),
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")
			start <- struct{}{}
			if err := <-srvDone; err != nil {
				t.Fatal(err)
			}
			var payload []byte
			var rsv1 bool
			for first := true; ; first = false {
				h, err := readFrameHeader(p.br)
				if err != nil {
					t.Fatal(err)
				}
				if first {
					rsv1 = h.rsv&bitRSV1 != 0
				}
				b := make([]byte, h.length)
				if _, err := io.ReadFull(p.br, b); err != nil {
					t.Fatal(err)
				}
				payload = append(payload, b...)
				if h.fin {
					break
				}
			}
			want := bytes.Join(tc.writes, nil)
			if rsv1 != tc.compressed {
				t.Fatalf("%d-byte message: RSV1 %v, want %v", len(want), rsv1, tc.compressed)
			}
			if rsv1 {
				zr := flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
				inflated, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				payload = inflated
			}
			if !bytes.Equal(payload, want) {
				t.Fatalf("received %d bytes, want the %d written", len(payload), len(want))
			}
		})
	}
}
