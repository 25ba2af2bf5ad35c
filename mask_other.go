//go:build !amd64 || purego

package websocket

// maskBlocks leaves all of b to mask's word loop: this build has no vector
// masking.
func maskBlocks(key uint32, b []byte) []byte { return b }
