package pmdeflate

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestWindow checks the window against the plain rule it implements: after
// any sequence of writes it holds the last size bytes written, its tail of
// any length is the end of that data, and its buffer never exceeds size.
func TestWindow(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{256, 1024, 32 << 10} {
		w := window{size: size}
		var all []byte
		for range 2000 {
			p := make([]byte, rng.Intn(size/3+1))
			if rng.Intn(50) == 0 {
				p = make([]byte, size+rng.Intn(size))
			}
			rng.Read(p)
			w.write(p)
			all = append(all, p...)
			if cap(w.buf) > size {
				t.Fatalf("size %d: buffer grew to %d", size, cap(w.buf))
			}
			held := all[max(0, len(all)-size):]
			for _, n := range []int{0, 1, rng.Intn(size + 1), size, size + 1} {
				got := w.appendTail(nil, n)
				want := held[max(0, len(held)-n):]
				if !bytes.Equal(got, want) {
					t.Fatalf("size %d, %d bytes written: tail(%d) has %d bytes, not the last %d written", size, len(all), n, len(got), len(want))
				}
			}
			if len(all) > 4*size {
				all = append(all[:0], held...)
			}
		}
	}
}

// TestWindowGrowsWithData checks that a window holds no more than the data
// it was given while that is less than its size.
func TestWindowGrowsWithData(t *testing.T) {
	t.Parallel()
	w := window{size: 32 << 10}
	w.write(make([]byte, 1000))
	if cap(w.buf) > 2000 {
		t.Fatalf("after 1000 bytes the window holds a %d-byte buffer", cap(w.buf))
	}
	for range 40 {
		w.write(make([]byte, 1000))
	}
	if cap(w.buf) != 32<<10 {
		t.Fatalf("a full window holds a %d-byte buffer, want %d", cap(w.buf), 32<<10)
	}
}

func TestPrimeSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, window, want int }{
		{0, 32 << 10, 3 << 10},
		{100, 32 << 10, 3 << 10},
		{1 << 10, 32 << 10, 3 << 10},
		{1 << 10, 4 << 10, 3 << 10},
		{2 << 10, 32 << 10, 6 << 10},
		{2 << 10, 4 << 10, 4 << 10},
		{11 << 10, 32 << 10, 32 << 10},
		{1 << 30, 32 << 10, 32 << 10},
		{0, 1 << 10, 1 << 10},
	} {
		if got := primeSize(tc.n, tc.window); got != tc.want {
			t.Errorf("primeSize(%d, %d) = %d, want %d", tc.n, tc.window, got, tc.want)
		}
	}
}
