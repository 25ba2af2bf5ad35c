//go:build unix

package netpoll

import "syscall"

// writeFile writes what it can of hdr and then p, either of which may be
// empty, through the syscall package: the first that is not empty, a short
// write that the caller continues.
func writeFile(fd uintptr, hdr, p []byte) (int, syscall.Errno) {
	if len(hdr) == 0 {
		hdr = p
	}
	n, err := syscall.Write(int(fd), hdr)
	return n, errno(err)
}

// errno is the error of a syscall package call, a syscall.Errno or nil, as
// an Errno.
func errno(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return 0
}
