package websocket

import (
	"bufio"
	"io"
	"net"
	"syscall"
)

// connReader is a connection's read buffer. It borrows its buffer from a
// pool only while it holds unread bytes, so a connection waiting for its
// next message holds none: on a TCP connection it waits for data through
// the runtime's poller with the buffer returned, and borrows it again only
// when bytes are there to read. Where the connection has no file descriptor
// (TLS, in-memory pipes) it reads through net.Conn and keeps the buffer only
// while a read is blocked.
type connReader struct {
	nc   net.Conn
	raw  syscall.RawConn // nil when nc has no file descriptor
	size int
	buf  *[]byte // nil while empty
	r, w int     // unread bytes are (*buf)[r:w]

	// Result of the last raw read, set by rawRead.
	rawN   int
	rawErr error
	rawFn  func(fd uintptr) bool // rawRead, bound once
}

func newConnReader(nc net.Conn, size int) *connReader {
	if size <= 0 {
		size = defaultBufferSize
	}
	b := &connReader{nc: nc, size: size}
	b.attachPoller()
	return b
}

// newConnReaderFrom is newConnReader taking over the bytes br has buffered
// already (the handshake's reader may have read past the handshake).
func newConnReaderFrom(nc net.Conn, br *bufio.Reader, size int) *connReader {
	b := newConnReader(nc, size)
	if n := br.Buffered(); n > 0 {
		b.buf = getBuffer(max(n, b.size))
		*b.buf = (*b.buf)[:cap(*b.buf)]
		b.w, _ = io.ReadFull(br, (*b.buf)[:n])
	}
	return b
}

// buffered is the number of unread bytes.
func (b *connReader) buffered() int { return b.w - b.r }

// release returns the buffer once everything in it was read.
func (b *connReader) release() {
	if b.buf != nil && b.r == b.w {
		putBuffer(b.buf)
		b.buf = nil
		b.r, b.w = 0, 0
	}
}

// fill reads at least one more byte into the buffer.
func (b *connReader) fill() error {
	if b.buf != nil && b.r > 0 && b.w == cap(*b.buf) {
		n := copy(*b.buf, (*b.buf)[b.r:b.w])
		b.r, b.w = 0, n
	}
	if b.raw != nil && b.buf == nil {
		if err := b.raw.Read(b.rawFn); err != nil {
			return err
		}
		if b.rawErr != nil {
			return b.rawErr
		}
		if b.rawN == 0 {
			return io.EOF
		}
		return nil
	}
	if b.buf == nil {
		b.buf = getBuffer(b.size)
		*b.buf = (*b.buf)[:cap(*b.buf)]
	}
	n, err := b.nc.Read((*b.buf)[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	b.release()
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// Peek returns the next n bytes without consuming them; n is at most a
// frame header's length.
func (b *connReader) Peek(n int) ([]byte, error) {
	for b.buffered() < n {
		if err := b.fill(); err != nil {
			if b.buffered() > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return (*b.buf)[b.r : b.r+n], nil
}

// Discard skips n bytes.
func (b *connReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if b.buffered() == 0 {
			if err := b.fill(); err != nil {
				return done, err
			}
		}
		k := min(n-done, b.buffered())
		b.r += k
		done += k
		b.release()
	}
	return done, nil
}

// Read reads up to len(p) bytes. Reads at least as large as the buffer go
// straight into p when nothing is buffered.
func (b *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.buffered() == 0 {
		if len(p) >= b.size {
			return b.nc.Read(p)
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*b.buf)[b.r:b.w])
	b.r += n
	b.release()
	return n, nil
}
