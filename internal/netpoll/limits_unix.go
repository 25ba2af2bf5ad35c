//go:build unix

package netpoll

import "syscall"

// DescriptorLimit returns the process's limit on open file descriptors
// (RLIMIT_NOFILE's soft limit), or 0 when it cannot be read or is
// unlimited.
func DescriptorLimit() int {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	cur := uint64(rl.Cur) // an int64 on some systems
	if cur > 1<<30 {
		return 0 // unlimited, or as good as
	}
	return int(cur)
}
