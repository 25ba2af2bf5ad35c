//go:build linux && !386

package netpoll

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read and Write are the system calls of a connection whose descriptor its
// reader and writer use directly: a WebSocket's, through net's
// syscall.RawConn, and Conn's. They are made raw: without telling the
// scheduler that a system call is under way, which would wake the runtime's
// monitor thread (sysmon) whenever the process had been idle, that is once
// per message on a connection that waits for each one, for three more
// context switches of the monitor thread and as many system calls. A raw
// call must never block, since it holds its P and a stop-the-world would
// wait for it: these pass MSG_DONTWAIT, so that even a descriptor made
// blocking by someone else returns EAGAIN. A descriptor that is no socket
// is read and written as the syscall package does.
//
// Race builds make the same calls, and tell the race detector what the
// syscall package's calls tell it (race.go): that a write orders memory
// before the read that sees its bytes, and that a read writes its buffer.
// 386, which has no direct recvfrom, uses the syscall package's calls
// (sysio_other.go).

// RawSyscalls says that this build reads and writes with the raw calls.
const RawSyscalls = true

// Read reads into p.
func Read(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), syscall.MSG_DONTWAIT, 0, 0)
	if e == syscall.ENOTSOCK {
		n, err := syscall.Read(int(fd), p)
		return n, errno(err)
	}
	if e == 0 {
		raceReadDone(p[:n])
	}
	return int(n), e
}

// Write writes hdr and then p, either of which may be empty, with one
// send or sendmsg. MSG_NOSIGNAL spares the process a SIGPIPE when the peer
// has gone.
func Write(fd uintptr, hdr, p []byte) (int, syscall.Errno) {
	const flags = syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL
	raceWriteStart(hdr, p)
	var n uintptr
	var e syscall.Errno
	if len(hdr) == 0 || len(p) == 0 {
		if len(hdr) == 0 {
			hdr = p
		}
		if len(hdr) == 0 {
			return 0, 0
		}
		n, _, e = syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&hdr[0])), uintptr(len(hdr)), flags, 0, 0)
	} else {
		var iov [2]unix.Iovec
		iov[0].Base, iov[1].Base = &hdr[0], &p[0]
		iov[0].SetLen(len(hdr))
		iov[1].SetLen(len(p))
		msg := unix.Msghdr{Iov: &iov[0]}
		msg.SetIovlen(len(iov))
		n, _, e = syscall.RawSyscall(syscall.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), flags)
	}
	if e == syscall.ENOTSOCK {
		return writeFile(fd, hdr, p)
	}
	return int(n), e
}
