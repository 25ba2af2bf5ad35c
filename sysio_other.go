//go:build unix && (!linux || 386)

package websocket

import "syscall"

// rawSyscalls says that this build reads and writes through the syscall
// package.
const rawSyscalls = false

// sysRead reads into p through the syscall package (see sysio_linux.go for
// Linux's raw calls).
func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return n, errno(err)
}

// sysWrite writes what it can of hdr and then p, either of which may be
// empty.
func sysWrite(fd uintptr, hdr, p []byte) (int, syscall.Errno) { return writeFile(fd, hdr, p) }
