//go:build !purego

package websocket

import "golang.org/x/sys/cpu"

// maskBlocks masks the longest prefix of b that is a whole number of
// 128-byte blocks, 32 bytes per instruction with AVX2, and returns the rest
// of b, which starts at key byte 0 again. Payloads shorter than a block, and
// CPUs without AVX2, are left to mask's word loop.
func maskBlocks(key uint32, b []byte) []byte {
	if len(b) < maskBlock || !cpu.X86.HasAVX2 {
		return b
	}
	n := len(b) &^ (maskBlock - 1)
	maskAVX2(key, b[:n])
	return b[n:]
}

// maskBlock is the length maskAVX2 masks per loop: four 32-byte registers.
const maskBlock = 128

// maskAVX2 XORs b, whose length is a non-zero multiple of maskBlock, with
// key repeated (mask_amd64.s).
//
//go:noescape
func maskAVX2(key uint32, b []byte)
