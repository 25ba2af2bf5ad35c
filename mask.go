package websocket

import (
	"encoding/binary"
	"math/bits"
)

// mask XORs b with the masking key (RFC 6455 §5.3), starting at key byte 0,
// and returns the key rotated so that a following call continues where this
// one stopped. The key holds the four mask bytes in little-endian order.
// maskBlocks takes the bulk where the CPU has vector instructions for it
// (mask_amd64.go); the rest is done eight bytes at a time, and the tail
// byte by byte.
func mask(key uint32, b []byte) uint32 {
	b = maskBlocks(key, b)
	if len(b) >= 8 {
		k := uint64(key) | uint64(key)<<32
		for len(b) >= 32 {
			v := b[:32]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k)
			binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k)
			binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= byte(key)
		key = bits.RotateLeft32(key, -8)
	}
	return key
}
