//go:build !unix

package websocket

// descriptorLimit returns 0: the system has no per-process descriptor limit
// to read.
func descriptorLimit() int { return 0 }
