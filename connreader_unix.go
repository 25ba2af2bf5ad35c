//go:build unix

package websocket

import (
	"io"
	"os"
	"syscall"

	"github.com/duplexws/websocket/internal/wsconn"
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
	b.buf = wsconn.GetBuffer(b.size)
	*b.buf = (*b.buf)[:cap(*b.buf)]
	for {
		n, err := syscall.Read(int(fd), *b.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			wsconn.PutBuffer(b.buf)
			b.buf = nil
			return false
		case err != nil:
			b.rawN, b.rawErr = 0, os.NewSyscallError("read", err)
		default:
			b.rawN, b.rawErr = n, nil
		}
		b.r, b.w = 0, max(n, 0)
		if b.w == 0 {
			wsconn.PutBuffer(b.buf)
			b.buf = nil
		}
		return true
	}
}

// readNow reads what the socket holds into the buffer without waiting for
// more: it returns errWouldBlock when the socket is empty, and sets drained
// when the read emptied it. Going through RawConn keeps it safe against the
// descriptor being closed, and its number reused, by another goroutine.
func (b *connReader) readNow() error {
	if b.raw == nil {
		return b.fill()
	}
	if b.nowFn == nil {
		b.nowFn = b.readNowFD
	}
	b.makeRoom()
	if b.buf == nil {
		b.buf = wsconn.GetBuffer(b.size)
		*b.buf = (*b.buf)[:cap(*b.buf)]
	}
	space := len(*b.buf) - b.w
	if err := b.raw.Read(b.nowFn); err != nil {
		b.release()
		return err
	}
	switch {
	case b.rawErr == syscall.EAGAIN:
		b.drained = true
		b.release()
		return errWouldBlock
	case b.rawErr != nil:
		b.release()
		return os.NewSyscallError("read", b.rawErr)
	case b.rawN == 0:
		b.release()
		return io.EOF
	}
	b.w += b.rawN
	// A TCP read returns all the socket holds up to the space given; a
	// short read emptied it, and what arrives later brings a new event.
	// The peer's end (FIN or reset) may have come with the data the read
	// returned, in the same event: once the poller saw it, read on until
	// the socket returns it.
	b.drained = b.rawN < space && !b.hangup
	return nil
}

// readNowFD is readNow's one read on the descriptor; it never asks the
// runtime to wait.
func (b *connReader) readNowFD(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), (*b.buf)[b.w:])
		if err == syscall.EINTR {
			continue
		}
		b.rawN, b.rawErr = max(n, 0), err
		return true
	}
}
