package websocket

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestMask checks mask against the byte-at-a-time definition of RFC 6455
// §5.3 for every length up to a few vector blocks and some long ones, at
// every alignment of a word, and split into two calls at several points,
// the second continuing with the key the first returned.
func TestMask(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := []int{1000, 4096, 4097, 65536, 65536 + 14, 1 << 20}
	for n := range 3*maskBlockTest + 9 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for _, offset := range []int{0, 1, 3, 7, 8, 31} {
			key := rng.Uint32()
			buf := make([]byte, offset+n)
			for i := range buf {
				buf[i] = byte(rng.Uint32())
			}
			want := bytes.Clone(buf[offset:])
			for i := range want {
				want[i] ^= byte(key >> (8 * (i % 4)))
			}
			for _, split := range []int{n, 0, n / 2, n / 3, max(n-1, 0), min(5, n)} {
				got := bytes.Clone(buf[offset:])
				mask(mask(key, got[:split]), got[split:])
				if !bytes.Equal(got, want) {
					t.Fatalf("length %d at offset %d, split at %d, key %#x: wrong bytes", n, offset, split, key)
				}
			}
		}
	}
}

// maskBlockTest is a block length at least that of every build's vector
// masking, so that TestMask's lengths cover several blocks and what
// follows them.
const maskBlockTest = 128
