//go:build unix

package websocket

import (
	"os"
	"syscall"
)

// attachPoller lets the reader wait for data through the runtime's poller
// with no buffer borrowed, when the connection has a file descriptor.
func (b *connReader) attachPoller() {
	if sc, ok := b.nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			b.raw = raw
			b.rawFn = b.rawRead
		}
	}
}

// rawRead is called by the poller when the descriptor may be readable. It
// borrows the buffer for the read and gives it back when nothing came, so
// the wait that follows holds no buffer.
func (b *connReader) rawRead(fd uintptr) bool {
	b.buf = getBuffer(b.size)
	*b.buf = (*b.buf)[:cap(*b.buf)]
	for {
		n, err := syscall.Read(int(fd), *b.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			putBuffer(b.buf)
			b.buf = nil
			return false
		case err != nil:
			b.rawN, b.rawErr = 0, os.NewSyscallError("read", err)
		default:
			b.rawN, b.rawErr = n, nil
		}
		b.r, b.w = 0, max(n, 0)
		if b.w == 0 {
			putBuffer(b.buf)
			b.buf = nil
		}
		return true
	}
}
