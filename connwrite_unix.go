//go:build unix

package websocket

import (
	"io"
	"os"
	"syscall"

	"github.com/duplexws/websocket/internal/netpoll"
)

// vecWriter is a transport that writes a frame's header and payload, whole,
// in one call, waiting while the socket's buffer is full: the engine's
// (fdTransport).
type vecWriter interface {
	WriteVec(hdr, p []byte) error
}

// writeFull writes hdr and then p, which may be empty, whole; the caller
// holds frameLock. Where the reader reads the descriptor (attachPoller), the
// writer writes it too, with netpoll.Write, and waits through the runtime's
// poller while the socket's buffer is full; an engine's transport writes
// its descriptor itself; elsewhere it writes through net.Conn.
func (c *Conn) writeFull(hdr, p []byte) error {
	s := c.br.sys
	if s == nil {
		if w, ok := c.br.nc.(vecWriter); ok {
			return w.WriteVec(hdr, p)
		}
		return c.writeNet(hdr, p)
	}
	if s.wfn == nil {
		s.wfn = c.writeFD
	}
	s.wv = [2][]byte{hdr, p}
	err := s.raw.Write(s.wfn)
	left := len(s.wv[0]) + len(s.wv[1])
	s.wv = [2][]byte{}
	switch {
	case err != nil:
		return err
	case s.werr != 0:
		err, s.werr = os.NewSyscallError("write", s.werr), 0
		return err
	case left > 0:
		return io.ErrShortWrite
	}
	return nil
}

// writeFD is writeFull's write on the descriptor, called by the poller: it
// writes what is left of the frame, and asks the poller to wait when the
// socket takes no more.
func (c *Conn) writeFD(fd uintptr) bool {
	s := c.br.sys
	for len(s.wv[0])+len(s.wv[1]) > 0 {
		n, err := netpoll.Write(fd, s.wv[0], s.wv[1])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != 0:
			s.werr = err
			return true
		case n == 0:
			return true // writeFull reports the short write
		}
		k := min(n, len(s.wv[0]))
		s.wv[0], s.wv[1] = s.wv[0][k:], s.wv[1][n-k:]
	}
	return true
}
