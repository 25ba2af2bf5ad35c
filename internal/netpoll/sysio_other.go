//go:build unix && (!linux || 386)

package netpoll

import "syscall"

// RawSyscalls says that this build reads and writes through the syscall
// package.
const RawSyscalls = false

// Read reads into p through the syscall package (see sysio_linux.go for
// Linux's raw calls).
func Read(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return n, errno(err)
}

// Write writes what it can of hdr and then p, either of which may be
// empty.
func Write(fd uintptr, hdr, p []byte) (int, syscall.Errno) { return writeFile(fd, hdr, p) }
