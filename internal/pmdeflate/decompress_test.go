package pmdeflate

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"runtime"
	"testing"
)

// repeatReader yields unit n times, then the last unit without its trailing
// drop bytes, then io.EOF, counting what was read.
type repeatReader struct {
	unit []byte
	n    int
	drop int
	off  int
	read int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	end := len(r.unit)
	if r.n == 1 {
		end -= r.drop
	}
	k := copy(p, r.unit[r.off:end])
	r.off += k
	r.read += int64(k)
	if r.off == end {
		r.off = 0
		r.n--
	}
	return k, nil
}

// bomb returns a compressed message inflating to 1 GiB of zeros, built as a
// 1 KiB deflate unit (1 MiB of zeros) repeated 1024 times. Deflate cannot
// expand more than 1032:1, so a 1 GiB bomb is at least 1 MiB on the wire.
func bomb() *repeatReader {
	zeros := make([]byte, 1<<20)
	unit := append(Compress(nil, zeros, Variant{Level: 1, WindowBits: 15}), syncTail[:]...)
	return &repeatReader{unit: unit, n: 1024, drop: len(syncTail)}
}

func TestDecompressBombStopsAtLimit(t *testing.T) {
	st := NewState(Params{}, true, 1)
	buf := make([]byte, 32<<10)
	unit := bomb().unit
	run := func(limit int64) (int64, error, *repeatReader) {
		src := &repeatReader{unit: unit, n: 1024, drop: len(syncTail)}
		r := st.Reader(src, limit)
		var total int64
		var err error
		for err == nil {
			var n int
			n, err = r.Read(buf)
			total += int64(n)
		}
		if cerr := r.Close(); !errors.Is(cerr, ErrTooLarge) {
			t.Fatalf("Close after a too-large message = %v, want ErrTooLarge", cerr)
		}
		return total, err, src
	}
	run(1 << 20) // warm the pools

	// The bound holds whatever the pools hold: even an inflater and a window
	// allocated afresh fit in it, 256 times less than the bytes delivered.
	const limit = 64 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	total, err, src := run(limit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if total != limit {
		t.Fatalf("delivered %d bytes, want exactly the limit %d", total, limit)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("1 GiB bomb, limit %d: read %d compressed bytes, allocated %d bytes in %d allocations", limit, src.read, alloc, after.Mallocs-before.Mallocs)
	if alloc > limit/256 {
		t.Fatalf("allocated %d bytes while inflating; want a bound independent of the message", alloc)
	}
	if src.read > limit/512 {
		t.Fatalf("read %d compressed bytes for %d inflated; the reader went on past the limit", src.read, limit)
	}
}

func TestDecompressUnitOfBomb(t *testing.T) {
	t.Parallel()
	src := bomb()
	size := len(src.unit)
	src.n = 1
	st := NewState(Params{}, true, 1)
	r := st.Reader(src, -1)
	n, err := io.Copy(io.Discard, r)
	r.Close()
	if err != nil || n != 1<<20 {
		t.Fatalf("unit inflates to %d bytes (%v), want 1 MiB", n, err)
	}
	if size > 1100 {
		t.Fatalf("unit is %d bytes, want about 1 KiB", size)
	}
}

func TestDecompressLimitExact(t *testing.T) {
	t.Parallel()
	msg := corpusMessage(rand.New(rand.NewSource(2)), 5000)
	tests := []struct {
		limit int64
		err   error
	}{{-1, nil}, {5000, nil}, {1 << 30, nil}, {4999, ErrTooLarge}, {0, ErrTooLarge}, {1, ErrTooLarge}}
	for _, tt := range tests {
		server, client := pair(Params{}, 1)
		comp := server.AppendCompressed(nil, msg)
		r := client.Reader(bytes.NewReader(comp), tt.limit)
		got, err := io.ReadAll(r)
		r.Close()
		if !errors.Is(err, tt.err) && !(tt.err == nil && err == nil) {
			t.Fatalf("limit %d: err = %v, want %v", tt.limit, err, tt.err)
		}
		want := msg
		if tt.err != nil {
			want = msg[:tt.limit]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("limit %d: got %d bytes, want the first %d", tt.limit, len(got), len(want))
		}
	}
}

func TestDecompressCorrupt(t *testing.T) {
	t.Parallel()
	for _, payload := range [][]byte{
		{0x07},                         // final block of the reserved type 3
		{0x06},                         // block of type 3
		{0x00, 0x64, 0x00, 0x9b, 0xff}, // stored block of 100 bytes cut short
		{0x00, 0x05, 0x00, 0x00, 0x00}, // stored block whose length check fails
		{0xfc, 0xff, 0xff, 0xff, 0xff}, // dynamic block with nonsense tables
	} {
		st := NewState(Params{}, true, 1)
		r := st.Reader(bytes.NewReader(payload), -1)
		_, err := io.ReadAll(r)
		r.Close()
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("payload % x: err = %v, want ErrCorrupt", payload, err)
		}
	}
}

// A back-reference beyond the history the peer may use is corrupt data.
func TestDecompressDistanceBeyondHistory(t *testing.T) {
	t.Parallel()
	// Fixed-Huffman block: literal 'a', then length 3 at distance 2 (only one
	// byte of history exists), then end of block.
	payload := []byte{0x4a, 0x04, 0x42, 0x00, 0x00}
	st := NewState(Params{ClientNoContextTakeover: true}, true, 1)
	r := st.Reader(bytes.NewReader(payload), -1)
	_, err := io.ReadAll(r)
	r.Close()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestDecompressSourceError(t *testing.T) {
	t.Parallel()
	errNet := errors.New("connection reset")
	st := NewState(Params{}, true, 1)
	r := st.Reader(io.MultiReader(bytes.NewReader([]byte{0x4a}), failingReader{errNet}), -1)
	_, err := io.ReadAll(r)
	if cerr := r.Close(); !errors.Is(cerr, errNet) {
		t.Fatalf("Close = %v, want the source's error", cerr)
	}
	if !errors.Is(err, errNet) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want the source's error as is", err)
	}
}

// Closing a half-read message under context takeover still takes its bytes
// into the window, so the next message, which refers back to it, inflates.
func TestDecompressCloseDrainsUnderTakeover(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(3))
	first := corpusMessage(rng, 20000)
	second := first[10000:14000]
	for _, takeover := range []bool{true, false} {
		p := Params{ClientNoContextTakeover: !takeover, ServerNoContextTakeover: !takeover}
		server, client := pair(p, 1)
		c1 := server.AppendCompressed(nil, first)
		c2 := server.AppendCompressed(nil, second)
		r := client.Reader(bytes.NewReader(c1), -1)
		if _, err := io.ReadFull(r, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		r = client.Reader(bytes.NewReader(c2), -1)
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, second) {
			t.Fatalf("takeover=%v: second message: %v", takeover, err)
		}
		if takeover && len(c2) > len(second)/8 {
			t.Fatalf("second message compressed to %d bytes; context takeover not used", len(c2))
		}
	}
}

// The empty message inflates from an empty payload and from the single 0x00
// byte of RFC 7692 §7.2.3.6.
func TestDecompressEmpty(t *testing.T) {
	t.Parallel()
	for _, payload := range [][]byte{nil, {0x00}, {0x02, 0x00}} {
		st := NewState(Params{}, false, 1)
		r := st.Reader(bytes.NewReader(payload), 0)
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || len(got) != 0 {
			t.Fatalf("payload % x: %q, %v", payload, got, err)
		}
	}
}
