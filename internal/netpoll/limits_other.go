//go:build !unix

package netpoll

// DescriptorLimit returns 0: the system has no per-process descriptor limit
// to read.
func DescriptorLimit() int { return 0 }
