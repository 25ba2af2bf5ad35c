//go:build unix

package websocket

import (
	"io"
	"os"
	"syscall"

	"github.com/duplexws/websocket/internal/netpoll"
	"github.com/duplexws/websocket/internal/wsconn"
)

// rawIO is how a goroutine-mode connection reads and writes its descriptor:
// through net's syscall.RawConn, waiting in the runtime's poller with no
// buffer borrowed. It is kept apart from the Conn, whose reader points to
// it, so that a connection an engine serves, whose transport reads and
// writes its descriptor itself (fdTransport), holds none of it. The reading
// half is used under readLock, the writing half under frameLock.
type rawIO struct {
	raw syscall.RawConn

	// The reading half: rfn is connReader.rawRead, bound by the first
	// blocking read; rawRead reads into dst when readDirect set it, and
	// leaves its result in n and err.
	rfn func(fd uintptr) bool
	dst []byte
	n   int
	err syscall.Errno

	// The writing half: wfn is Conn.writeFD, bound by the first write; wv
	// is what is left of the frame being written, werr writeFD's error.
	wfn  func(fd uintptr) bool
	wv   [2][]byte
	werr syscall.Errno
}

// attachPoller lets the reader wait for data through the runtime's poller
// with no buffer borrowed, when the connection has a file descriptor.
func (b *connReader) attachPoller() {
	if sc, ok := b.nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			b.sys = &rawIO{raw: raw}
		}
	}
}

// rawRead is called by the poller when the descriptor may be readable. It
// reads into sys.dst when readDirect set it; otherwise it borrows the
// buffer for the read and gives it back when nothing came, so the wait
// that follows holds no buffer.
func (b *connReader) rawRead(fd uintptr) bool {
	s := b.sys
	p := s.dst
	if p == nil {
		b.buf = wsconn.GetBuffer(int(b.size))
		*b.buf = (*b.buf)[:cap(*b.buf)]
		p = *b.buf
	}
	for {
		n, err := netpoll.Read(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			if s.dst == nil {
				wsconn.PutBuffer(b.buf)
				b.buf = nil
			}
			return false
		}
		s.n, s.err = max(n, 0), err
		if s.dst == nil {
			b.r, b.w = 0, s.n
			if b.w == 0 {
				wsconn.PutBuffer(b.buf)
				b.buf = nil
			}
		}
		return true
	}
}

// fillFD fills the empty buffer from the descriptor, waiting through the
// poller with no buffer borrowed; it reports false when the connection has
// no descriptor to read that way.
func (b *connReader) fillFD() (bool, error) {
	if b.sys == nil {
		return false, nil
	}
	_, err := b.readFD(nil)
	return true, err
}

// readDirect reads into p, which is not empty, straight from the
// connection.
func (b *connReader) readDirect(p []byte) (int, error) {
	if b.sys == nil {
		return b.nc.Read(p)
	}
	return b.readFD(p)
}

// readFD reads from the descriptor with rawRead, into p or, when p is nil,
// into a borrowed buffer.
func (b *connReader) readFD(p []byte) (int, error) {
	s := b.sys
	if s.rfn == nil {
		s.rfn = b.rawRead
	}
	s.dst = p
	err := s.raw.Read(s.rfn)
	s.dst = nil
	switch {
	case err != nil:
		return 0, err
	case s.err != 0:
		return 0, os.NewSyscallError("read", s.err)
	case s.n == 0:
		return 0, io.EOF
	}
	return s.n, nil
}

// nowReader is a transport that reads what its socket holds without ever
// waiting: the engine's (fdTransport). It returns syscall.EAGAIN when the
// socket is empty, and closes nothing another goroutine may be using.
type nowReader interface {
	ReadNow(p []byte) (int, error)
}

// readNow reads what the socket holds into the buffer without waiting for
// more: it returns errWouldBlock when the socket is empty, and sets drained
// when the read emptied it. A transport that cannot read without waiting
// is read as fill reads it.
func (b *connReader) readNow() error {
	nr, ok := b.nc.(nowReader)
	if !ok {
		return b.fill()
	}
	b.makeRoom()
	if b.buf == nil {
		b.buf = wsconn.GetBuffer(int(b.size))
		*b.buf = (*b.buf)[:cap(*b.buf)]
	}
	space := len(*b.buf) - b.w
	n, err := nr.ReadNow((*b.buf)[b.w:])
	switch {
	case err == syscall.EAGAIN:
		b.drained = true
		b.release()
		return errWouldBlock
	case err != nil:
		b.release()
		return err
	case n == 0:
		b.release()
		return io.EOF
	}
	b.w += n
	// A TCP read returns all the socket holds up to the space given; a
	// short read emptied it, and what arrives later brings a new event.
	// The peer's end (FIN or reset) may have come with the data the read
	// returned, in the same event: once the poller saw it, read on until
	// the socket returns it.
	b.drained = n < space && !b.hangup
	return nil
}
